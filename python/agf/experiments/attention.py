"""Linear attention heads on in-context linear regression: method sections 5c and 6.4."""

from __future__ import annotations

import numpy as np

import agf
import agf.theory
from agf.errors import ConfigError
from agf.experiments._run import check_alpha, run
from agf.experiments.result import ExperimentResult

__all__ = ["attention"]


def _features(res: ExperimentResult):
    import matplotlib.pyplot as plt

    import agf.plot as aplt

    fig, ax = plt.subplots(figsize=(7, 4))
    S = np.array([np.linalg.svd(res.model.matrix(p), compute_uv=False) for p in res.gf.params])
    tgt = np.sort(res.theory.extras["singular_values"])
    aplt.singular_values(res.gf.t, S, ax=ax, targets=tgt, xlabel="t (canonical gradient-flow time)")
    ax.set_title("singular values of sum_i v_i k_i q_i^T; theory dotted")
    return fig


def attention(alpha: float = 1e-3, *, seed=0, full: bool = False, gd: bool = False, heads: int = 5, D: int = 4,
              N: int = 32, n_threads: int = 1, progress=False) -> ExperimentResult:
    """Method section 6.4: D = 4, N = 32, lambda proportional to (1, 1/2, 1/3, 1/4) summing to 2,
    5 rank-one heads, alpha = 1e-3, exact population loss. ``gd`` adds gradient descent
    (lr 0.01). The theory gives levels and learned singular values, and a lower bound on the first
    jump time only."""
    import agf.analysis  # noqa: F401

    if not hasattr(agf, "LinearAttention") or not hasattr(agf.tasks, "in_context_regression"):
        raise ConfigError("the attention experiment is not available yet (needs agf.LinearAttention and "
                          "agf.tasks.in_context_regression)")
    alpha = check_alpha(alpha)
    task = agf.tasks.in_context_regression(D, N)
    model = agf.LinearAttention(D, heads)
    p0 = model.init(alpha, seed=seed)
    theory = agf.theory.attention(task.info["eigenvalues"], N, alpha=alpha)

    def horizon(res, th):
        last = float(res.jump_times[-1]) if res.n_jumps else 10.0 / alpha
        return 1.3 * last

    gd_opts = dict(lr=0.01) if gd else None
    out = run("attention", task, model, p0, alpha, theory, horizon=horizon, gd=gd_opts, compare_time="first",
              feature_plot=_features, n_threads=n_threads, progress=progress,
              info={"seed": seed, "heads": heads, "D": D, "N": N})
    out.info["learned_singular_values"] = np.linalg.svd(model.matrix(out.gf.final_params), compute_uv=False).tolist()
    return out
