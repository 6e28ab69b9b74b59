"""No import runs upward. The package is layered (DESIGN.md):

    errors, units, tempfiles,        the foundation: errors, units, file reading and writing with
    inputs, fileio, yaml_out         their limits, YAML output
    engine_args, checkpoint_catalog  shipped engine flag lists and published checkpoints (data only)
    catalog                          data files, model specs
    kernel_tables                    measured kernel latency grids (and their import)
    profile, telemetry               GPU profiles, device readings
    memory, probes                   the memory model; measurements on the device
    perf                             the performance model (every prediction, probe rows included)
    serving                          the engine's scheduler, no package imports
    planner                          the search and the PlanDocument
    calibrate                        serving calibration fitted on benchmark results (planner.evaluate)
    validation                       predicted vs measured (perf + the probes' curve fitting)
    report, export                   read the PlanDocument only (planner.document)
    cli                              the commands

Each rule below lists what a layer may import from the package; the test scans every module's
imports (module level and inside functions) with the ast module."""

import ast
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parent.parent / "moeprof"
BASE = {"errors", "units", "tempfiles", "inputs", "fileio", "yaml_out", "__init__", "__version__"}

ALLOWED = {
    "errors": set(),
    "units": set(),
    "fileio": {"errors", "tempfiles"},
    "tempfiles": {"errors"},
    "inputs": {"errors"},
    "yaml_out": {"errors"},
    "engine_args": BASE,
    "checkpoint_catalog": BASE,
    "catalog": BASE | {"catalog"},
    "kernel_tables": BASE | {"kernel_tables"},
    "profile": BASE | {"catalog", "kernel_tables"},
    "telemetry": BASE | {"telemetry"},
    "memory": BASE | {"catalog"},
    "probes": BASE | {"catalog", "profile", "telemetry", "memory", "probes"},
    "perf": BASE | {"catalog", "profile", "kernel_tables", "perf"},
    "serving": set(),
    "planner": BASE | {"catalog", "profile", "memory", "perf", "serving", "planner"},
    "calibrate": BASE | {"catalog", "profile", "kernel_tables", "perf", "serving", "planner", "calibrate"},
    "validation": BASE | {"catalog", "profile", "kernel_tables", "perf", "probes.fit"},
    "report": BASE | {"catalog", "profile", "planner.document", "planner.schema", "report", "validation"},
    "export": BASE | {"catalog", "planner.document", "planner.schema"},
    "cli": None,  # the top: anything
    "__main__": None,
    "__init__": set(),
}


def _layer(module: str) -> str:
    return module.split(".")[0]


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
