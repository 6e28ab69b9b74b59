#!/usr/bin/env python3
"""Write moeprof/data/moe_kernel_rates.json: the compute rate a fused MoE kernel reaches at many
tokens per expert, for kernels an engine can be told to run where no kernel table exists at the
model's shape. Read from NVIDIA aiconfigurator's measured MoE tables (aiconfigurator-core, Apache-2.0;
`pip install ".[aic]"`), which time the kernel at another model's shape.

    python scripts/make_moe_kernel_rates.py [--check]

Today one kernel: vLLM's Marlin MoE for MXFP4 weights (what `VLLM_MXFP4_USE_MARLIN=1` selects for
gpt-oss on Hopper), timed by aiconfigurator for vLLM 0.24.0 at the only MXFP4 Marlin shape it has
(hidden 3584, expert width 3072, 896 experts, top 16), balanced routing, no expert parallelism.
Its rate is 2 x tokens x topk x 3 x hidden x width / expert TP / latency, by tokens per expert
(tokens x topk / experts) and expert TP; only points of at least MIN_TOKENS_PER_EXPERT tokens per
expert are kept, where the kernel is compute-bound, so the rate carries over to another shape (at
fewer tokens the source shape's own weight reads set its time). Prints every point.
--check: exit 1 if the shipped file differs from what would be written.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "moeprof" / "data" / "moe_kernel_rates.json"
SYSTEMS = {"h100_sxm": "h100-sxm-80gb", "h200_sxm": "h200-sxm-141gb"}
ENGINE, VERSION = "vllm", "0.24.0"
KERNELS = {
    "marlin_mxfp4": {
        "kernel_source": "vllm_compressedtensorsw4a4mxfp4moe_marlin_marlinexperts_situ_as_silu",
        "moe_dtype": "w4a16_mxfp4",
        "shape": (3584, 3072, 896, 16),
        "selected_by": "vLLM: VLLM_MXFP4_USE_MARLIN=1 (vllm/model_executor/layers/quantization/mxfp4.py get_mxfp4_backend, "
                       "v0.13.0: Marlin when the variable is set, else triton_kernels on Hopper)",
    },
}
MIN_TOKENS_PER_EXPERT = 64
EXPERT_TP = (1, 2, 4, 8)


def rates(root: Path, system: str, kernel: dict) -> dict:
    import pandas as pd

    path = root / system / "moe" / ENGINE / VERSION / "moe_perf.parquet"
    f = pd.read_parquet(path)
    H, W, E, k = kernel["shape"]
    f = f[(f.kernel_source == kernel["kernel_source"]) & (f.moe_dtype == kernel["moe_dtype"]) & (f.hidden_size == H)
          & (f.inter_size == W) & (f.num_experts == E) & (f.topk == k) & (f.distribution == "balanced") & (f.moe_ep_size == 1)]
    f = f.groupby(["moe_tp_size", "num_tokens"], as_index=False)["latency"].median()
    f = f.assign(tpe=f.num_tokens * k / E)
    f = f[f.tpe >= MIN_TOKENS_PER_EXPERT]
    tpe = sorted(float(x) for x in f.tpe.unique())
    grid = []
    for tp in EXPERT_TP:
        row = []
        for t in tpe:
            x = f[(f.moe_tp_size == tp) & (f.tpe == t)]
            if x.empty:
                raise SystemExit(f"{system}: no point at expert TP {tp}, {t} tokens per expert")
            tokens = t * E / k
            row.append(round(2.0 * tokens * k * 3 * H * W / tp / (float(x.latency.iloc[0]) * 1e-3), -9))
        grid.append(row)
    return {"tokens_per_expert": [round(t, 3) for t in tpe], "expert_tp": list(EXPERT_TP), "flop_per_s": grid,
            "source_table": f"{system}/moe/{ENGINE}/{VERSION}/moe_perf.parquet"}


def build() -> dict:
    import aiconfigurator_core

    from moeprof.kernel_tables.aic_import import package_version

    root = Path(aiconfigurator_core.__file__).resolve().parent / "systems" / "data"
    out = {
        "_about": ("Compute rate of a fused MoE kernel at many tokens per expert, where an engine can be told to run it and "
                   "no kernel table exists at the model's shape: the performance model takes the routed experts' compute as at "
                   "most this rate (by tokens per expert, log-linear, clamped; by expert TP, the nearest listed at or above). "
                   "Written by scripts/make_moe_kernel_rates.py from NVIDIA aiconfigurator's measured MoE tables "
                   f"(aiconfigurator-core {package_version()}, Apache-2.0, Copyright NVIDIA CORPORATION & AFFILIATES)."),
        "kernels": {},
    }
    for name, kernel in KERNELS.items():
        H, W, E, k = kernel["shape"]
        gpus = {SYSTEMS[s]: rates(root, s, kernel) for s in SYSTEMS}
        out["kernels"][name] = {
            "selected_by": kernel["selected_by"],
            "source": (f"aiconfigurator-core {package_version()}, {ENGINE} {VERSION} moe_perf, kernel {kernel['kernel_source']}, "
                       f"{kernel['moe_dtype']}, hidden {H}, expert width {W}, {E} experts, top {k}, balanced, EP 1; rate = 2 x tokens "
                       f"x {k} x 3 x {H} x {W} / expert TP / latency at >= {MIN_TOKENS_PER_EXPERT} tokens per expert"),
            "gpus": gpus,
        }
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--check", action="store_true", help="compare with the shipped file instead of writing it")
    a = ap.parse_args(argv)
    data = build()
    for name, kern in data["kernels"].items():
        for gpu, g in kern["gpus"].items():
            print(f"{name} {gpu}: TFLOP/s by tokens per expert {', '.join(f'{t:g}' for t in g['tokens_per_expert'])}")
            for tp, row in zip(g["expert_tp"], g["flop_per_s"]):
                print(f"  expert TP {tp}: " + ", ".join(f"{v / 1e12:.0f}" for v in row))
    text = json.dumps(data, indent=1) + "\n"
    if a.check:
        same = OUT.is_file() and OUT.read_text() == text
        print("up to date" if same else f"{OUT.relative_to(ROOT)} differs")
        return 0 if same else 1
    OUT.write_text(text)
    print(f"wrote {OUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
