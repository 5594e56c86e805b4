"""Strip outputs and run-time metadata from notebooks before they are committed.

A committed notebook holds only what its author wrote: cell sources, cell tags
and the kernel it runs on. Outputs, execution counts, widget state and editor
metadata are run-time noise: they bloat diffs and leak one person's session
into everyone's copy.

    python scripts/strip_notebooks.py            # strip notebooks/*.ipynb in place
    python scripts/strip_notebooks.py a.ipynb    # strip the named notebooks
    python scripts/strip_notebooks.py --check    # list unstripped notebooks, exit 1 if any
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
KEEP_CELL_METADATA = ("tags",)
KEEP_NOTEBOOK_METADATA = ("kernelspec", "language_info")


def stripped(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """A copy of ``nb`` with outputs, execution counts and run-time metadata removed."""
    nb = nbformat.from_dict(nb)
    meta = {k: nb.metadata[k] for k in KEEP_NOTEBOOK_METADATA if k in nb.metadata}
    if "language_info" in meta:  # the version fields change with every kernel; keep the name
        meta["language_info"] = {"name": meta["language_info"].get("name", "python")}
    nb.metadata = nbformat.NotebookNode(meta)
    for cell in nb.cells:
        cell.metadata = nbformat.NotebookNode(
            {k: cell.metadata[k] for k in KEEP_CELL_METADATA if cell.metadata.get(k)})
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
    return nb


def is_stripped(nb: nbformat.NotebookNode) -> bool:
    return stripped(nb) == nbformat.from_dict(nb)


def problems(nb: nbformat.NotebookNode) -> list[str]:
    """What is left in ``nb`` that stripping would remove, in words (empty when clean)."""
    found = []
    for k, cell in enumerate(nb.cells):
        if cell.cell_type == "code" and cell.get("outputs"):
            found.append(f"cell {k} has outputs")
        if cell.cell_type == "code" and cell.get("execution_count") is not None:
            found.append(f"cell {k} has an execution count")
        extra = set(cell.metadata) - set(KEEP_CELL_METADATA)
        if extra:
            found.append(f"cell {k} has metadata {sorted(extra)}")
    extra = set(nb.metadata) - set(KEEP_NOTEBOOK_METADATA)
    if extra:
        found.append(f"notebook metadata {sorted(extra)}")
    if not found and not is_stripped(nb):
        found.append("run-time metadata (language_info details or empty tags)")
    return found


def write(nb: nbformat.NotebookNode, path: Path) -> None:
    """Write ``nb`` the way the repository keeps notebooks (1-space JSON indent, final newline)."""
    nbformat.validate(nb)
    text = nbformat.writes(nb, version=4)
    Path(path).write_text(text if text.endswith("\n") else text + "\n", encoding="utf-8")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="*", type=Path,
                        help="notebooks to strip (default: notebooks/*.ipynb)")
    parser.add_argument("--check", action="store_true",
                        help="change nothing; list notebooks that need stripping and exit 1 if any")
    args = parser.parse_args(argv)
    paths = args.paths or sorted((ROOT / "notebooks").glob("*.ipynb"))
    dirty = 0
    for path in paths:
        if not path.is_file():
            print(f"{path}: no such notebook", file=sys.stderr)
            return 2
        nb = nbformat.read(path, as_version=4)
        found = problems(nb)
        if not found:
            continue
        dirty += 1
        if args.check:
            print(f"{path}: " + "; ".join(found))
        else:
            write(stripped(nb), path)
            print(f"stripped {path}")
    if args.check and dirty:
        print(f"{dirty} notebook(s) need stripping: run python scripts/strip_notebooks.py",
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
