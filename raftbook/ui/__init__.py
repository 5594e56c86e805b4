"""What a person sees: text descriptions, the networkx graph and SVG picture, tables and the ipywidgets widget."""
