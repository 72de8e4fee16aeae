"""Feature panels: beta paths and utilities (diagonal), singular values over time (linear
networks, attention), Fourier power per frequency over time and learned weights (modular
addition). Every function takes ``ax=`` and returns the axes; matplotlib is imported lazily."""

from __future__ import annotations

import numpy as np

from agf.errors import ConfigError
from agf.plot.style import new_axes

__all__ = ["beta_paths", "utilities", "singular_values", "fourier_power", "modular_weights"]


def _xy(t, Y, name):
    t = np.asarray(t, dtype=float)
    Y = np.asarray(Y, dtype=float)
    if Y.ndim != 2 or Y.shape[0] != t.size:
        raise ConfigError(f"{name} must have shape (len(t), k), got {Y.shape} for {t.size} times")
    return t, Y


def beta_paths(t, betas, *, ax=None, saddle_times=None, saddles=None, xlabel="t", labels=None, **kw):
    """Coordinates of ``beta(t)`` (shape (len(t), d)) against time; optionally the theory's
    saddles (``saddles`` (n_jumps + 1, d), entered at ``saddle_times`` (n_jumps,)) dashed."""
    ax = new_axes(ax)
    t, B = _xy(t, betas, "betas")
    import matplotlib.pyplot as plt

    cyc = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for i in range(B.shape[1]):
        c = cyc[i % len(cyc)]
        ax.plot(t, B[:, i], color=c, label=(labels[i] if labels else f"beta_{i}"), **kw)
        if saddles is not None and saddle_times is not None:
            st = np.asarray(saddle_times, float)
            sv = np.asarray(saddles, float)[:, i]
            xs = np.concatenate([[t[0]], np.repeat(st, 2), [t[-1]]])
            ax.plot(xs, np.repeat(sv, 2), color=c, ls="--", lw=0.9, alpha=0.8)
    ax.axhline(0.0, color="k", lw=0.5)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("beta = u * v")
    ax.legend(fontsize=8)
    return ax


def utilities(t, U, *, ax=None, xlabel="t", labels=None, **kw):
    """Maximal utility of every dormant coordinate/neuron over time (shape (len(t), k))."""
    ax = new_axes(ax)
    t, U = _xy(t, U, "U")
    for i in range(U.shape[1]):
        ax.plot(t, U[:, i], label=(labels[i] if labels else f"U*_{i}"), **kw)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("max utility U* = |dL/dbeta_i| / 2")
    ax.legend(fontsize=8)
    return ax


def singular_values(t, S, *, ax=None, targets=None, xlabel="t", log=False, **kw):
    """Singular values of the learned map over time (shape (len(t), r)); ``targets`` dotted."""
    ax = new_axes(ax)
    t, S = _xy(t, S, "S")
    import matplotlib.pyplot as plt

    cyc = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for k in range(S.shape[1]):
        ax.plot(t, S[:, k], color=cyc[k % len(cyc)], label=f"sigma_{k + 1}", **kw)
        if targets is not None and k < len(targets):
            ax.axhline(float(targets[k]), color=cyc[k % len(cyc)], ls=":", lw=0.8)
    if log:
        ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel("singular values of the learned map")
    ax.legend(fontsize=8, ncol=2)
    return ax


def fourier_power(t, P, *, ax=None, frequencies=None, xlabel="t", min_fraction=1e-3, **kw):
    """Power per frequency over time (shape (len(t), p//2 + 1), frequency 0 first); frequencies
    whose power never exceeds ``min_fraction`` of the largest are not drawn."""
    ax = new_axes(ax)
    t, P = _xy(t, P, "P")
    freqs = range(1, P.shape[1]) if frequencies is None else frequencies
    top = P.max() if P.size else 1.0
    for xi in freqs:
        if P[:, xi].max() >= min_fraction * top:
            ax.plot(t, P[:, xi], label=f"xi={xi}", **kw)
    ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel("parameter power per frequency")
    ax.legend(fontsize=8, ncol=2)
    return ax


def modular_weights(params, p: int | None = None, *, ax=None, sort: bool = True):
    """The learned weights of a modular-addition network as an image: one row per neuron
    ``[u | v | w]`` (sorted by dominant frequency), colour = value."""
    from agf.analysis.features import _uvw, fourier

    ax = new_axes(ax)
    u, v, w, p = _uvw(params, p)
    M = np.hstack([u, v, w])
    ff = fourier(params, p)
    rows = np.lexsort((-ff.norms, ff.dominant)) if sort else np.arange(M.shape[0])
    M = M[rows]
    lim = np.abs(M).max() or 1.0
    ax.imshow(M, aspect="auto", cmap="RdBu_r", vmin=-lim, vmax=lim, interpolation="nearest")
    for x in (p - 0.5, 2 * p - 0.5):
        ax.axvline(x, color="k", lw=0.8)
    ax.set_xticks([p / 2, 1.5 * p, 2.5 * p])
    ax.set_xticklabels(["u (on a)", "v (on b)", "w (output)"])
    ax.set_yticks(range(M.shape[0]))
    ax.set_yticklabels([f"{int(ff.dominant[r])}" for r in rows], fontsize=6)
    ax.set_ylabel("neuron (dominant frequency)")
    ax.grid(False)
    return ax


