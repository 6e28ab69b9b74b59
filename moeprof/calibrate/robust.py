"""Robust nonlinear least squares in numpy: Huber iteratively reweighted Levenberg-Marquardt with
box bounds, a forward-difference Jacobian and standard errors from the weighted normal matrix.

    minimise  sum_i rho(r_i(theta) / s)    rho = Huber (k = 1.345: 95 % efficiency on Gaussian errors)
    s         = 1.4826 x median |r| (the MAD scale of the current residuals), at least `scale_floor`
    step      (J' W J + mu diag(J' W J)) d = -J' W r, W = the Huber weights psi(u) / u at the current r;
              accepted when the Huber objective at the same s falls, else mu x 10
    stop      when the step is below `tol` in every parameter, or after `max_iter` steps
    cov       s_w^2 (J' W J)^-1 with s_w^2 = sum w r^2 / (n - p), at least scale_floor^2 (runs that
              fit exactly still leave a parameter they barely move undetermined)

Huber, P. J. (1964), "Robust estimation of a location parameter"; Holland & Welsch (1977), "Robust
regression using iteratively reweighted least-squares"; Marquardt (1963). A residual far out (an
outlier) gets the weight k s / |r|: it pulls with a bounded force instead of its square.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

HUBER_K = 1.345
MAD_TO_SIGMA = 1.4826


@dataclass
class RobustFit:
    theta: np.ndarray  # every parameter, fixed ones at their start value
    std_error: np.ndarray  # nan where fixed or not estimable
    free: np.ndarray  # bool
    residuals: np.ndarray
    weights: np.ndarray
    scale: float
    iterations: int
    converged: bool


def robust_scale(r: np.ndarray, floor: float) -> float:
    r = r[np.isfinite(r)]
    return max(MAD_TO_SIGMA * float(np.median(np.abs(r))) if len(r) else floor, floor)


def huber_weights(r: np.ndarray, s: float, k: float = HUBER_K) -> np.ndarray:
    u = np.abs(r) / (k * s)
    return np.where(u <= 1.0, 1.0, 1.0 / np.maximum(u, 1e-300))


def huber_loss(r: np.ndarray, s: float, k: float = HUBER_K) -> float:
    u = np.abs(r) / s
    return float(np.sum(np.where(u <= k, 0.5 * u * u, k * u - 0.5 * k * k)))


def jacobian(fun, theta: np.ndarray, r0: np.ndarray, free: np.ndarray, steps: np.ndarray, hi: np.ndarray,
             fun_many=None) -> np.ndarray:
    """Forward differences in the free parameters (backward at the upper bound). `fun_many`
    (thetas [k, p] -> residuals [k, n]) evaluates theta and its steps in one call; the differences
    are then taken against that call's own value at theta."""
    cols = np.flatnonzero(free)
    hs = np.array([steps[i] if theta[i] + steps[i] <= hi[i] else -steps[i] for i in cols])
    trials = np.repeat(theta[None, :], len(cols), axis=0)
    trials[np.arange(len(cols)), cols] += hs
    if fun_many is not None:
        F = fun_many(np.vstack([theta[None, :], trials]))
        return ((F[1:] - F[0]) / hs[:, None]).T
    J = np.zeros((len(r0), len(cols)))
    for j in range(len(cols)):
        J[:, j] = (fun(trials[j]) - r0) / hs[j]
    return J


def fit(fun, theta0, lo, hi, steps, free=None, scale_floor: float = 1e-3, max_iter: int = 60, tol: float = 1e-7,
        fun_many=None) -> RobustFit:
    """Minimise the Huber loss of fun(theta) (an array of residuals) within [lo, hi]; `free`
    (bool per parameter) says which move; `steps` are the difference steps of the Jacobian;
    `fun_many` (optional) is fun over a stack of thetas, for the Jacobian in one call."""
    theta = np.clip(np.asarray(theta0, dtype=float), lo, hi)
    lo, hi, steps = (np.asarray(x, dtype=float) for x in (lo, hi, steps))
    free = np.ones(len(theta), dtype=bool) if free is None else np.asarray(free, dtype=bool)
    r = fun(theta)
    mu, it, converged = 1e-3, 0, False
    while it < max_iter and free.any():
        it += 1
        s = robust_scale(r, scale_floor)
        w = huber_weights(r, s)
        J = jacobian(fun, theta, r, free, steps, hi, fun_many)
        A = J.T @ (w[:, None] * J)
        g = J.T @ (w * r)
        loss0 = huber_loss(r, s)
        improved = False
        for _ in range(12):
            try:
                d = np.linalg.solve(A + mu * np.diag(np.maximum(np.diag(A), 1e-12)), -g)
            except np.linalg.LinAlgError:
                mu *= 10.0
                continue
            t = theta.copy()
            t[free] = np.clip(theta[free] + d, lo[free], hi[free])
            r_new = fun(t)
            if huber_loss(r_new, s) <= loss0:
                step = np.abs(t - theta)
                theta, r, improved = t, r_new, True
                mu = max(mu / 10.0, 1e-9)
                break
            mu *= 10.0
        if not improved or np.all(step[free] < tol):
            converged = True
            break
    s = robust_scale(r, scale_floor)
    w = huber_weights(r, s)
    se = np.full(len(theta), np.nan)
    if free.any():
        J = jacobian(fun, theta, r, free, steps, hi, fun_many)
        A = J.T @ (w[:, None] * J)
        dof = max(len(r) - int(free.sum()), 1)
        s2 = max(float(np.sum(w * r * r)) / dof, scale_floor ** 2)
        try:
            cov = s2 * np.linalg.inv(A)
            se[free] = np.sqrt(np.maximum(np.diag(cov), 0.0))
        except np.linalg.LinAlgError:
            pass
    return RobustFit(theta, se, free, r, w, s, it, converged)
