"""The house rules of the source tree: small modules, no import circles, packages that name their modules,
and arrows that point one way (docs/design.md, "Packages and the arrows between them")."""
from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

from tests.support.imports import imported_from

ROOT = Path(__file__).resolve().parents[1]
MAX_LINES = 400
# log_constructs/_lambda_src is a link to lambda_src: its modules are lambda_src's, counted once.
LINK = ROOT / "log_constructs" / "_lambda_src"


def _modules() -> dict[str, Path]:
    """Dotted name -> file of every module in log_constructs/ and lambda_src/ (lambda_src's are top level)."""
    found = {}
    for base, prefix in ((ROOT / "log_constructs", ("log_constructs",)), (ROOT / "lambda_src", ())):
        for path in sorted(base.rglob("*.py")):
            relative = path.relative_to(base)
            if path.is_relative_to(LINK) or {"__pycache__", "build"} & set(relative.parts):
                continue
            parts = (*prefix, *relative.with_suffix("").parts)
            found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


MODULES = _modules()


def _imports(name: str, path: Path) -> set[str]:
    """The modules of the tree that ``name`` imports anywhere in its file (lazy imports count)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    targets: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            candidates = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = imported_from(node, package)
            candidates = [f"{base}.{alias.name}" if f"{base}.{alias.name}".replace(
                "log_constructs._lambda_src.", "") in MODULES else base for alias in node.names]
        else:
            continue
        for candidate in candidates:
            candidate = candidate.replace("log_constructs._lambda_src.", "")
            while candidate and candidate not in MODULES:  # ``import a.b.c``: the deepest module of the tree
                candidate = candidate.rpartition(".")[0]
            if candidate and candidate != name:
                targets.add(candidate)
    return targets


GRAPH = {name: _imports(name, path) for name, path in MODULES.items()}


def test_no_module_is_over_400_lines():
    long = {name: n for name, path in MODULES.items() if (n := len(path.read_text().splitlines())) > MAX_LINES}
    assert long == {}


def test_no_import_circle():
    # GIVEN the import graph / THEN no strongly connected component has more than one module (Tarjan)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    circles: list[list[str]] = []
    sys.setrecursionlimit(max(10_000, sys.getrecursionlimit()))

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in GRAPH[node]:
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                circles.append(sorted(component))

    for node in GRAPH:
        if node not in index:
            visit(node)
    assert circles == []


def _public_modules(package: str) -> list[str]:
    folder = MODULES[package].parent
    return sorted(p.stem for p in folder.glob("*.py") if not p.name.startswith("_")) + sorted(
        p.name for p in folder.iterdir() if (p / "__init__.py").is_file() and not p.name.startswith("_")
        and not p.is_symlink())


def test_each_package_docstring_names_every_public_module():
    missing = {}
    for package, path in MODULES.items():
        if path.name != "__init__.py":
            continue
        doc = ast.get_docstring(ast.parse(path.read_text())) or ""
        unnamed = [m for m in _public_modules(package)
                   if not re.search(rf"(?<![\w.]){re.escape(package)}\.{m}\b|``{m}``|`{m}`|\b{m}\.py\b", doc)]
        if unnamed:
            missing[package] = unnamed
    assert missing == {}


def _roots(name: str) -> set[str]:
    return {target.split(".")[0] for target in GRAPH[name]}


def test_the_arrows_point_one_way():
    functions = {"log_shipper", "log_alerts", "log_group_governor", "opensearch_setup"}
    for name in MODULES:
        top = name.split(".")[0]
        # THEN applications' code (logship) depends on nothing of the functions, the operators' tools or the constructs
        if top == "logship":
            assert _roots(name) <= {"logship"}, name
        # AND the shared client on logship only; the operators' tools on neither the functions nor the constructs
        elif top == "opensearch_client":
            assert _roots(name) <= {"opensearch_client", "logship"}, name
        elif top == "logops":
            assert _roots(name) <= {"logops", "opensearch_client", "logship"}, name
        # AND no function imports another function or the operators' tools
        elif top in functions:
            assert not _roots(name) & (functions - {top} | {"logops", "log_constructs"}), name
