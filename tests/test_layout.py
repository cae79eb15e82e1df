"""The package's layout rules, read from the source: parts import only the parts below them, the top of the
package stays small, and no private name is imported across modules."""

from __future__ import annotations

import ast
from pathlib import Path

PKG = Path(__file__).resolve().parents[1] / "trm_submit"
BASE = {"config", "errors", "budget", "devices"}  # top-level modules every part may use
ENTRY = {"__init__", "__main__", "cli", "kaggle"}  # top-level entry points: may use every part
ALLOWED = {  # part -> the parts it may import
    "grids": set(),
    "io": {"grids"},
    "trm": {"grids", "io"},
    "learn": {"grids", "io", "trm"},
    "official": {"grids", "io", "trm"},
    "search": {"grids", "io"},
    "report": {"grids", "io"},
    "run": {"grids", "io", "trm", "learn", "official", "search"},
}


def _imports(path: Path) -> list[tuple[str, str]]:
    """(absolute module imported from, name) for every `from ... import` of the package in `path`."""
    rel = path.relative_to(PKG.parent).with_suffix("")
    here = list(rel.parts[:-1]) if rel.name != "__init__" else list(rel.parts[:-1])
    out = []
    for node in ast.walk(ast.parse(path.read_text())):
        if not isinstance(node, ast.ImportFrom):
            continue
        if node.level:
            base = here[:len(here) - node.level + 1]
            module = ".".join(base + ([node.module] if node.module else []))
        elif node.module and node.module.split(".")[0] == "trm_submit":
            module = node.module
        else:
            continue
        out += [(module, alias.name) for alias in node.names]
    return out


def _part(module: str) -> str:
    """The part (folder) or top-level module a dotted name of the package belongs to."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def test_parts_import_only_the_parts_below_them():
    wrong = []
    for path in PKG.rglob("*.py"):
        rel = path.relative_to(PKG)
        mine = rel.parts[0] if len(rel.parts) > 1 else rel.stem
        for module, name in _imports(path):
            target = _part(module) or name
            if target == mine or target in BASE or mine in ENTRY:
                continue
            if mine in BASE or target not in ALLOWED.get(mine, set()):
                wrong.append(f"{rel}: from {module} import {name}")
    assert not wrong, wrong


def test_every_part_is_listed_and_the_top_stays_small():
    folders = {p.name for p in PKG.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    assert folders == set(ALLOWED)
    top = {p.stem for p in PKG.glob("*.py")}
    assert top <= BASE | ENTRY and len(top) <= 12, sorted(top)


def test_no_private_name_is_imported_across_modules():
    files = list(PKG.rglob("*.py")) + list((PKG.parent / "tests").glob("*.py"))
    private = [f"{p.name}: {m}.{n}" for p in files for m, n in (_imports(p) if PKG in p.parents else [])
               if n.startswith("_") and not n.startswith("__")]
    for p in (PKG.parent / "tests").glob("*.py"):
        for node in ast.walk(ast.parse(p.read_text())):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("trm_submit"):
                private += [f"{p.name}: {node.module}.{a.name}" for a in node.names
                            if a.name.startswith("_") and not a.name.startswith("__")]
    assert not private, private
