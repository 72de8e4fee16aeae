"""AGF engine benchmark (issue 3): wall time of run_agf against gradient flow over the same
horizon, and how the cost of run_agf changes as alpha shrinks.

    .venv/bin/python bench/bench_agf.py [--skip-modular]

1. Method section 6.5 (modular addition, width 18, alpha 1e-2): run_agf (its defaults for square
   neurons: cost_ftol 5e-4, loss_tol 1e-6) vs gradient_flow (method "auto",
   rtol 1e-7) to the last AGF jump that lowers the loss by more than 1e-4, and vs the research
   notebooks' AGF loop re-implemented in numpy (bench/notebook_agf.py: fixed-step utility
   ascent dt 0.05, 5000 gradient-descent steps of lr 1e-3 per cost minimization).
2. Method section 6.2 (diagonal 5D): run_agf and gradient_flow (auto) at alpha 1e-2 ... 1e-16
   (gradient flow to 1.2 x the last jump); run_agf also at 1e-100.
3. A whitened linear network (d = c = H = 10): run_agf vs gradient_flow at alpha 1e-2 ... 1e-8.
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np

import agf
from agf.run_agf import AGFConvergenceWarning
from agf.tasks import diagonal_5d, modular_addition


def timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--skip-modular", action="store_true")
    args = ap.parse_args()
    print(f"agf {agf.__version__} (core {agf._core.isa})")

    if not args.skip_modular:
        task = modular_addition(20)
        model = agf.TwoLayer(40, 20, 18, "square")
        p0 = model.init(1e-2, seed=0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", AGFConvergenceWarning)
            t_agf, res = timed(lambda: agf.run_agf(model, task.data, p0))
        drops = -np.diff(res.levels)
        t_end = float(res.jump_times[np.nonzero(drops > 1e-4 * res.levels[0])[0][-1]]) * 1.05
        t_gf, gf = timed(lambda: agf.gradient_flow(model, task.data, p0, t_end, method="auto", rtol=1e-7,
                                                   save_at=[0.0, t_end]))
        print(f"6.5 modular: run_agf {t_agf:.1f} s ({len(res.jump_times)} jumps, {res.stats['n_cost_steps']} "
              f"cost-min steps, {res.stats['n_cost_grad']} cost-min gradients); gradient_flow(auto) to "
              f"t={t_end:.0f}: {t_gf:.1f} s ({gf.stats['n_grad']} gradients); ratio GF/AGF = {t_gf / t_agf:.2f}")
        print(f"   run_agf MSELoss levels {np.round(res.levels_mse, 5).tolist()}")
        import os
        import sys
        sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
        from notebook_agf import notebook_agf

        t_nb, (nb_t, nb_levels, nd, nc) = timed(lambda: notebook_agf(task.data.X, task.data.Y, p0["w"], p0["a"],
                                                                     dt=0.05, cost_steps=5000, lr=1e-3))
        print(f"   notebook AGF loop (numpy): {t_nb:.1f} s ({len(nb_t)} jumps, {nd} utility steps, {nc} GD steps); "
              f"MSELoss levels {np.round(nb_levels * task.loss_scale, 5).tolist()}")

    task = diagonal_5d()
    model = agf.DiagonalLinear(5)
    for alpha in (1e-2, 1e-4, 1e-8, 1e-16, 1e-100):
        p0 = model.init(alpha)
        t_agf, res = timed(lambda: agf.run_agf(model, task.data, p0))
        line = f"6.2 diagonal alpha={alpha:g}: run_agf {t_agf * 1e3:.1f} ms"
        if alpha >= 1e-16:
            T = 1.2 * float(res.jump_times[-1])
            t_gf, gf = timed(lambda: agf.gradient_flow(model, task.data, p0, T, method="auto", save_at=[0.0, T]))
            line += f"; gradient_flow(auto) to t={T:.0f}: {t_gf * 1e3:.1f} ms ({gf.stats['n_grad']} gradients)"
        print(line)

    rng = np.random.default_rng(0)
    d = 10
    X = rng.normal(size=(200, d))
    X = (X - X.mean(0)) @ np.linalg.inv(np.linalg.cholesky(np.cov(X.T, bias=True))).T
    Y = X @ rng.normal(size=(d, d)).T
    data = agf.Dataset(X, Y)
    model = agf.TwoLayer(d, d, d, "linear")
    for alpha in (1e-2, 1e-4, 1e-8):
        p0 = model.init(alpha, seed=1)
        t_agf, res = timed(lambda: agf.run_agf(model, data, p0))
        T = 1.2 * float(res.jump_times[-1])
        t_gf, gf = timed(lambda: agf.gradient_flow(model, data, p0, T, method="auto", save_at=[0.0, T]))
        print(f"linear d=c=H=10 alpha={alpha:g}: run_agf {t_agf * 1e3:.1f} ms; gradient_flow(auto) to t={T:.0f}: "
              f"{t_gf * 1e3:.1f} ms ({gf.stats['n_grad']} gradients); ratio {t_gf / t_agf:.1f}")


if __name__ == "__main__":
    main()
