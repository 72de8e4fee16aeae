"""Quadratic network on modular addition: method sections 5d and 6.5."""

from __future__ import annotations

import numpy as np

import agf
import agf.theory
from agf.experiments._run import check_alpha, run
from agf.experiments.result import ExperimentResult

__all__ = ["modular"]


def _features(res: ExperimentResult):
    import matplotlib.pyplot as plt

    import agf.plot as aplt
    from agf.analysis.features import frequency_power

    p = res.task.info["p"]
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(12, 4.2), gridspec_kw={"width_ratios": [1.1, 1]})
    P = np.array([frequency_power(q, p) for q in res.gf.params])
    aplt.fourier_power(res.gf.t, P, ax=a1, xlabel="t (canonical gradient-flow time)")
    a1.set_title("Fourier power per frequency (gradient flow)")
    aplt.modular_weights(res.gf.final_params, p, ax=a2)
    a2.set_title("learned weights at the end of gradient flow")
    return fig


def modular(alpha: float = 1e-2, *, seed=0, full: bool = False, gd: bool = False, width: int | None = None,
            p: int = 20, n_threads: int = 1, progress=False) -> ExperimentResult:
    """Method section 6.5: p = 20, the paper's template (|x_hat| = 10, 5, 2.5 at xi = 1, 3, 5),
    ``TwoLayer(2p, p, width, "square")`` initialised with the notebooks' scheme at ``alpha``.
    Width 18 (the paper's; a frequency needs several neurons to be fitted exactly, so much
    narrower networks do not reach the theory's plateaus); ``full`` changes nothing else here. ``gd`` adds full-batch SGD with lr 0.01 and
    momentum 0.9 on MSELoss (the paper's optimizer). Levels are compared in canonical loss (the
    figures use MSELoss); the theory's jump times are lower bounds, and the observed time of a
    frequency is its first sub-step (``compare(..., time="first")``). AGF runs with
    run_agf's defaults for square neurons: ``cost_ftol=5e-4`` (cost minimization stops on loss
    stagnation) and ``loss_tol=1e-6``, see :func:`agf.run_agf` (and its caveat on seeds)."""
    import agf.analysis  # noqa: F401

    alpha = check_alpha(alpha)
    width = width or 18
    task = agf.tasks.modular_addition(p, "paper")
    model = agf.TwoLayer(2 * p, p, int(width), "square")
    p0 = model.init(alpha, seed=seed)
    theory = agf.theory.modular(task.info["template"], alpha=alpha)

    def horizon(res, th):
        last = float(res.jump_times[-1]) if res.n_jumps else float(th.jump_times[-1])
        return 1.3 * max(last, float(th.jump_times[-1]))

    gd_opts = dict(lr=0.01, momentum=0.9) if gd else None
    out = run("modular", task, model, p0, alpha, theory, horizon=horizon, gd=gd_opts, compare_time="first",
              feature_plot=_features, n_threads=n_threads, progress=progress,
              gf_kw=dict(rtol=1e-7), info={"seed": seed, "width": width, "p": p})
    ff = agf.analysis.features.fourier(out.gf.final_params, p)
    out.info["dominant_frequencies"] = ff.dominant.tolist()
    out.info["dominant_fraction"] = ff.fraction.tolist()
    return out
