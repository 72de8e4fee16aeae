"""The project's main job (``make demo``): gradient flow and AGF from the same initialization on
the paper's modular-addition setting (method section 6.5), side by side with theory.

    python -m agf.demo --out out [--gd]

prints the AGF jump times and plateau levels next to the drops detected in gradient flow, the
loss at log-spaced times, and writes ``out/demo_modular.png``: the gradient-flow loss with the
AGF staircase, its jump times and the theory plateaus overlaid. ``--gd`` adds gradient descent
with the paper's optimizer (SGD lr 0.01, momentum 0.9, 2e5 steps: about 20-40 s more).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import warnings

import numpy as np

import agf
from agf.run_agf import AGFConvergenceWarning
from agf.tasks import modular_addition
from agf.theory import modular as modular_theory


def _log_times(t_max: float, n: int = 14) -> np.ndarray:
    return np.unique(np.concatenate([[0.0], np.geomspace(t_max / 2 ** (n - 2), t_max, n - 1)]))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m agf.demo", description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="out", help="folder for the figure (default: out)")
    ap.add_argument("--alpha", type=float, default=1e-2, help="initialization scale (default 1e-2)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--horizon", type=float, default=None,
                    help="canonical time horizon (default 2000 with the stiff integrator, else 60)")
    ap.add_argument("--gd", action="store_true", help="also run gradient descent with the paper's optimizer")
    ap.add_argument("--gd-steps", type=int, default=None, help="gradient-descent steps (default: horizon / 0.01)")
    ap.add_argument("--n-threads", type=int, default=2)
    args = ap.parse_args(argv)

    task = modular_addition(20, "paper")
    s = task.loss_scale
    model = agf.TwoLayer(task.data.d_in, task.data.d_out, 18, "square")
    p0 = model.init(args.alpha, seed=args.seed)
    theory = modular_theory(task.info["template"], alpha=args.alpha)
    stiff = "auto" in agf.METHODS
    horizon = args.horizon or (2000.0 if stiff else 60.0)
    method = "auto" if stiff else "explicit"
    dt = agf.units.gd_time_per_step(0.01, loss_scale=s, momentum=0.9)
    gd_steps = args.gd_steps or int(round(horizon / dt))

    print(f"agf {agf.__version__}: modular addition p=20 (method 6.5), {model}, alpha={args.alpha:g}, seed={args.seed}")
    print(f"losses are PyTorch MSELoss = {s:g} x canonical; times t are canonical gradient-flow time")
    print(f"theory: frequencies {list(theory.order)}, MSELoss levels {np.round(theory.levels_mse, 5).tolist()}, "
          f"jump-time lower bounds {np.round(theory.jump_times, 1).tolist()}")

    t0 = time.perf_counter()
    gf = agf.gradient_flow(model, task.data, p0, horizon, method=method, rtol=1e-7, loss_scale=s,
                           save_at=np.linspace(0, horizon, 2001), n_threads=1)
    t_gf = time.perf_counter() - t0
    print(f"gradient flow ({method}): {gf.stats['n_steps']} steps, {gf.stats['n_grad']} gradients, {t_gf:.1f} s")
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", AGFConvergenceWarning)  # counted in res.stats, reported below
        res = agf.run_agf(model, task.data, p0, loss_scale=s, n_threads=args.n_threads)
    t_agf = time.perf_counter() - t0
    print(f"AGF: {len(res.jump_times)} jumps, status {res.status!r}, {t_agf:.1f} s "
          f"({res.stats['n_cost_stagnated']} cost minimizations ended on loss stagnation, "
          f"{res.stats['n_cost_not_converged']} at their budget)")
    gd = None
    if args.gd:
        t0 = time.perf_counter()
        gd = agf.gradient_descent(model, task.data, p0, lr=0.01, steps=gd_steps, momentum=0.9, loss_scale=s,
                                  save_every=max(1, gd_steps // 4000))
        print(f"gradient descent (lr 0.01, momentum 0.9, {gd_steps} steps = t {gd_steps * dt:g}): "
              f"{time.perf_counter() - t0:.1f} s")

    print("\nAGF jumps (canonical time, MSELoss level after the jump) against gradient flow:")
    table = agf.compare(res, gf, names=("AGF", "gradient flow"))
    cols = ["jump", "label", "predicted_time", "observed_time", "time_rel_error", "predicted_level",
            "observed_level", "status"]
    fmt = table[cols].copy()
    fmt[["predicted_level", "observed_level"]] *= s
    print(fmt.rename(columns={"label": "neuron", "predicted_time": "t AGF", "observed_time": "t GF",
                              "time_rel_error": "rel. gap", "predicted_level": "level AGF",
                              "observed_level": "level GF"}).to_string(index=False, float_format=lambda v: f"{v:.5g}"))
    print()
    header = f"{'t':>10} {'GF loss':>10} {'AGF loss':>10}" + (f" {'GD loss':>10}" if gd is not None else "")
    print(header)
    for t in _log_times(horizon):
        row = f"{t:10.3f} {gf.loss_at(t):10.5f} {res.loss(t) * s:10.5f}"
        if gd is not None:
            row += f" {np.interp(t, gd.t, gd.loss):10.5f}"
        print(row)

    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        import agf.plot as aplt
    except ImportError:
        print("\nmatplotlib is not installed: no figure (pip install 'agf[plot]')")
        return 0
    os.makedirs(args.out, exist_ok=True)
    ax = aplt.new_axes(figsize=(7.5, 4.2))
    if gd is not None:
        aplt.loss_curve(gd, ax=ax, label="gradient descent (lr 0.01, momentum 0.9)", lw=3, alpha=0.6)
    aplt.loss_curve(gf, ax=ax, label=f"gradient flow ({method})", lw=1.4)
    aplt.staircase(res.jump_times, np.asarray(res.levels) * s, ax=ax, t_end=horizon, label="AGF")
    for lvl in theory.levels_mse:
        ax.axhline(lvl, color=aplt.COLORS["theory"], lw=0.7, ls=":")
    ax.plot([], [], color=aplt.COLORS["theory"], ls=":", label="theory plateaus")
    ax.set_xlim(0, horizon)
    ax.set_title(f"Modular addition p=20, width 18, alpha={args.alpha:g}")
    ax.legend()
    path = os.path.join(args.out, "demo_modular.png")
    ax.figure.tight_layout()
    ax.figure.savefig(path)
    plt.close(ax.figure)
    print(f"\nwrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
