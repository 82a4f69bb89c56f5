"""No import cycles between facecraft's modules.

The graph is read with ``ast`` from each module's top-level imports (``if TYPE_CHECKING:`` blocks and
``try:`` bodies included: a cycle that only type checkers see is still a tangle a reader has to unpick).
Imports inside functions are allowed: they are how heavy dependencies load lazily.
"""

from __future__ import annotations

import ast
from pathlib import Path

import facecraft

PACKAGE = Path(facecraft.__file__).parent


def module_names(root: Path) -> dict[str, Path]:
    """Dotted module name -> file, for every .py under package folder ``root`` (packages by their __init__)."""
    out = {}
    for path in root.rglob("*.py"):
        parts = list(path.relative_to(root.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


def _top_level_imports(body: list[ast.stmt]) -> list[ast.Import | ast.ImportFrom]:
    found: list[ast.Import | ast.ImportFrom] = []
    for node in body:
        if isinstance(node, ast.Import | ast.ImportFrom):
            found.append(node)
        elif isinstance(node, ast.If):
            found += _top_level_imports(node.body) + _top_level_imports(node.orelse)
        elif isinstance(node, ast.Try):
            found += _top_level_imports(node.body + node.orelse + node.finalbody)
            for handler in node.handlers:
                found += _top_level_imports(handler.body)
    return found


def import_graph(root: Path) -> dict[str, set[str]]:
    """Module -> the package modules it imports at top level (``from pkg import sub`` names ``pkg.sub``)."""
    modules = module_names(root)
    top = root.name

    def known(name: str) -> str | None:
        while name and name not in modules:
            name = name.rpartition(".")[0]
        return name or None

    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        deps: set[str | None] = set()
        for node in _top_level_imports(ast.parse(path.read_text(), str(path)).body):
            if isinstance(node, ast.Import):
                deps |= {known(a.name) for a in node.names if a.name.split(".")[0] == top}
                continue
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module or ""
            if source.split(".")[0] != top:
                continue
            for alias in node.names:
                full = f"{source}.{alias.name}"
                deps.add(full if full in modules else known(source))
        graph[name] = {d for d in deps if d is not None and d != name}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_facecraft_has_no_import_cycles() -> None:
    graph = import_graph(PACKAGE)
    assert len(graph) > 100 and "facecraft.swap.run" in graph["facecraft.swap"]
    found = cycles(graph)
    described = [
        " <-> ".join(c) + ": " + "; ".join(f"{m} -> {sorted(graph[m] & set(c))}" for m in c) for c in found
    ]
    assert not found, "import cycles:\n" + "\n".join(described)


def test_the_stages_import_each_other_without_cycles() -> None:
    """Between facecraft's sub-packages (face, extract, swap, evaluate, provenance, ...) too: a module of one
    may not need a module of another that needs the first."""
    graph = import_graph(PACKAGE)

    def package(name: str) -> str:
        return ".".join(name.split(".")[:2])

    packages: dict[str, set[str]] = {}
    for module, deps in graph.items():
        packages.setdefault(package(module), set()).update(
            package(d) for d in deps if package(d) != package(module)
        )
    assert not cycles(packages), cycles(packages)


def test_the_checker_sees_the_cycles_it_must_refuse(tmp_path: Path) -> None:
    """A package whose __init__ imports a plugin that imports the package back (the old renderers shape), and two
    modules that import each other only for type checking (the old swap images <-> run shape)."""
    pkg = tmp_path / "toy"
    (pkg / "plugins").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "plugins" / "__init__.py").write_text("from toy.plugins import one\n")
    (pkg / "plugins" / "one.py").write_text("from toy.plugins import register\n")
    (pkg / "run.py").write_text("from .images import swap_images\n")
    (pkg / "images.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from toy.run import Report\n"
    )
    (pkg / "lazy.py").write_text("def f():\n    from toy import run\n")
    (pkg / "base.py").write_text("import toy.lazy\n")
    found = cycles(import_graph(pkg))
    assert sorted(found) == [["toy.images", "toy.run"], ["toy.plugins", "toy.plugins.one"]]
