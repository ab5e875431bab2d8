"""The shape of `services/`: layers import downward only, no import cycles, and the
runtime imports nothing of A2A, httpx, Streamlit or the rest of `services/`.

Read from the source (ast), so the check also covers imports inside functions; imports
under `if TYPE_CHECKING:` are skipped, since they never run.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SERVICES = ROOT / "services"

# Lowest first: a module may import its own layer and the layers before it, never later.
LAYERS: list[set[str]] = [
    {"runtime"},
    {"errors", "urls", "safe_text", "redact", "replies"},
    {"formats"},
    {"inspector"},
    {"client"},
    {"store"},
    {"push"},
    {"agent_check"},
    {"demo_agent"},
    {"health"},
    {"session"},
]
RANK = {name: rank for rank, names in enumerate(LAYERS) for name in names}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {
    module_name(path): path
    for path in SERVICES.rglob("*.py")
    if "migrations" not in path.relative_to(SERVICES).parts
}


def _type_checking_only(node: ast.AST) -> bool:
    return isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)


def imported_names(path: Path) -> set[str]:
    """Every module name `path` imports when it runs (`from a import b` counts `a.b`)."""
    names: set[str] = set()
    package = module_name(path) if path.name == "__init__.py" else module_name(path.parent)

    def visit(node: ast.AST) -> None:
        if _type_checking_only(node):
            return
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(ast.parse(path.read_text(), str(path)))
    return names


def edges(name: str) -> set[str]:
    """The services modules `name` runs when imported: what it imports, and the
    packages above those (Python runs a package's `__init__` before its modules),
    except its own packages, which are already being imported."""
    own = {".".join(name.split(".")[:i]) for i in range(1, name.count(".") + 1)}
    found: set[str] = set()
    for imported in imported_names(MODULES[name]):
        parts = imported.split(".")
        for i in range(2, len(parts) + 1):
            prefix = ".".join(parts[:i])
            if prefix in MODULES and prefix not in own and prefix != name:
                found.add(prefix)
    return found


def layer(name: str) -> str:
    return name.split(".")[1]


def test_every_services_module_belongs_to_a_layer():
    missing = sorted({layer(n) for n in MODULES if n != "services"} - RANK.keys())
    assert not missing, f"add {missing} to LAYERS"


def test_layers_import_downward_only():
    upward = [
        f"{name} -> {target}"
        for name in MODULES
        if name != "services"
        for target in edges(name)
        if RANK[layer(target)] > RANK[layer(name)]
    ]
    assert not upward, upward


def test_no_import_cycle_in_services():
    graph = {name: edges(name) for name in MODULES}
    # Tarjan's strongly connected components, iteratively.
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []
    counter = 0
    for start in graph:
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    cycles.append(sorted(component))
    assert not cycles, cycles


def test_the_runtime_imports_nothing_of_a2a_httpx_streamlit_or_other_services():
    foreign = ("a2a", "httpx", "httpx_sse", "streamlit", "starlette", "uvicorn", "sqlalchemy")
    found = [
        f"{name} imports {imported}"
        for name, path in MODULES.items()
        if name.startswith("services.runtime")
        for imported in imported_names(path)
        if imported.split(".")[0] in foreign
        or (imported.startswith("services.") and not imported.startswith("services.runtime"))
    ]
    assert not found, found


def test_services_never_import_streamlit_outside_the_session_bridge():
    found = [
        name
        for name, path in MODULES.items()
        if not name.startswith("services.session")
        and any(i.split(".")[0] == "streamlit" for i in imported_names(path))
    ]
    assert not found, found
