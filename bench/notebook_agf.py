"""A re-implementation, in plain numpy, of the research notebooks' AGF loop for the quadratic
network on modular addition (method section 6.5): the benchmark peer of ``agf.run_agf``.

What the notebooks do (method section 7): utility ascent with a fixed step for every dormant
neuron at once, the accumulated utility S integrated with the same fixed step, and cost
minimization as a fixed number of gradient-descent steps; no event location, no convergence
criterion. The network is f(x) = sum_i a_i (w_i . x)^2 (kappa = 3), the canonical loss
L = 1/(2n) sum ||y - f||^2. Dormant neuron i: direction (w_i, a_i) on the unit sphere, norm
rho_i with 1/rho_i = 1/rho_i(0) - S_i (kappa = 3), direction speed rho_i, activation when S_i
reaches c_i = 1/rho_i(0) - 1 (unit norm).
"""

from __future__ import annotations

import numpy as np


def _utility_and_grad(X, R, W, A):
    """U_i = (1/n) sum_x r(x) . a_i (w_i . x)^2 and its gradients, for all neurons."""
    n = X.shape[0]
    Z = X @ W.T                     # (n, H)
    RA = R @ A.T                    # (n, H): r . a_i
    U = np.einsum("nh,nh->h", RA, Z * Z) / n
    gW = 2.0 * ((RA * Z).T @ X) / n  # (H, d)
    gA = ((Z * Z).T @ R) / n         # (H, c)
    return U, gW, gA


def notebook_agf(X, Y, W0, A0, *, dt=0.02, cost_steps=5000, lr=2e-4, t_max=2500.0, max_rounds=18):
    """Returns (jump_times, levels, n_dormant_steps, n_cost_steps)."""
    H = W0.shape[0]
    rho0 = np.sqrt((W0 ** 2).sum(1) + (A0 ** 2).sum(1))
    Wd, Ad = W0 / rho0[:, None], A0 / rho0[:, None]
    c = 1.0 / rho0 - 1.0
    S = np.zeros(H)
    active = np.zeros(H, bool)
    W, A = np.zeros_like(W0), np.zeros_like(A0)
    n = X.shape[0]

    def residual(Z):
        return Y - (Z * Z) @ A

    R = residual(X @ W.T)
    levels = [0.5 * np.mean((R ** 2).sum(1))]
    times, t, nd, nc = [], 0.0, 0, 0
    while t < t_max and len(times) < max_rounds and not active.all():
        # dormant phase: fixed-step utility ascent until some S_i crosses its threshold
        while t < t_max:
            U, gW, gA = _utility_and_grad(X, R, Wd, Ad)
            rho = 1.0 / np.maximum(1.0 / rho0 - S, 1.0)
            # projected gradient ascent on the sphere at speed rho (kappa = 3)
            gW -= 3.0 * U[:, None] * Wd
            gA -= 3.0 * U[:, None] * Ad
            Wd = Wd + dt * rho[:, None] * gW
            Ad = Ad + dt * rho[:, None] * gA
            nrm = np.sqrt((Wd ** 2).sum(1) + (Ad ** 2).sum(1))
            Wd, Ad = Wd / nrm[:, None], Ad / nrm[:, None]
            S = np.where(active, S, S + dt * 3.0 * U)
            t += dt
            nd += 1
            if np.any(~active & (S >= c)):
                break
        new = np.flatnonzero(~active & (S >= c))
        if new.size == 0:
            break
        active[new] = True
        W[new], A[new] = Wd[new], Ad[new]
        # cost minimization: a fixed number of gradient-descent steps on the active neurons
        for _ in range(cost_steps):
            Z = X @ W.T
            R = residual(Z)
            RA = R @ A.T
            gW = -2.0 * ((RA * Z).T @ X) / n
            gA = -((Z * Z).T @ R) / n
            W -= lr * gW * active[:, None]
            A -= lr * gA * active[:, None]
            nc += 1
        R = residual(X @ W.T)
        times.append(t)
        levels.append(0.5 * np.mean((R ** 2).sum(1)))
    return np.array(times), np.array(levels), nd, nc
