"""KernelTables: a profile's kernel tables, found by op and fixed settings.

The ops (OPS) and their axes, all per GPU:
    gemm                  key dtype (bf16 | fp8);                 axes m, n, k  ([m, k] x [k, n])
    moe                   key dtype (bf16, fp8, fp8_block, mxfp4), hidden, inter, experts, topk; axes tokens (in the step, all
                          ranks), moe_tp (GPUs splitting each expert), moe_ep (expert-parallel
                          ranks); the routed experts of one MoE layer under balanced routing
    attention_generation  key head_dim, kv_dtype;  axes batch, kv_len, num_heads, num_kv_heads
    attention_context     key head_dim, kv_dtype, window (absent: global); axes batch, seq_len,
                          num_heads, num_kv_heads (causal self-attention over whole prompts of
                          seq_len tokens, each query seeing at most `window` keys)
    allreduce             key dtype;               axes message_bytes, gpus (inside one node)
"""

from __future__ import annotations

from ..errors import MoeprofError
from .table import KernelTable, table_from_json

OPS = {
    "gemm": (("dtype",), ("m", "n", "k")),
    "moe": (("dtype", "hidden", "inter", "experts", "topk"), ("tokens", "moe_tp", "moe_ep")),
    "attention_generation": (("head_dim", "kv_dtype"), ("batch", "kv_len", "num_heads", "num_kv_heads")),
    "attention_context": (("head_dim", "kv_dtype", "window"), ("batch", "seq_len", "num_heads", "num_kv_heads")),
    "allreduce": (("dtype",), ("message_bytes", "gpus")),
}
OPTIONAL_KEYS = {"window"}  # absent from a table's key: the table has none (a global-attention table)


def _norm(v) -> str:
    """A key value as text: 128, 128.0 and "128" are one key."""
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    return str(v)


def _key_tuple(op: str, key: dict) -> tuple:
    return (op,) + tuple(_norm(key.get(k)) for k in OPS[op][0])


MAX_TABLE_CELLS = 1_000_000  # grid cells of one table (the largest shipped table has 35,816)
MAX_PROFILE_CELLS = 2_000_000  # of all a profile's tables (the shipped profiles have under 150,000)


def check_table_json(name: str, d) -> int:
    """Cheap structural check at profile load (the full parse is lazy); returns the table's
    cells, counted from its axes before anything is built."""
    where = f"kernel_tables.{name}"
    if not isinstance(d, dict) or d.get("op") not in OPS:
        raise MoeprofError(f"{where}: expected an object whose op is one of {', '.join(OPS)}")
    keys, axes = OPS[d["op"]]
    if not isinstance(d.get("key"), dict) or set(keys) - OPTIONAL_KEYS - set(d["key"]):
        raise MoeprofError(f"{where}.key: needs {', '.join(k for k in keys if k not in OPTIONAL_KEYS)}")
    if not isinstance(d.get("axes"), dict) or list(d["axes"]) != list(axes):
        raise MoeprofError(f"{where}.axes: must be {', '.join(axes)} in that order")
    cells = 1
    for a, g in d["axes"].items():
        if not isinstance(g, list) or not g:
            raise MoeprofError(f"{where}.axes.{a}: expected a non-empty list of numbers")
        cells *= len(g)
    if cells > MAX_TABLE_CELLS:
        raise MoeprofError(f"{where}.axes: {cells:,} grid cells, at most {MAX_TABLE_CELLS:,} in one kernel table "
                           "(use fewer grid values)")
    for f in ("extensive", "linear"):
        v = d.get(f, [])
        if not isinstance(v, list) or not all(isinstance(x, str) and x in axes for x in v):
            raise MoeprofError(f"{where}.{f}: expected a list of axis names ({', '.join(axes)})")
    if d.get("meta") is not None and not isinstance(d["meta"], dict):
        raise MoeprofError(f"{where}.meta: expected an object")
    return cells


def check_tables_json(raw: dict) -> None:
    """Every table's structure, and the cells of all of them (bounded before any is built)."""
    total = 0
    for name, d in raw.items():
        total += check_table_json(name, d)
    if total > MAX_PROFILE_CELLS:
        raise MoeprofError(f"kernel_tables: {total:,} grid cells in all, at most {MAX_PROFILE_CELLS:,} in one profile "
                           "(use fewer or smaller tables)")


class KernelTables:
    """Tables by name; `find(op, **key)` returns the table for those settings or None."""

    def __init__(self, tables: dict[str, KernelTable]):
        self.tables = dict(tables)
        self._index = {_key_tuple(t.op, t.key): t for t in self.tables.values()}

    @staticmethod
    def from_json(raw: dict) -> KernelTables:
        out = {}
        check_tables_json(raw)
        for name, d in raw.items():
            out[name] = table_from_json(d, f"kernel_tables.{name}")
        return KernelTables(out)

    def find(self, op: str, **key) -> KernelTable | None:
        return self._index.get(_key_tuple(op, key))

    def ops(self) -> set[str]:
        return {t.op for t in self.tables.values()}

    def __len__(self) -> int:
        return len(self.tables)
