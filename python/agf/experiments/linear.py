"""Fully connected linear networks: method sections 5b and 6.3."""

from __future__ import annotations

import math

import numpy as np

import agf
import agf.theory
from agf.experiments._run import check_alpha, run
from agf.experiments.result import ExperimentResult

__all__ = ["linear", "linear_noncommuting"]


def _features(res: ExperimentResult):
    import matplotlib.pyplot as plt

    import agf.plot as aplt
    from agf.analysis.features import linear_map, svd_alignment

    B = res.task.info["B"]
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(11, 4))
    log_inv = math.log(1.0 / res.alpha)
    S = np.array([np.linalg.svd(linear_map(p), compute_uv=False) for p in res.gf.params])
    tgt = np.linalg.svd(B, compute_uv=False)
    aplt.singular_values(res.gf.t / log_inv, S, ax=a1, targets=tgt, xlabel="t / log(1/alpha)", log=True)
    a1.set_title("singular values of A W (gradient flow); target B dotted")
    al = svd_alignment(linear_map(res.gf.final_params), B)
    k = np.arange(al.singular_values.size)
    a2.bar(k - 0.2, al.left_cosines, width=0.4, label="left |<u_k, u*_k>|")
    a2.bar(k + 0.2, al.right_cosines, width=0.4, label="right |<v_k, v*_k>|")
    a2.set_ylim(0, 1.05)
    a2.set_xlabel("mode k")
    a2.set_title("alignment of the learned map with the target (end)")
    a2.legend(fontsize=8)
    return fig


def _linear(setting, commuting, alpha, seed, full, gd, d, n_threads, progress):
    alpha = check_alpha(alpha)
    d = int(d or (10 if full else 5))
    task = agf.tasks.linear_regression(d, d, commuting=commuting, seed=seed)
    model = agf.TwoLayer(d, d, d, "linear")
    p0 = model.init(alpha, seed=seed)
    rho = float(np.exp(np.mean(np.log(model.neuron_norms(p0)))))  # the theory's ||theta0||
    info = task.info
    theory = agf.theory.linear(info["Sxx"], info["Syx"], Syy=info["Syy"], alpha=rho)

    def horizon(res, th):
        last = float(res.jump_times[-1]) if res.n_jumps else float(th.jump_times[-1])
        return 1.6 * max(last, float(th.jump_times[-1]))  # the last drops are slow (rate sigma_min)

    gd_opts = dict(lr=0.01) if gd else None
    return run(setting, task, model, p0, alpha, theory, horizon=horizon, gd=gd_opts, feature_plot=_features,
               n_threads=n_threads, progress=progress,
               info={"seed": seed, "d": d, "commuting": commuting, "theory_init_norm": rho,
                     "note": "theory times use ||theta0|| = geometric mean of the initial neuron norms"})


def linear(alpha: float = 1e-6, *, seed=0, full: bool = False, gd: bool = False, d: int | None = None,
           commuting: bool = True, n_threads: int = 1, progress=False) -> ExperimentResult:
    """Method section 6.3: ``TwoLayer(d, d, d, "linear")`` on the exact population loss of
    ``y = B x``, ``Sxx = diag(1/i^2)``. ``commuting=True``: tau(k) = 1/sigma_k(Syx). Default d = 5
    (``full``: 10). ``gd`` adds gradient descent (lr 0.01)."""
    import agf.analysis  # noqa: F401

    name = "linear" if commuting else "linear-noncommuting"
    return _linear(name, commuting, alpha, seed, full, gd, d, n_threads, progress)


def linear_noncommuting(alpha: float = 1e-6, *, seed=0, full: bool = False, gd: bool = False, d: int | None = None,
                        n_threads: int = 1, progress=False) -> ExperimentResult:
    """:func:`linear` with ``B ~ randn`` (the jump-time recursion; method 6.3 non-commuting)."""
    return linear(alpha, seed=seed, full=full, gd=gd, d=d, commuting=False, n_threads=n_threads, progress=progress)
