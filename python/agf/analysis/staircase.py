"""Staircase detection on a loss curve (gradient flow or gradient descent).

A loss curve from small initialization is a staircase: long plateaus (O(log 1/alpha) time)
separated by fast drops (O(1) time). :func:`detect_staircase` returns the plateau levels and the
drop times, with the same attribute names as :class:`agf.AGFResult` and
:class:`agf.theory.TheoryResult` (``levels``, ``jump_times``, ``rescaled_times``, ``order``), so a
detected staircase can be passed to :func:`agf.compare` like the other two.

Algorithm (all steps in time, so non-uniform sampling is fine):

1. ``y = log(L + floor)`` with ``floor = floor_rtol * max(L)`` (levels below the floor count as 0),
   median-filtered over ``smooth`` samples (a median filter keeps monotone edges exactly and
   removes isolated noise), and its running minimum ``m`` (the monotone envelope: oscillations and
   the ringing of gradient descent with momentum do not create drops).
2. Greedy bands: a segment starts at a sample and extends while ``m`` stays within ``band`` (in
   ``log`` units; default ``log(1 + level_rtol)``) of its value at the start. A segment lasting at
   least ``min_duration`` is a plateau; shorter ones are parts of a drop. Its level is the median
   of the raw loss over its samples (so noise averages out). Adjacent plateaus whose levels agree
   within ``level_rtol`` are merged.
3. Drop ``k`` is at the time the median-filtered loss first crosses the midpoint
   ``(levels[k] + levels[k+1]) / 2`` after plateau ``k`` began, linearly interpolated between
   samples.
4. Sub-steps (``merge``): modular addition learns each frequency in close sub-steps (one per
   neuron). With ``merge=None`` (default) every plateau found is kept. With ``merge=r`` (a float),
   drops closer in time than ``r`` times the later drop's time, ``t[k+1] - t[k] < r * t[k+1]``,
   are one drop: the intermediate plateau is removed and the drop time is recomputed as the
   midpoint crossing of the merged levels. Relative gaps are used because plateau lengths grow
   with the jump time (1 : 8 : 64 in the paper's modular example).

The final segment counts as a plateau even if it is short (the run ended there); if the curve is
still falling at the end, the last level is the median of the last segment and ``converged`` is
False.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from agf.errors import ConfigError, DataError

__all__ = ["Staircase", "detect_staircase"]


@dataclass
class Staircase:
    """Plateaus and drops detected on a loss curve.

    Attributes
    ----------
    levels : (n_drops + 1,) plateau levels (canonical loss for a Trajectory; the given loss for
        ``(t, loss)``), before the first drop and after each drop.
    jump_times : (n_drops,) drop times (midpoint crossings), in the time units of the input.
    rescaled_times : ``jump_times / log(1/alpha)`` when ``alpha`` was given, else None.
    order : drop indices ``0, 1, ...`` (a detected staircase does not know what was learned).
    plateaus : (n_drops + 1, 2) start and end time of each plateau.
    converged : whether the curve ended on a plateau (False if it was still falling).
    alpha : the initialization scale used for ``rescaled_times`` (or None).
    kind : ``"gradient_flow"``, ``"gradient_descent"`` or ``"curve"``.
    t, loss : the curve the staircase was read from (canonical loss for a Trajectory).
    """

    levels: np.ndarray
    jump_times: np.ndarray
    rescaled_times: np.ndarray | None
    order: list
    plateaus: np.ndarray
    converged: bool
    alpha: float | None = None
    kind: str = "curve"
    t: np.ndarray | None = field(default=None, repr=False)
    loss: np.ndarray | None = field(default=None, repr=False)

    @property
    def n_jumps(self) -> int:
        return len(self.jump_times)

    def loss_at(self, t) -> np.ndarray:
        """The piecewise-constant staircase at time(s) ``t``."""
        k = np.searchsorted(self.jump_times, np.asarray(t, dtype=float), side="right")
        return self.levels[k]

    def to_dataframe(self):
        """One row per plateau: ``jump`` (0 = initial plateau), ``jump_time``, ``rescaled_time``,
        ``level``, ``plateau_start``, ``plateau_end`` (needs pandas)."""
        import pandas as pd

        n = self.n_jumps
        rs = self.rescaled_times
        return pd.DataFrame({
            "jump": np.arange(n + 1),
            "jump_time": np.concatenate([[0.0], self.jump_times]),
            "rescaled_time": np.concatenate([[0.0], rs]) if rs is not None else np.full(n + 1, np.nan),
            "level": self.levels,
            "plateau_start": self.plateaus[:, 0],
            "plateau_end": self.plateaus[:, 1],
        })

    def __repr__(self) -> str:
        return (f"Staircase(levels={np.array2string(self.levels, precision=5)}, "
                f"jump_times={np.array2string(self.jump_times, precision=5)}, converged={self.converged})")


def _median_filter(y: np.ndarray, w: int) -> np.ndarray:
    if w <= 1 or y.size < 3:
        return y.copy()
    h = w // 2
    pad = np.concatenate([np.full(h, y[0]), y, np.full(h, y[-1])])
    win = np.lib.stride_tricks.sliding_window_view(pad, 2 * h + 1)
    return np.median(win, axis=1)


def _as_curve(obj):
    """(t, loss, kind, alpha) from a Trajectory, a (t, loss) pair, or anything with t and loss."""
    alpha = None
    kind = "curve"
    if isinstance(obj, tuple) and len(obj) == 2:
        t, loss = obj
    elif hasattr(obj, "t") and hasattr(obj, "loss"):
        t = obj.t
        loss = obj.loss_canonical if hasattr(obj, "loss_canonical") else obj.loss
        kind = getattr(obj, "kind", "curve")
        info = getattr(obj, "info", None) or {}
        alpha = info.get("alpha")
    else:
        raise ConfigError("give a Trajectory or a (t, loss) pair")
    try:
        t = np.asarray(t, dtype=float).ravel()
        loss = np.asarray(loss, dtype=float).ravel()
    except (TypeError, ValueError) as exc:
        raise DataError("t and loss must be numeric arrays") from exc
    if t.size != loss.size:
        raise ConfigError(f"t has {t.size} entries but loss has {loss.size}")
    if t.size < 3:
        raise ConfigError("a loss curve needs at least 3 samples")
    if not (np.all(np.isfinite(t)) and np.all(np.isfinite(loss))):
        raise DataError("t and loss must be finite")
    if np.any(np.diff(t) < 0):
        idx = np.argsort(t, kind="stable")
        t, loss = t[idx], loss[idx]
    if np.any(loss < 0):
        raise DataError("the loss must be non-negative")
    return t, loss, kind, alpha


def _crossing(t, s, start, level):
    """First time after index ``start`` where ``s`` falls below ``level`` (interpolated)."""
    below = np.flatnonzero(s[start:] < level)
    if below.size == 0:
        return math.nan
    j = start + int(below[0])
    if j == 0:
        return float(t[0])
    s0, s1 = s[j - 1], s[j]
    frac = (s0 - level) / (s0 - s1) if s0 != s1 else 1.0
    return float(t[j - 1] + frac * (t[j] - t[j - 1]))


def detect_staircase(
    curve,
    *,
    level_rtol: float = 0.05,
    band: float | None = None,
    min_duration: float | None = None,
    smooth: int | None = None,
    floor_rtol: float = 1e-6,
    merge: float | None = None,
    alpha: float | None = None,
) -> Staircase:
    """Plateau levels and drop times of a loss curve.

    Parameters
    ----------
    curve : :class:`agf.Trajectory` (its canonical loss is used), or a pair ``(t, loss)``.
    level_rtol : plateaus whose levels differ by less than this (relative) are one plateau;
        also sets the default ``band``.
    band : width, in ``log(loss)`` units, of the band a plateau stays in. Default
        ``max(log(1 + level_rtol), 6 sigma')`` with sigma' the noise of the filtered curve
        (estimated from the raw minus filtered log-loss by the median absolute deviation).
        A segment of the band counts as a plateau only if it is also flat (its last third is
        not lower than its first third by more than ``band / 3``: drop shoulders are not).
    min_duration : shortest plateau, in time units (default ``0.002 * (t[-1] - t[0])``).
    smooth : median-filter window in samples (odd; 1 = none). Default 5, or 11 on noisy curves
        (relative noise above 1%).
    floor_rtol : losses below ``floor_rtol * max(loss)`` count as 0 (one final plateau).
    merge : None to keep close sub-steps, or the relative time gap below which consecutive drops
        are merged into one (see the module docstring); e.g. ``0.25``.
    alpha : initialization scale; gives ``rescaled_times = jump_times / log(1/alpha)``
        (default: ``trajectory.info["alpha"]`` if present).

    Returns
    -------
    :class:`Staircase`.
    """
    t, loss, kind, alpha0 = _as_curve(curve)
    alpha = alpha0 if alpha is None else alpha
    if not 0 < level_rtol < 1:
        raise ConfigError(f"level_rtol must be in (0, 1), got {level_rtol!r}")
    if band is not None and not float(band) > 0:
        raise ConfigError(f"band must be > 0, got {band!r}")
    span = float(t[-1] - t[0])
    if span <= 0:
        raise ConfigError("the curve spans no time")
    min_duration = 0.002 * span if min_duration is None else float(min_duration)
    if min_duration < 0:
        raise ConfigError("min_duration must be >= 0")
    if smooth is not None and int(smooth) < 1:
        raise ConfigError("smooth must be >= 1")
    if merge is not None and not merge > 0:
        raise ConfigError(f"merge must be None or > 0, got {merge!r}")
    if alpha is not None and not 0 < float(alpha) < 1:
        raise ConfigError(f"alpha must be in (0, 1), got {alpha!r}")

    floor = floor_rtol * float(np.max(loss)) if np.max(loss) > 0 else 1.0
    raw = np.log(loss + floor)
    r = raw - np.log(_median_filter(loss, 5) + floor)
    sigma = 1.4826 * float(np.median(np.abs(r - np.median(r))))  # relative noise of the raw curve
    if smooth is None:
        smooth = 11 if sigma > 0.01 else 5
    smooth = int(smooth)
    s = _median_filter(loss, smooth)
    y = np.log(s + floor)
    sigma_f = sigma * 1.25 / math.sqrt(smooth)
    if band is None:
        band = max(math.log1p(level_rtol), 4.0 * sigma_f)
    band = float(band)
    h = band / 2  # kernel width in log-loss

    # time spent at each log-loss value: histogram weighted by the time each sample stands for
    dt = np.empty_like(t)
    dt[1:-1] = 0.5 * (t[2:] - t[:-2])
    dt[0] = 0.5 * (t[1] - t[0])
    dt[-1] = 0.5 * (t[-1] - t[-2])
    step = h / 8
    lo, hi = float(y.min()) - 4 * h, float(y.max()) + 4 * h
    nb = int(math.ceil((hi - lo) / step)) + 1
    idx = np.clip(((y - lo) / step).astype(int), 0, nb - 1)
    hist = np.bincount(idx, weights=dt, minlength=nb)
    ker_x = np.arange(-4 * 8, 4 * 8 + 1) * step
    ker = np.exp(-0.5 * (ker_x / h) ** 2)
    ker /= ker.sum()
    dens = np.convolve(hist, ker, mode="same")
    grid = lo + step * np.arange(nb)
    # local maxima holding at least min_duration of time within +-band of them
    cum = np.concatenate([[0.0], np.cumsum(hist)])
    w = int(round(band / step))
    # and standing out of the density around them: the valley towards any higher peak is at
    # most half the peak (the ridge of a slow drop has small noisy bumps, a plateau a spike)
    from scipy.signal import find_peaks

    cand, props = find_peaks(np.concatenate([[0.0], dens, [0.0]]), prominence=0.0)
    cand = cand - 1
    peaks = []
    for j, prom in zip(cand, props["prominences"]):
        mass = cum[min(nb, j + w + 1)] - cum[max(0, j - w)]
        if mass >= min_duration and prom >= 0.5 * dens[j]:
            peaks.append(int(j))
    # the end of the run is a plateau too if the curve finished below every plateau found
    last_y = float(y[-1])
    converged = True
    if not peaks or last_y < grid[min(peaks)] - band:
        peaks.append(int(np.clip(round((last_y - lo) / step), 0, nb - 1)))
        converged = False
    peaks = sorted(set(peaks), key=lambda j: -grid[j])  # decreasing level

    plateaus = []  # [start index, end index, level]
    for j in peaks:
        inb = np.flatnonzero(np.abs(y - grid[j]) <= band)
        if inb.size == 0:
            continue
        lvl = float(np.median(loss[inb]))
        if plateaus and inb[0] < plateaus[-1][0]:
            continue  # a lower level visited before a higher one: not a staircase step
        plateaus.append([int(inb[0]), int(inb[-1]), lvl])

    def close(a, b):
        if a <= 2 * floor and b <= 2 * floor:
            return True
        return abs(a - b) <= level_rtol * max(abs(a), abs(b))

    merged = [plateaus[0]]
    for p in plateaus[1:]:
        if close(p[2], merged[-1][2]):
            q = merged[-1]
            q[1] = max(q[1], p[1])
            q[2] = float(np.median(loss[q[0]:q[1] + 1]))
        else:
            merged.append(p)
    plateaus = merged

    def drops_of(pl):
        times = []
        for k in range(len(pl) - 1):
            mid = 0.5 * (pl[k][2] + pl[k + 1][2])
            tc = _crossing(t, s, pl[k][0], mid)
            if not np.isfinite(tc):  # noise kept the filtered curve above: use the raw one
                tc = _crossing(t, loss, pl[k][0], mid)
            times.append(tc)
        return times

    times = drops_of(plateaus)
    if merge is not None:
        changed = True
        while changed and len(times) >= 2:
            changed = False
            for k in range(len(times) - 1):
                if times[k + 1] - times[k] < merge * times[k + 1]:
                    del plateaus[k + 1]
                    times = drops_of(plateaus)
                    changed = True
                    break
    times = np.asarray(times, dtype=float)
    levels = np.asarray([p[2] for p in plateaus], dtype=float)
    bounds = np.array([[t[p[0]], t[p[1]]] for p in plateaus], dtype=float)
    rescaled = times / math.log(1.0 / float(alpha)) if alpha is not None else None
    return Staircase(levels=levels, jump_times=times, rescaled_times=rescaled, order=list(range(times.size)),
                     plateaus=bounds, converged=converged, alpha=None if alpha is None else float(alpha),
                     kind=kind, t=t, loss=loss)
