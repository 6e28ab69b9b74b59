"""The profile `moeprof calibrate` writes: the base profile of the GPU (its curves, scalars and rows
unchanged) with a serving-calibration section (catalog.calibration.serving_section) holding the fitted
parameters and their standard errors, what they were fitted on, the in-sample and leave-one-out
median |error| and the leave-one-out ErrorBand."""

from __future__ import annotations

from dataclasses import replace
from datetime import date as _date
from pathlib import Path

from ..catalog.calibration import serving_section
from ..errors import ConfigError, MoeprofError
from ..profile import Profile
from . import robust
from .fit import NAMES, GpuFit, median_abs_pct

METHOD = (f"Huber-weighted Levenberg-Marquardt (k = {robust.HUBER_K}, MAD scale) on log(predicted / measured) of "
          "throughput per GPU, tokens/s per user and TTFT; standard errors from the weighted normal matrix; "
          "leave-one-out by record")


def bare_profile(gpu: str, today: str) -> Profile:
    """A profile with no curves (the datasheet x published efficiencies) for a GPU without a shipped one."""
    return Profile(gpu=gpu, source="published", provenance={"date": today, "sources": []},
                   note="no measured or published curves for this GPU: datasheet peaks x published efficiencies")


def section(fit: GpuFit, files, today: str) -> dict:
    recs = [p.rec for p in fit.points]
    loo, ins = median_abs_pct(fit.loo), median_abs_pct(fit.in_sample)
    params = {}
    for n in NAMES:
        params[n] = {"value": fit.values[n], "std_error": fit.std_error[n] if fit.fitted[n] else None,
                     "fitted": fit.fitted[n]}
        if not fit.fitted[n]:
            params[n]["why_not_fitted"] = fit.why_fixed.get(n, "")
    fitted_on = {
        "files": sorted({Path(f).name for f in files}),
        "records": len(recs),
        "observations": fit.n_obs,
        "models": sorted({r.model for r in recs}),
        "engines": sorted({r.engine for r in recs}),
        "splits": sorted({r.split for r in recs}),
    }
    loo_txt = ", ".join(f"{k} {v:.1f} %" for k, v in loo.items() if v is not None) or "none"
    src = (f"fitted by moeprof calibrate on {len(recs)} serving runs of {', '.join(fitted_on['models'])} "
           f"({', '.join(fitted_on['engines'])}; files {', '.join(fitted_on['files'])}) on {today}; "
           f"leave-one-out median |error|: {loo_txt}")
    return {
        "gpu": fit.gpu,
        "parameters": params,
        "fitted_on": fitted_on,
        "fit": {"method": METHOD, "converged": fit.converged, "in_sample_median_abs_error_pct": ins,
                "loo_median_abs_error_pct": loo},
        "error_band": fit.band.to_json(),
        "date": today,
        "source": src,
    }


def calibrated_profile(base: Profile | None, fit: GpuFit, files, today: str | None = None) -> Profile:
    """`base` (None: a bare profile) carrying the fit as its serving calibration."""
    today = today or str(_date.today())
    prof = base if base is not None else bare_profile(fit.gpu, today)
    sec = section(fit, files, today)
    try:
        cal = serving_section.parse(sec, fit.gpu, "<calibration>")  # what the profile loader will accept
    except ConfigError:
        worst = max(((abs(v), k, v) for k, vs in {**fit.in_sample, **fit.loo}.items() for v in vs), default=None)
        miss = f" (measured {worst[2]:+.0%} off the prediction in {worst[1]})" if worst else ""
        raise MoeprofError(f"{fit.gpu}: no calibration fits these {len(fit.points)} runs{miss}: every run is an outlier "
                           "of the model; check the files' GPU, layout (--tp, --num-gpus), model and token lengths") from None
    return replace(prof, serving_calibration=cal, path="")
