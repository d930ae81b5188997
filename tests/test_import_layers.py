"""The package's module-level imports have no cycle (README, "Development"): every module can
be imported on its own, in any order. Imports inside functions (made lazily, for start-up
time) are left out: they run after every module has loaded."""

import ast
from pathlib import Path

import spikesim

ROOT = Path(spikesim.__file__).parent


def _module_imports() -> dict[str, set[str]]:
    names = {}
    for f in ROOT.rglob("*.py"):
        parts = ("spikesim", *f.relative_to(ROOT).with_suffix("").parts)
        names[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = f
    graph = {}
    for name, f in names.items():
        package = name.split(".") if f.name == "__init__.py" else name.split(".")[:-1]
        edges = set()
        for node in ast.parse(f.read_text()).body:  # module level only
            if isinstance(node, ast.ImportFrom) and node.level:
                base = package[:len(package) - node.level + 1]
                target = ".".join(base + (node.module.split(".") if node.module else []))
                for cand in [target] + [f"{target}.{a.name}" for a in node.names]:
                    if cand in names and cand != name:
                        edges.add(cand)
            elif isinstance(node, (ast.Import, ast.ImportFrom)):
                mods = ([a.name for a in node.names] if isinstance(node, ast.Import)
                        else [node.module])
                edges |= {m for m in mods if m in names and m != name}
        graph[name] = edges
    return graph


def test_no_import_cycle_at_module_level():
    graph = _module_imports()
    assert len(graph) > 50 and graph["spikesim.sim.runner"]
    state: dict[str, int] = {}  # 1 on the current path, 2 done

    def visit(node, path):
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                raise AssertionError("import cycle: " + " -> ".join(path + [node, nxt]))
            if nxt not in state:
                visit(nxt, path + [node])
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node, [])
