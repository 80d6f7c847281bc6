"""The code's layout: imports point one way, between packages and inside them.

Between packages: models/ -> ingest/ -> lifelog/ -> ui/ (each imports only the ones before it).
Inside ingest/ and lifelog/: the layer order that each package's `__init__.py` declares in
`LAYERS`, lowest first. Every import counts, also one inside a function or under TYPE_CHECKING:
a lazy back-import is still a back-import. Read with `ast`, nothing is imported.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("models", "ingest", "lifelog", "ui")  # the floors, lowest first
LAYERED = ("ingest", "lifelog")


def module_names(package: str) -> dict[str, Path]:
    """Module name inside the package ("store", "semantic.people", "" for the package itself) -> file."""
    base = ROOT / package
    out = {}
    for path in sorted(base.rglob("*.py")):
        parts = list(path.relative_to(base).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


def imports_of(source: str, package: str, modules: set[str], this: str) -> list[tuple[str, int, str]]:
    """(package, line, module inside it) for each import of a project package in some source."""
    found: list[tuple[str, int, str]] = []

    def add(dotted: str, line: int, names: list[str] = ()) -> None:  # type: ignore[assignment]
        top, _, rest = dotted.partition(".")
        if top not in PACKAGES:
            return
        if top != package:
            found.append((top, line, rest))
            return
        targets = [f"{rest}.{n}".lstrip(".") for n in names if f"{rest}.{n}".lstrip(".") in modules] or [rest]
        for t in targets:
            while t and t not in modules:  # a name inside a module: the module
                t = t.rpartition(".")[0]
            if t != this:
                found.append((top, line, t))

    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                add(alias.name, node.lineno)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            add(node.module, node.lineno, [a.name for a in node.names])
    return found


def declared_layers(package: str) -> dict[str, int]:
    tree = ast.parse((ROOT / package / "__init__.py").read_text(encoding="utf-8"))
    for node in tree.body:
        target = node.target if isinstance(node, ast.AnnAssign) else (node.targets[0] if isinstance(node, ast.Assign) else None)
        if isinstance(target, ast.Name) and target.id == "LAYERS":
            layers = ast.literal_eval(node.value)  # type: ignore[arg-type]
            return {name: i for i, layer in enumerate(layers) for name in layer}
    raise AssertionError(f"{package}/__init__.py declares no LAYERS")


def violations(package: str, sources: dict[str, str] | None = None) -> list[str]:
    """Every import that runs against the floors or the package's layers, and every cycle."""
    files = module_names(package)
    sources = sources or {name: path.read_text(encoding="utf-8") for name, path in files.items()}
    floor = PACKAGES.index(package)
    layers = declared_layers(package) if package in LAYERED else {}
    problems: list[str] = []
    graph: dict[str, set[str]] = {name: set() for name in sources}
    for name, source in sources.items():
        where = f"{package}/{name.replace('.', '/') or '__init__'}.py"
        for top, line, target in imports_of(source, package, set(sources), name):
            if top != package:
                if PACKAGES.index(top) > floor:
                    problems.append(f"{where}:{line} imports {top}, a floor above {package}")
                continue
            graph[name].add(target)
            if not layers or name == "":
                continue  # the package's own __init__ is its public face, above every layer
            if name not in layers:
                problems.append(f"{where} is in no layer of {package}.LAYERS")
            elif target == "" or target not in layers:
                problems.append(f"{where}:{line} imports {package}.{target or '__init__'}, which is in no layer")
            elif layers[target] > layers[name]:
                problems.append(f"{where}:{line} imports {package}.{target} from a higher layer")
    # cycles, among modules of one layer too
    state: dict[str, int] = {}

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                problems.append(f"import cycle in {package}: " + " -> ".join(path[path.index(nxt):] + [nxt]))
            elif nxt not in state:
                visit(nxt, path + [nxt])
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])
    return problems


@pytest.mark.parametrize("package", PACKAGES)
def test_imports_point_one_way(package: str) -> None:
    assert violations(package) == []


@pytest.mark.parametrize("package", LAYERED)
def test_every_module_has_a_layer(package: str) -> None:
    layers = declared_layers(package)
    modules = {name for name in module_names(package) if name}
    assert sorted(modules - set(layers)) == [], "modules missing from LAYERS"
    assert sorted(set(layers) - modules) == [], "LAYERS names modules that do not exist"


def test_a_back_import_is_caught() -> None:
    """The check fails on a deliberately added back-import, even a lazy one, and on a cycle."""
    files = module_names("lifelog")
    sources = {name: path.read_text(encoding="utf-8") for name, path in files.items()}
    back = dict(sources, store=sources["store"] + "\n\ndef _later():\n    from lifelog.memory import Memory\n")
    assert any("lifelog/store.py" in p and "higher layer" in p for p in violations("lifelog", back))
    assert any("import cycle" in p for p in violations("lifelog", back))
    upward = dict(sources, sql=sources["sql"] + "\nimport ui.app\n")
    assert any("a floor above" in p for p in violations("lifelog", upward))


def test_no_module_is_long_without_a_reason() -> None:
    """Past ~400 lines a module must say in its docstring why it stays whole."""
    long = []
    for package in PACKAGES:
        for name, path in module_names(package).items():
            text = path.read_text(encoding="utf-8")
            if text.count("\n") > 420 and "stays whole" not in (ast.get_docstring(ast.parse(text)) or ""):
                long.append(f"{path.relative_to(ROOT)} ({text.count(chr(10))} lines)")
    assert long == []
