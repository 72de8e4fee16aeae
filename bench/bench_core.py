"""Core benchmark (issue 2): gradient descent and gradient flow on method section 6.5 against
plain numpy implementations of the same loops, in one process.

    .venv/bin/python bench/bench_core.py [--steps 5000] [--horizon 60]

GD: agf.gradient_descent vs a numpy loop of the torch.optim.SGD rule (momentum 0.9, MSELoss).
GF: agf.gradient_flow (Dormand-Prince, rtol 1e-7) vs SciPy solve_ivp(RK45, same rtol, atol 0)
with a numpy gradient, over canonical t in [0, horizon].
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from scipy.integrate import solve_ivp

import agf
from agf.tasks import modular_addition


def numpy_grad(W, A, X, Y):
    n = X.shape[0]
    Z = X @ W.T
    S = Z * Z
    R = Y - S @ A
    gA = -(S.T @ R) / n
    gW = -(((R @ A.T) * (2.0 * Z)).T @ X) / n
    return 0.5 * np.sum(R * R) / n, gW, gA


def numpy_sgd(W, A, X, Y, lr, steps, momentum, s):
    W, A = W.copy(), A.copy()
    bw = ba = None
    for _ in range(steps):
        _, gW, gA = numpy_grad(W, A, X, Y)
        gW *= s
        gA *= s
        bw = gW if bw is None else momentum * bw + gW
        ba = gA if ba is None else momentum * ba + gA
        W -= lr * bw
        A -= lr * ba
    return W, A


def best_of(fn, repeat=3):
    best = np.inf
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=5000)
    ap.add_argument("--horizon", type=float, default=60.0)
    args = ap.parse_args()
    task = modular_addition(20)
    X, Y, s = task.data.X, task.data.Y, task.loss_scale
    model = agf.TwoLayer(40, 20, 18, "square")
    p0 = model.init(1e-2, seed=0)
    print(f"agf {agf.__version__}, has_openmp={agf.has_openmp}; modular addition p=20, width 18, alpha 1e-2")

    t_np, (W, A) = best_of(lambda: numpy_sgd(p0["w"], p0["a"], X, Y, 0.01, args.steps, 0.9, s))
    t_agf, tr = best_of(lambda: agf.gradient_descent(model, task.data, p0, 0.01, args.steps, momentum=0.9,
                                                      loss_scale=s, save_every=args.steps))
    err = max(np.max(np.abs(tr.final_params["w"] - W)), np.max(np.abs(tr.final_params["a"] - A)))
    print(f"GD  {args.steps} steps: numpy {t_np / args.steps * 1e6:7.1f} us/step, agf {t_agf / args.steps * 1e6:7.1f} "
          f"us/step, ratio numpy/agf = {t_np / t_agf:.2f}x  (max |param diff| {err:.1e})")
    t_agf2, _ = best_of(lambda: agf.gradient_descent(model, task.data, p0, 0.01, args.steps, momentum=0.9,
                                                      loss_scale=s, save_every=args.steps, n_threads=2))
    print(f"GD  {args.steps} steps, agf n_threads=2: {t_agf2 / args.steps * 1e6:7.1f} us/step, "
          f"ratio numpy/agf = {t_np / t_agf2:.2f}x")

    shapes = (p0["w"].shape, p0["a"].shape)
    nw = p0["w"].size

    def rhs(t, y):
        _, gW, gA = numpy_grad(y[:nw].reshape(shapes[0]), y[nw:].reshape(shapes[1]), X, Y)
        return -np.concatenate([gW.ravel(), gA.ravel()])

    y0 = p0.to_vector()
    t_sp, sol = best_of(lambda: solve_ivp(rhs, (0, args.horizon), y0, method="RK45", rtol=1e-7, atol=0.0), repeat=1)
    t_gf, gf = best_of(lambda: agf.gradient_flow(model, task.data, p0, args.horizon, rtol=1e-7,
                                                  save_at=[0.0, args.horizon]), repeat=1)
    print(f"GF  t in [0, {args.horizon:g}]: scipy RK45+numpy {t_sp:6.2f} s ({sol.nfev} evaluations), "
          f"agf {t_gf:6.2f} s ({gf.stats['n_grad']} evaluations), ratio = {t_sp / t_gf:.2f}x; "
          f"final loss scipy {model.loss(task.data, model.from_vector(sol.y[:, -1])):.6f} agf {gf.loss[-1]:.6f}")


if __name__ == "__main__":
    main()
