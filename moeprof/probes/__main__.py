"""`python -m moeprof.probes probe ...`: the probe command without the click CLI's dependencies
(for a bare GPU image that has torch but not click or pandas). Same options and output as
`moeprof probe`; `python -m moeprof.validation` does the same for `moeprof validate`."""

from __future__ import annotations

import argparse
import json
import sys
import time

from ..errors import MoeprofError


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m moeprof.probes")
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("probe", help="measure the device and write a profile")
    p.add_argument("--quick", action="store_true")
    p.add_argument("--model", default="scout")
    p.add_argument("--out", default=None)
    p.add_argument("--device", choices=("auto", "cuda", "rocm", "cpu"), default="auto")
    p.add_argument("--only", default=None)
    p.add_argument("--budget-s", type=float, default=None)
    p.add_argument("--repeats", type=int, default=None)
    p.add_argument("--scale", type=float, default=None)
    p.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    try:
        from .settings import settings_from_options
        from .text import probe_lines, probe_summary

        if args.budget_s is not None and args.budget_s <= 0:
            raise MoeprofError("--budget-s must be > 0")
        settings = settings_from_options(args.device, args.model, args.quick, args.only, args.budget_s, args.repeats, args.scale)
        from .suite import run_and_save

        t0 = time.perf_counter()
        prof, path = run_and_save(settings, args.out)
        elapsed = time.perf_counter() - t0
        if args.json:
            print(json.dumps(probe_summary(prof, path, elapsed), indent=2))
        else:
            print("\n".join(probe_lines(prof, path, elapsed)))
    except MoeprofError as e:
        print(f"moeprof: error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("moeprof: interrupted", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
