#!/usr/bin/env python3
"""Regenerate the committed example report from the shipped catalogs and profiles:

    python scripts/make_example_report.py            # writes reports/maverick.html

Runs exactly `moeprof plan --model maverick --report reports/maverick.html` (default targets:
128K context, 10 req/s, 2048 in + 512 out tokens, p99 TTFT <= 450 ms, TPOT <= 40 ms).
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run from a checkout without installing


def main(argv: list[str]) -> int:
    from moeprof.cli import main as moeprof_main

    out = Path(argv[0]) if argv else ROOT / "reports" / "maverick.html"
    out.parent.mkdir(parents=True, exist_ok=True)
    rc = moeprof_main(["plan", "--model", "maverick", "--report", str(out)])
    if rc == 0:
        print(f"wrote {out} ({out.stat().st_size / 1e6:.1f} MB)", file=sys.stderr)
    return rc


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
