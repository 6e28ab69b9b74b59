"""Stage 4 of the search: what each row costs, in one place.

    $/h        VMs x the SKU's price per VM-hour
    $/month    $/h x 730 h (moeprof.units.HOURS_PER_MONTH)
    $/M tokens $/h / tokens served per hour at the target QPS (input + output): the blended cost,
               the one that ranks; the input / output split divides $/h by each kind's share of
               GPU time (the prompts' share of the steps) - a convention for showing both
    J/token    (prefill energy + the request's share of decode steps + the idle draw of the
               unused time) / output tokens; idle power from the GPU's profile when it has one
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ...perf import idle_power_w
from ...units import HOURS_PER_MONTH
from ..document.targets import Targets
from .serve import ServeLoad


def add_costs(rows: pd.DataFrame, vms, targets: Targets, profiles, load: ServeLoad) -> pd.DataFrame:
    """rows from serve.serve_rows with the cost and energy columns; `load`: serve_rows' ServeLoad of the rows."""
    price = rows.sku.map({k: v.price.usd_per_hour for k, v in vms.items()}).to_numpy(dtype=float)
    rows["usd_per_hour"] = rows.vms.to_numpy() * price
    rows["usd_per_month"] = rows.usd_per_hour * HOURS_PER_MONTH
    rows["price_estimate"] = rows.sku.map({k: v.price.estimate for k, v in vms.items()}).to_numpy(dtype=bool)

    O = float(targets.output_tokens)
    b = rows.running_batch.to_numpy()
    rho = rows.utilization.to_numpy()
    lam = load.lam
    idle = {k: idle_power_w(v.gpu, profiles.get(v.gpu.key)) for k, v in vms.items()}
    idle_w = rows.gpus_per_replica.to_numpy() * rows.sku.map(idle).to_numpy(dtype=float)
    e_req = (rows.prefill_j.fillna(0).to_numpy() + O * load.j_step / np.maximum(b, 1)
             + np.clip(1 - rho, 0, 1) * idle_w / np.maximum(lam, 1e-12))
    rows["joules_per_token"] = e_req / O

    tok_in_h = targets.qps * targets.input_tokens * 3600
    tok_out_h = targets.qps * O * 3600
    share_p = np.clip(load.prefill_share, 0.0, 1.0)
    rows["usd_per_million_tokens"] = rows.usd_per_hour / (tok_in_h + tok_out_h) * 1e6
    rows["usd_per_million_input_tokens"] = rows.usd_per_hour * share_p / tok_in_h * 1e6
    rows["usd_per_million_output_tokens"] = rows.usd_per_hour * (1 - share_p) / tok_out_h * 1e6
    return rows
