"""Searching for bugs: the state space, breadth-first exploration, seeded fault campaigns and their minimizer."""
