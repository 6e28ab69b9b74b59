"""No import runs upward and no import circle. The package is layered (docs/ARCHITECTURE.md):

    errors, units, tempfiles,        the foundation: errors, units, file reading and writing with
    inputs, fileio, yaml_out         their limits, YAML output
    catalog                          data files: models/ (specs, parsers, recipes, checkpoints),
                                     hardware/ (GPUs, VMs, prices), calibration/ (serving
                                     calibration, error bands), engine, targets, bounds, values
    kernel_tables                    measured kernel latency grids (and their import)
    profile, telemetry               GPU profiles, device readings
    memory, probes                   the memory model; measurements on the device
    perf                             the performance model (every prediction, probe rows included)
    arrivals, queues, serving        how a closed loop's prompts arrive (TTFT distributions); the
                                     queues' waits; the engine's scheduler (those two only)
    deployment                       one deployment: replica arithmetic, step costs, evaluate
    planner.document                 the typed plan document and its records
    planner.analyses                 chart data, procurement, traffic (document + deployment)
    planner.search                   the search and plan() (document, analyses, deployment)
    calibrate                        benchmark readers and the serving calibration fit (deployment)
    validation                       predicted vs measured (perf + the probes' curve fitting)
    report, export                   read the PlanDocument only (planner.document)
    api.workflows                    what a command and its Python API function both run
    cli                              the commands
    api                              the Python API (moeprof.plan, ...): keywords named as the flags

Each rule below lists what a layer may import from the package (a dotted layer is a sub-room and
the longest match wins); the test scans every module's imports (module level and inside
functions) with the ast module."""

import ast
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parent.parent / "moeprof"
BASE = {"errors", "units", "tempfiles", "inputs", "fileio", "yaml_out", "__init__", "__version__"}
# the catalog's own foundation, which its rooms share
CATALOG_ROOT = {"catalog.values", "catalog.bounds", "catalog.engine", "catalog.targets", "catalog.serving_path"}

ALLOWED = {
    "errors": set(),
    "units": set(),
    "fileio": {"errors", "tempfiles", "inputs"},  # an output is checked against the files read (inputs)
    "tempfiles": {"errors"},
    "inputs": {"errors"},
    "yaml_out": {"errors"},
    "catalog": BASE | {"catalog"},
    "catalog.models": BASE | CATALOG_ROOT | {"catalog.models"},
    "catalog.hardware": BASE | CATALOG_ROOT | {"catalog.hardware"},
    "catalog.calibration": BASE | CATALOG_ROOT | {"catalog.calibration"},
    "kernel_tables": BASE | {"kernel_tables"},
    "profile": BASE | {"catalog", "kernel_tables"},
    "telemetry": BASE | {"telemetry"},
    "memory": BASE | {"catalog"},
    "probes": BASE | {"catalog", "profile", "telemetry", "memory", "probes"},
    "perf": BASE | {"catalog", "profile", "kernel_tables", "perf"},
    "arrivals": set(),
    "queues": set(),
    "serving": {"arrivals", "queues"},
    "deployment": BASE | {"catalog", "profile", "memory", "perf", "serving", "deployment"},
    "planner": BASE | {"planner"},
    "planner.document": BASE | {"catalog", "planner.document"},
    "planner.analyses": BASE | {"catalog", "profile", "memory", "perf", "serving", "deployment", "planner.document",
                                "planner.analyses"},
    "planner.search": BASE | {"catalog", "profile", "memory", "perf", "serving", "deployment", "planner.document",
                              "planner.analyses", "planner.search"},
    "calibrate": BASE | {"catalog", "profile", "kernel_tables", "perf", "serving", "deployment", "calibrate"},
    "validation": BASE | {"catalog", "profile", "kernel_tables", "perf", "probes.fit"},
    "report": BASE | {"catalog", "profile", "planner.document", "report", "validation"},
    "export": BASE | {"catalog", "planner.document", "deployment.replicas", "export"},
    # what a command and its Python API function both run: anything below the command line
    "api.workflows": BASE | {"catalog", "profile", "memory", "perf", "serving", "deployment", "planner", "calibrate",
                             "validation", "api.workflows"},
    "cli": None,  # the top: anything
    # the Python API: its keywords are the commands' flags (it reads cli's options), its work api.workflows
    "api": BASE | {"catalog", "profile", "memory", "perf", "serving", "deployment", "planner", "calibrate", "validation",
                   "report", "export", "cli", "api"},
    "__main__": None,
    "__init__": {"api"},  # the public API, loaded on first use
}


def _layer(module: str) -> str:
    """The longest ALLOWED key the module is in (planner.search.rank -> planner.search)."""
    parts = module.split(".")
    for i in range(len(parts), 0, -1):
        if ".".join(parts[:i]) in ALLOWED:
            return ".".join(parts[:i])
    return parts[0]


def _modules():
    for p in sorted(PKG.rglob("*.py")):
        rel = p.relative_to(PKG).with_suffix("")
        name = ".".join(rel.parts)
        yield name, p


def _imports(name: str, path: Path) -> set[str]:
    """Package-relative names of what a module imports from moeprof."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    pkg_parts = name.split(".")[:-1] if not name.endswith("__init__") else name.split(".")[:-1]
    if path.name == "__init__.py":
        pkg_parts = name.split(".")[:-1]
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = pkg_parts[: len(pkg_parts) - (node.level - 1)] if node.level > 1 else pkg_parts
                target = ".".join(base + ([node.module] if node.module else []))
                if not node.module:
                    out.update(".".join(base + [a.name]) for a in node.names)
                    continue
            elif node.module and (node.module == "moeprof" or node.module.startswith("moeprof.")):
                target = node.module[len("moeprof."):] if node.module != "moeprof" else ""
            else:
                continue
            out.add(target)
        elif isinstance(node, ast.Import):
            for a in node.names:
                if a.name.startswith("moeprof."):
                    out.add(a.name[len("moeprof."):])
    return {t for t in out if t}


def _allowed(layer: str, target: str) -> bool:
    rule = ALLOWED.get(layer, set())
    if rule is None:
        return True
    return any(target == r or target.startswith(r + ".") for r in rule)


@pytest.mark.parametrize("name,path", list(_modules()), ids=lambda x: str(x) if isinstance(x, str) else "")
def test_no_upward_import(name, path):
    layer = _layer(name)
    assert layer in ALLOWED, f"{name}: add its layer to ALLOWED"
    bad = sorted(t for t in _imports(name, path) if not _allowed(layer, t))
    assert not bad, f"moeprof.{name} imports {bad}, above its layer '{layer}'"


def test_no_module_over_400_lines():
    long = {str(p.relative_to(PKG)): n for p in PKG.rglob("*.py") if (n := len(p.read_text().splitlines())) > 400}
    assert not long, long


def _graph() -> dict[str, set[str]]:
    """Module -> the package modules it imports (a name imported from a package that is itself a
    module counts as that module)."""
    mods = {n[: -len(".__init__")] if n.endswith(".__init__") else n: p for n, p in _modules()}
    out = {}
    for name, path in mods.items():
        deps = set()
        for t in _imports(name + (".__init__" if path.name == "__init__.py" else ""), path):
            while t and t not in mods:
                t = t.rpartition(".")[0]
            if t and t != name:
                deps.add(t)
        out[name] = deps
    return out


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one node (Tarjan, iterative)."""
    index, low, on, stack, out, n = {}, {}, set(), [], [], 0
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = n
        n += 1
        stack.append(root)
        on.add(root)
        while work:
            v, it = work[-1]
            w = next(it, None)
            if w is None:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[v])
                if low[v] == index[v]:
                    comp = []
                    while True:
                        x = stack.pop()
                        on.discard(x)
                        comp.append(x)
                        if x == v:
                            break
                    if len(comp) > 1:
                        out.append(sorted(comp))
            elif w not in index:
                index[w] = low[w] = n
                n += 1
                stack.append(w)
                on.add(w)
                work.append((w, iter(sorted(graph.get(w, ())))))
            elif w in on:
                low[v] = min(low[v], index[w])
    return out


def test_no_import_circle_between_modules():
    assert _cycles(_graph()) == []


def test_no_import_circle_between_rooms():
    """Rooms (the ALLOWED keys) import each other in one direction only; a package's __init__
    re-exporting its own modules is not a room of its own."""
    rooms: dict[str, set[str]] = {}
    for name, deps in _graph().items():
        a = _layer(name)
        rooms.setdefault(a, set())
        for d in deps:
            b = _layer(d)
            if b != a and not name.endswith(("__init__",)) and "." in a and "." in b and a.split(".")[0] == b.split(".")[0]:
                rooms[a].add(b)
    assert _cycles(rooms) == []
