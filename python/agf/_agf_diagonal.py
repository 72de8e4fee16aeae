"""AGF for diagonal linear networks in closed form (method sections 3 and 5a).

A dormant coordinate i has conserved balance delta_i = u_i^2 - v_i^2 and a signed phase phi_i
with u^2 + v^2 = |delta| cosh(phi), 2uv = |delta| sinh(phi) (for delta > 0: u = sqrt(delta)
cosh(phi/2), v = sqrt(delta) sinh(phi/2); for delta < 0 the roles of u and v swap). Gradient flow
at a fixed gradient g_i = (X^T r / n)_i gives d phi_i / dt = 2 g_i exactly, so between events the
dormant dynamics are linear in time and the next activation time is exact:
activation when |delta| cosh(phi) = 1, i.e. |phi| = Phi_i = acosh(1/|delta_i|). We store
lam_i = log|delta_i| (computed as log||u|-|v|| + log(|u|+|v|)), so alpha = 1e-100 (delta = 2e-200)
and far smaller work. phi_i = sign(uv) (log(|u|+|v|) - log||u|-|v||). A balanced coordinate
(|u| = |v|, delta = 0) is given lam = log(u^2+v^2) - 600 (a relative imbalance e^-600).

Cost minimization on the active set is least squares under the sign constraints s_i beta_i >= 0
(s_i = sign of phi at activation), which gradient flow of the active coordinates converges to;
solved exactly with NNLS. Deactivation rule: an active coordinate whose constrained least-squares
value is 0 (gradient flow would pull beta_i through 0) deactivates; it re-enters the dormant set
with phase s_i Phi_i (norm 1) and the sign it had. Its gradient now has the opposite sign (KKT),
so the phase runs back through 0 (the direction is "released" exactly when S falls back to 0:
the cosh law carries this automatically) and it may re-activate with the opposite sign at -Phi_i.

Limit mode (alpha -> 0, time rescaled by log(1/alpha)): phi~ = phi / (2 log(1/alpha)) moves at
rate g, threshold 1, start 0 (the Pesme-Flammarion s of agf.theory.diagonal).
"""

from __future__ import annotations

import math

import numpy as np
from scipy.optimize import nnls

__all__ = ["run_diagonal"]


def _phase(u: np.ndarray, v: np.ndarray):
    au, av = np.abs(u), np.abs(v)
    with np.errstate(divide="ignore"):
        lsum = np.log(au + av)
        ldiff = np.log(np.abs(au - av))
    lam = ldiff + lsum
    bal = ~np.isfinite(ldiff)
    lam = np.where(bal, 2 * lsum - 600.0, lam)
    phi = np.where(bal, 0.0, lsum - np.where(bal, 0.0, ldiff))
    phi = phi * np.sign(u * v)
    # balanced coordinates: |phi| = acosh(N / |delta|) with N = u^2+v^2 = e^{2 lsum}/... use logs
    if np.any(bal):
        N_log = np.log(u[bal] ** 2 + v[bal] ** 2)
        phi[bal] = np.sign(u[bal] * v[bal]) * _acosh_exp(N_log - lam[bal])
    return lam, phi


def _acosh_exp(x):
    """acosh(e^x) for x >= 0, stable for large x."""
    x = np.asarray(x, dtype=float)
    return x + np.log1p(np.sqrt(np.maximum(1.0 - np.exp(-2.0 * x), 0.0)))


def run_diagonal(X, y, u0, v0, *, limit, max_rounds, loss_tol, t_max, rec, gtol_rel=1e-12, tie_rtol=1e-9):
    n, d = X.shape
    y = y.ravel()
    if limit:
        lam = np.zeros(d)
        phi = np.zeros(d)
        Phi = np.ones(d)
        rate = 1.0
    else:
        lam, phi = _phase(np.asarray(u0, float), np.asarray(v0, float))
        if np.any(lam >= 0):
            raise ValueError("a diagonal coordinate starts with |u^2 - v^2| >= 1: not a small initialization")
        Phi = _acosh_exp(-lam)
        rate = 2.0
    active = np.zeros(d, bool)
    sign = np.zeros(d)
    beta = np.zeros(d)
    t = 0.0

    def grad(b):
        return X.T @ (y - X @ b) / n

    def loss(b):
        r = y - X @ b
        return 0.5 * float(r @ r) / n

    L0 = loss(beta)
    rec.start(L0)
    g_scale = max(float(np.max(np.abs(grad(beta)))), 1e-300)
    status = "max_rounds"
    rounds = 0
    n_deact_same = {}
    while True:
        if max_rounds is not None and rounds >= max_rounds:
            status = "max_rounds"
            break
        if loss(beta) <= loss_tol * L0:
            status = "loss_tol"
            break
        dormant = ~active
        if not dormant.any():
            status = "no_dormant"
            break
        g = grad(beta)
        dt = np.full(d, np.inf)
        for i in np.flatnonzero(dormant):
            if abs(g[i]) <= gtol_rel * g_scale:
                continue
            if g[i] > 0:
                dt[i] = max((Phi[i] - phi[i]) / (rate * g[i]), 0.0)
            else:
                dt[i] = max((phi[i] + Phi[i]) / (rate * -g[i]), 0.0)
        if not np.isfinite(dt.min()):
            status = "stationary"
            break
        step = float(dt.min())
        if t + step > t_max:
            status = "t_max"
            break
        new = np.flatnonzero(dt <= step + tie_rtol * max(t + step, 1e-300))
        S_snap = np.full(d, np.nan)
        S_snap[dormant] = (phi[dormant] + rate * g[dormant] * step)
        phi[dormant] += rate * g[dormant] * step
        t += step
        rounds += 1
        for i in new:
            phi[i] = math.copysign(Phi[i], g[i])
            sign[i] = math.copysign(1.0, g[i])
            active[i] = True
        # cost minimization: sign-constrained least squares on the active set, deactivating
        # coordinates pulled to 0 until none is
        deact = []
        while True:
            idx = np.flatnonzero(active)
            coef, _ = nnls(X[:, idx] * sign[idx], y)
            beta = np.zeros(d)
            beta[idx] = coef * sign[idx]
            zero = [i for i, cf in zip(idx, coef) if cf <= 1e-14 * max(1.0, float(np.max(coef)))]
            if not zero:
                break
            for i in zero:
                active[i] = False
                beta[i] = 0.0
                phi[i] = sign[i] * Phi[i]
                deact.append(int(i))
                key = (int(i), t)
                n_deact_same[key] = n_deact_same.get(key, 0) + 1
        lvl = loss(beta)
        rec.jump(t, [int(i) for i in new], deact, lvl, {"u": np.sqrt(np.abs(beta)) * np.sign(beta), "v": np.sqrt(np.abs(beta))},
                 S_snap, None, signs={int(i): float(sign[i]) for i in list(new) + deact}, n_active=int(active.sum()))
    return status, {"u": np.sqrt(np.abs(beta)) * np.sign(beta), "v": np.sqrt(np.abs(beta))}, Phi
