"""The layers of docs/architecture.md hold: import-linter's contracts (pyproject.toml) are
kept, no module imports another in a cycle of stages, and no module grows past 400 lines."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from .conftest import REPO

SOURCE = REPO / "src" / "infolettre"
MAX_LINES = 400
#: Modules allowed over the limit, each with the reason (the list only shrinks).
OVERSIZED: dict[str, str] = {}


def test_import_contracts_are_kept():
    """An import only ever points down the layers (front doors, actions, stages, foundation,
    base); a stage imports no other stage but the ones named in the contract."""
    linter = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run([str(linter), "--config", str(REPO / "pyproject.toml")],
                            cwd=REPO, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "BROKEN" not in result.stdout and "KEPT" in result.stdout


def test_no_module_imports_itself_through_others():
    """No import cycle, not even one for type checking only: each module can be read after
    the ones it imports (grimp is the graph import-linter checks)."""
    import grimp

    graph = grimp.build_graph("infolettre")
    cycles = [sorted(group) for group in _strongly_connected(graph) if len(group) > 1]
    assert cycles == []


def _strongly_connected(graph) -> list[set[str]]:
    """Tarjan's strongly connected components of the module graph, iteratively."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[set[str]] = []
    for root in sorted(graph.modules):
        if root in index:
            continue
        work = [(root, iter(sorted(graph.find_modules_directly_imported_by(root))))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(
                        graph.find_modules_directly_imported_by(child)))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                group = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.add(member)
                    if member == node:
                        break
                groups.append(group)
    return groups


def test_no_module_is_over_400_lines():
    """Small modules with one purpose: a module over 400 lines is split (or listed above
    with the issue that splits it)."""
    sizes = {path.relative_to(SOURCE).as_posix(): len(path.read_text(encoding="utf-8")
                                                        .splitlines())
             for path in SOURCE.rglob("*.py")}
    over = {name: n for name, n in sizes.items() if n > MAX_LINES and name not in OVERSIZED}
    assert over == {}
    assert all(sizes.get(name, 0) > MAX_LINES for name in OVERSIZED), \
        "a module listed in OVERSIZED is small now: take it off the list"
