"""One plotting style for every agf figure (replaces the notebooks' copy-pasted helpers)."""

from __future__ import annotations

COLORS = {"gradient_flow": "#1f3b73", "gradient_descent": "#7a9cc6", "agf": "#d1495b", "theory": "#2e933c"}

RC = {
    "figure.dpi": 110,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.25,
    "font.size": 10,
    "legend.frameon": False,
}


def new_axes(ax=None, figsize=(6.4, 4.0)):
    """Return ``ax`` or a fresh axes in agf's style (matplotlib imported lazily)."""
    import matplotlib.pyplot as plt

    if ax is not None:
        return ax
    with plt.rc_context(RC):
        _, ax = plt.subplots(figsize=figsize)
    for k in ("top", "right"):
        ax.spines[k].set_visible(False)
    ax.grid(True, alpha=0.25)
    return ax
