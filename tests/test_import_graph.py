"""No import cycles inside either package and no oversized module (issue 14), checked from source.

Every import counts, including one inside a function (a lazy import that only hides a cycle
is still a cycle); only imports under `if TYPE_CHECKING:` are left out, since they never run.
An edge goes to the imported module itself (`from pkg.a import b` reaches `pkg.a.b` when that
is a module, else `pkg.a`), not to the packages above it.
"""

from __future__ import annotations

import ast
import graphlib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = {
    "tap_activecampaign": ROOT / "tap-activecampaign" / "tap_activecampaign",
    "target_brevo": ROOT / "target-brevo" / "target_brevo",
}


def module_names(package: str, root: Path) -> dict[str, Path]:
    names: dict[str, Path] = {}
    for path in root.rglob("*.py"):
        parts = list(path.relative_to(root.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        names[".".join(parts)] = path
    return names


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def imported(module: str, path: Path, known: set[str]) -> set[str]:
    """The package modules that `module` imports (run-time imports only)."""
    tree = ast.parse(path.read_text(), str(path))
    is_package = path.name == "__init__.py"
    found: set[str] = set()

    def resolve(name: str) -> None:
        while name and name not in known:
            name = name.rpartition(".")[0]
        if name and name != module:
            found.add(name)

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            for branch in node.orelse:
                visit(branch)
            return
        if isinstance(node, ast.Import):
            for alias in node.names:
                resolve(alias.name)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".")
                base = base[: len(base) - node.level + (1 if is_package else 0)]
                prefix = ".".join([*base, *([node.module] if node.module else [])])
            else:
                prefix = node.module or ""
            for alias in node.names:
                full = f"{prefix}.{alias.name}"
                resolve(full if full in known else prefix)
        for sub in ast.iter_child_nodes(node):
            visit(sub)

    visit(tree)
    return found


def import_graph(package: str) -> dict[str, set[str]]:
    names = module_names(package, PACKAGES[package])
    known = set(names)
    return {name: imported(name, path, known) for name, path in names.items()}


@pytest.mark.parametrize("package", sorted(PACKAGES))
def test_no_import_cycles(package: str) -> None:
    graph = import_graph(package)
    assert len(graph) > 5, f"found only {sorted(graph)} in {PACKAGES[package]}"
    try:
        tuple(graphlib.TopologicalSorter(graph).static_order())
    except graphlib.CycleError as error:
        cycle = error.args[1]
        pytest.fail(f"{package} has an import cycle: {' -> '.join(cycle)}")


def test_the_checker_sees_a_cycle(tmp_path: Path) -> None:
    """The check itself can fail: two modules importing each other (one lazily) are a cycle."""
    pkg = tmp_path / "demo_pkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("from demo_pkg.b import thing\n")
    (pkg / "b.py").write_text(
        "import typing\nif typing.TYPE_CHECKING:\n    from demo_pkg import c\n"
        "def thing():\n    from . import a\n    return a\n"
    )
    (pkg / "c.py").write_text("from demo_pkg import b\n")
    names = module_names("demo_pkg", pkg)
    graph = {n: imported(n, p, set(names)) for n, p in names.items()}
    assert graph["demo_pkg.b"] == {"demo_pkg.a"}  # the TYPE_CHECKING import is not an edge
    assert graph["demo_pkg.c"] == {"demo_pkg.b"}
    with pytest.raises(graphlib.CycleError):
        tuple(graphlib.TopologicalSorter(graph).static_order())


MAX_MODULE_LINES = 400


@pytest.mark.parametrize("package", sorted(PACKAGES))
def test_modules_stay_small(package: str) -> None:
    """Issue 14: no module over ~400 lines, so each one can be held in a newcomer's head."""
    sizes = {
        str(path.relative_to(ROOT)): len(path.read_text().splitlines())
        for path in module_names(package, PACKAGES[package]).values()
    }
    too_big = {path: n for path, n in sorted(sizes.items()) if n > MAX_MODULE_LINES}
    assert not too_big, f"modules over {MAX_MODULE_LINES} lines: {too_big}"
