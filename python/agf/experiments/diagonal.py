"""Diagonal linear networks: method sections 6.1 (2D) and 6.2 (5D)."""

from __future__ import annotations

import math

import numpy as np

import agf
import agf.theory
from agf.experiments._run import check_alpha, run
from agf.experiments.result import ExperimentResult

__all__ = ["diagonal_2d", "diagonal_5d"]


def _features(res: ExperimentResult):
    import matplotlib.pyplot as plt

    import agf.plot as aplt

    fig, (a1, a2) = plt.subplots(1, 2, figsize=(11, 4))
    gf = res.gf
    log_inv = math.log(1.0 / res.alpha)
    tr = gf.t / log_inv
    betas = np.array([res.model.beta(p) for p in gf.params])
    X, y = res.task.data.X, res.task.data.Y[:, 0]
    grads = (betas @ X.T - y) @ X / X.shape[0]
    th = res.theory
    aplt.beta_paths(tr, betas, ax=a1, saddle_times=th.rescaled_times, saddles=th.extras["saddles"],
                    xlabel="t / log(1/alpha)")
    a1.set_title("beta(t): gradient flow (solid), theory saddles (dashed)")
    aplt.utilities(tr, np.abs(grads) / 2, ax=a2, xlabel="t / log(1/alpha)")
    a2.set_yscale("log")
    a2.set_title("utilities of the coordinates along gradient flow")
    return fig


def _diagonal(setting, task, alpha, seed, gd, n_threads, progress):
    alpha = check_alpha(alpha)
    d = task.data.d_in
    model = agf.DiagonalLinear(d)
    p0 = model.init(alpha)  # u = sqrt(2) alpha, v = 0: the theory's initialization
    X, y = task.data.X, task.data.Y[:, 0]
    theory = agf.theory.diagonal(X, y, alpha=alpha)

    def horizon(res, th):
        last = max(float(th.jump_times[-1]), float(res.jump_times[-1]) if res.n_jumps else 0.0)
        return 1.25 * last

    gd_opts = dict(lr=0.01) if gd else None
    out = run(setting, task, model, p0, alpha, theory, horizon=horizon, gd=gd_opts, feature_plot=_features,
              n_threads=n_threads, progress=progress, info={"seed": seed, "note": "deterministic init u=sqrt(2)alpha, v=0"})
    beta_final = model.beta(out.gf.final_params)
    out.info["support"] = agf.analysis.features.support(beta_final)[1].tolist()
    return out


def diagonal_2d(alpha: float = 1e-6, *, seed=0, full: bool = False, gd: bool = False, n_threads: int = 1,
                progress=False) -> ExperimentResult:
    """Method section 6.1 (Pesme & Flammarion's 2D example): gradient flow, AGF and the
    saddle-to-saddle theory from ``u = sqrt(2) alpha, v = 0``. ``full`` uses alpha = 1e-12
    (unless given otherwise); ``gd`` adds gradient descent (lr 0.01). ``seed`` is unused (the
    initialization is deterministic)."""
    import agf.analysis  # noqa: F401

    if full and alpha == 1e-6:
        alpha = 1e-12
    return _diagonal("diagonal-2d", agf.tasks.diagonal_2d(), alpha, seed, gd, n_threads, progress)


def diagonal_5d(alpha: float = 1e-6, *, seed=0, full: bool = False, gd: bool = False, n_threads: int = 1,
                progress=False) -> ExperimentResult:
    """Method section 6.2: d = 5, n = 20, order [1, 2, 3, 0, 4]. As :func:`diagonal_2d`."""
    import agf.analysis  # noqa: F401

    if full and alpha == 1e-6:
        alpha = 1e-12
    return _diagonal("diagonal-5d", agf.tasks.diagonal_5d(), alpha, seed, gd, n_threads, progress)
