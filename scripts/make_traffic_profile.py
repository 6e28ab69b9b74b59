#!/usr/bin/env python3
"""Write the sample traffic profile moeprof/data/traffic/diurnal_week.csv (`plan --traffic FILE`):

    python scripts/make_traffic_profile.py [OUT.csv] [--peak-qps Q]

A synthetic week, not a measurement: hour h = 0..167 starts Monday 00:00; t = h mod 24,
day = h div 24 (5 and 6 are Saturday and Sunday);
    qps(h) = peak x day_scale x (trough + (1 - trough) x (1 + cos(2 pi (t - PEAK_HOUR) / 24)) / 2)
with PEAK_HOUR 14, trough 0.2 (the night at a fifth of the afternoon), day_scale 1 on weekdays and
0.6 at weekends, rounded to 0.01 req/s. The peak defaults to `plan`'s --qps default
(moeprof/data/targets.json), so the busiest weekday hour is the load the plan is sized for.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run from a checkout without installing

PEAK_HOUR = 14  # busiest hour of the day (local time)
TROUGH = 0.2  # the quietest hour as a fraction of the busiest
WEEKEND = 0.6  # a weekend day's traffic as a fraction of a weekday's
DAYS = 7


def qps_at(h: int, peak: float) -> float:
    t, day = h % 24, h // 24
    scale = WEEKEND if day >= 5 else 1.0
    shape = (1 + math.cos(2 * math.pi * (t - PEAK_HOUR) / 24)) / 2
    return round(peak * scale * (TROUGH + (1 - TROUGH) * shape), 2)


def profile_csv(peak: float) -> str:
    lines = [
        f"# synthetic diurnal week (scripts/make_traffic_profile.py), not measured: hour 0 = Monday 00:00; "
        f"qps = {peak:g} x day_scale x ({TROUGH:g} + {1 - TROUGH:g} x (1 + cos(2 pi (hour mod 24 - {PEAK_HOUR}) / 24)) / 2), "
        f"day_scale 1 Monday-Friday, {WEEKEND:g} Saturday-Sunday; peak {peak:g} req/s",
        "hour,qps",
    ]
    lines += [f"{h},{qps_at(h, peak):.2f}" for h in range(24 * DAYS)]
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
    from moeprof.catalog.targets import target_defaults
    from moeprof.fileio import write_atomic

    args = list(argv)
    peak = target_defaults()["qps"]
    if "--peak-qps" in args:
        i = args.index("--peak-qps")
        peak = float(args[i + 1])
        del args[i:i + 2]
    out = Path(args[0]) if args else ROOT / "moeprof" / "data" / "traffic" / "diurnal_week.csv"
    write_atomic(out, profile_csv(peak), what="traffic profile")
    print(f"wrote {out} ({24 * DAYS} hours, peak {peak:g} req/s)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
