"""Waits in the queues of the serving model (moeprof.serving), arrays over configurations: a
prompt's wait for the token budget (M/D/1) and for a sequence slot (M/D/c). No package imports."""

from __future__ import annotations

import numpy as np


def mdl_wait(rho, service_s, q):
    """M/D/1 wait: (mean, quantile q in (0, 1)); inf at rho >= 1."""
    rho = np.asarray(rho, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = rho * service_s / (2.0 * (1.0 - rho))
        tail = np.where(rho > 1 - q, (mean / np.maximum(rho, 1e-12)) * np.log(np.maximum(rho, 1e-12) / (1 - q)), 0.0)
    bad = rho >= 1.0
    return np.where(bad, np.inf, mean), np.where(bad, np.inf, tail)


def slot_wait(rho, slots, service_s, q):
    """M/D/c wait for one of `slots` sequence slots (Sakasegawa 1977: P(wait) ~ rho^(sqrt(2(c+1)) - 1),
    mean wait ~ P(wait) x S / (c (1 - rho)) / 2 for deterministic service): (mean, quantile q)."""
    rho = np.clip(np.asarray(rho, dtype=float), 0.0, None)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        pw = np.minimum(rho ** (np.sqrt(2.0 * (slots + 1.0)) - 1.0), 1.0)
        cond = service_s / (2.0 * slots * (1.0 - rho))
        mean = pw * cond
        tail = np.where(pw > 1 - q, cond * np.log(np.maximum(pw, 1e-300) / (1 - q)), 0.0)
    bad = rho >= 1.0
    return np.where(bad, np.inf, mean), np.where(bad, np.inf, tail)
