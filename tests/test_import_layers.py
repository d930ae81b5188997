"""Imports flow one way (README, "Development"). No module imports another that imports it
back, counting the imports made inside functions (lazily, for start-up time): every module can
be imported on its own, in any order, and read without knowing the modules above it. Each
package imports only packages of lower layers (:data:`LAYERS`), so there is no cycle between
packages either."""

import ast
from pathlib import Path

import spikesim

ROOT = Path(spikesim.__file__).parent

#: the packages (a folder of spikesim/ or a module at its top; ``spikesim`` is
#: spikesim/__init__.py), lowest first. A package imports only packages of lower layers; the
#: packages of one layer import none of each other. README, "Development", lists the same.
LAYERS = (
    ("errors", "_version", "lazyjax"),
    ("core",),
    ("inputs",),
    ("models",),
    ("equations",),
    ("config",),
    ("io",),
    ("sim",),
    ("analysis", "cluster"),
    ("describe", "inspect"),
    ("plot",),
    ("api",),
    ("spikesim",),
    ("cli",),
    ("__main__",),
)


def _modules() -> dict[str, Path]:
    names = {}
    for f in ROOT.rglob("*.py"):
        parts = ("spikesim", *f.relative_to(ROOT).with_suffix("").parts)
        names[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = f
    return names


def _imports(lazy: bool) -> dict[str, list[tuple[str, int]]]:
    """Module -> the spikesim modules it imports, with the line of each import: at module
    level only, or (``lazy``) also inside functions."""
    names = _modules()
    graph = {}
    for name, f in names.items():
        package = name.split(".") if f.name == "__init__.py" else name.split(".")[:-1]
        tree = ast.parse(f.read_text())
        edges = []
        for node in ast.walk(tree) if lazy else tree.body:
            if isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package[:len(package) - node.level + 1]
                    target = ".".join(base + (node.module.split(".") if node.module else []))
                else:
                    target = node.module
                # `from . import x` imports the module x; `from .x import y`, the module x
                cands = [f"{target}.{a.name}" for a in node.names]
                found = [c for c in cands if c in names] or [target]
            elif isinstance(node, ast.Import):
                found = [a.name for a in node.names]
            else:
                continue
            edges += [(m, node.lineno) for m in found if m in names and m != name]
        graph[name] = edges
    return graph


def _package(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else parts[0]


def test_no_import_cycle_between_modules():
    graph = {name: {m for m, _ in edges} for name, edges in _imports(lazy=True).items()}
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


def test_packages_import_only_lower_layers():
    layer = {p: i for i, names in enumerate(LAYERS, 1) for p in names}
    names = _modules()
    unplaced = sorted({_package(m) for m in names} - set(layer))
    assert not unplaced, f"packages in no layer: {unplaced}; add them to LAYERS (and README)"
    graph = _imports(lazy=True)
    # inside a method: the imports inside functions are read
    assert any(m == "spikesim.models.spike_timing" for m, _ in graph["spikesim.models.base"])
    wrong = []
    for name, edges in sorted(graph.items()):
        here = _package(name)
        for target, line in edges:
            there = _package(target)
            if there != here and layer[there] >= layer[here]:
                wrong.append(f"{names[name].relative_to(ROOT.parent)}:{line}: {name} imports "
                             f"{target}: {there} (layer {layer[there]}) is not below {here} "
                             f"(layer {layer[here]})")
    assert not wrong, ("imports against the layers (LAYERS in this file, lowest first; README, "
                       "\"Development\"): move the import's target down, or the code that "
                       "needs it up\n" + "\n".join(wrong))
