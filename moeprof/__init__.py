"""moeprof: hardware cost/performance profiler and capacity planner for MoE LLM inference.

`plan`, `compare`, `evaluate`, `memory` and `load_model` take the keyword arguments their commands
take as flags and return values with `.to_dict()` (the command's --json) and `.to_pandas()`; they
load on first use, so `import moeprof` loads neither numpy nor pandas (README: Python API)."""

import sys
import types

__version__ = "0.1.0"
__all__ = ["__version__", "compare", "evaluate", "load_model", "memory", "plan"]
_API = ("plan", "compare", "evaluate", "memory", "load_model")


def __getattr__(name):
    if name in _API:
        from . import api

        return getattr(api, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class _MemoryEntry:
    """`moeprof.memory`: called, the API function (moeprof.api.memory); otherwise the memory model
    module moeprof.memory, whose attributes it reads and sets."""

    __doc__ = "moeprof.memory(model=..., sku=..., ...): per-GPU memory of one deployment, as `moeprof memory`."

    def __call__(self, model=None, **options):
        from . import api

        return api.memory(model, **options)

    def __getattr__(self, name):
        import importlib

        return getattr(importlib.import_module(f"{__name__}.memory"), name)

    def __setattr__(self, name, value):
        import importlib

        setattr(importlib.import_module(f"{__name__}.memory"), name, value)

    def __repr__(self) -> str:
        return "<moeprof.memory: the API function and the memory model module>"


class _Package(types.ModuleType):
    """The package, whose `memory` is both the API function and the module of the same name."""

    @property
    def memory(self):
        return _MEMORY

    @memory.setter
    def memory(self, value):  # the import system binds the submodule here: it stays reachable through _MEMORY
        pass


_MEMORY = _MemoryEntry()
sys.modules[__name__].__class__ = _Package
