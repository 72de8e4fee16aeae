"""Line up two staircases: gradient flow/descent, AGF, theory (any two of them).

:func:`compare` ``(a, b)`` treats ``a`` as the prediction and ``b`` as the observation. Each is
reduced to a staircase (jump times in canonical gradient-flow time, canonical loss levels):

- :class:`agf.Trajectory`: :func:`agf.analysis.detect_staircase` on its canonical loss;
- :class:`agf.AGFResult`: ``jump_times`` and ``levels``;
- :class:`agf.theory.TheoryResult`: ``jump_times`` (or ``jump_times_at(alpha)``) and ``levels``;
- :class:`agf.analysis.Staircase`: as is.

Matching by level crossing. Drop ``k`` of ``a`` goes from ``a.levels[k]`` to ``a.levels[k+1]``;
its midpoint is ``m_k = (a.levels[k] + a.levels[k+1]) / 2``. The matched jump of ``b`` is the first
jump of ``b`` after which ``b``'s level is below ``m_k``. Its time is the observed time
(``time="crossing"``) or the time of the first jump of ``b`` after the previous matched one, the
start of a group of sub-steps (``time="first"``; e.g. AGF on modular addition learns a
frequency in one sub-step per neuron and the theory bounds the first). The observed level is the
level ``b`` has just before its next matched jump (after all the sub-steps of this drop).

Different numbers of jumps are explicit in the ``status`` column:

- ``"matched"``: one jump of ``b`` for this drop;
- ``"substeps"``: several jumps of ``b`` for this drop (``n_observed_jumps``);
- ``"merged"``: ``b`` crossed this midpoint and the next one at the same jump (the group is
  counted on the first of the two drops);
- ``"missing"``: ``b`` never falls below ``m_k`` (NaN observed values);
- ``"extra"`` rows (NaN predictions) for the jumps of ``b`` after the last group, i.e. after
  ``b`` reached ``a``'s final level (``b`` kept dropping).

The group of ``b``'s jumps of drop ``k`` runs from the jump after the previous group through the
crossing jump and on while ``b``'s level before the jump is still above
``a.levels[k+1] * (1 + level_rtol) + level_atol`` (sub-steps that finish the drop); the observed
level is ``b``'s level after the group.

Relative errors are ``|observed − predicted| / |predicted|``; for levels the denominator is at
least ``level_atol`` (default ``1e-4 * a.levels[0]``) so that a predicted level 0 is handled.
Rescaled times (``time / log(1/alpha)``) are given when ``alpha`` is known: the argument, else
the ``alpha`` of an AGFResult, a TheoryResult or a Staircase (in that order).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from agf.errors import ConfigError

__all__ = ["compare", "staircase_of", "Steps"]


@dataclass
class Steps:
    """A staircase reduced for comparison: canonical ``times`` (or None), ``levels``,
    ``labels`` (what was learned at each jump), ``alpha``, ``kind``."""

    times: np.ndarray | None
    levels: np.ndarray
    labels: list
    alpha: float | None
    kind: str
    rescaled: np.ndarray | None = None


def staircase_of(obj, *, alpha: float | None = None, **detect_kw) -> Steps:
    """Reduce a Trajectory, AGFResult, TheoryResult, Staircase or a ``(t, loss)`` pair to
    :class:`Steps` (``detect_kw`` go to :func:`detect_staircase` for curves)."""
    from agf.analysis.staircase import Staircase, detect_staircase

    cls = type(obj).__name__
    if cls == "TheoryResult":
        a = alpha if alpha is not None else obj.alpha
        times = None
        if obj.jump_times is not None and (alpha is None or alpha == obj.alpha):
            times = np.asarray(obj.jump_times, float)
        elif a is not None:
            try:
                times = obj.jump_times_at(a)
            except ConfigError:
                times = None
        rs = None if obj.rescaled_times is None else np.asarray(obj.rescaled_times, float)
        return Steps(times, np.asarray(obj.levels, float), list(obj.order), a, f"theory ({obj.setting})", rs)
    if cls == "AGFResult":
        times = None if obj.jump_times is None else np.asarray(obj.jump_times, float)
        rs = None if obj.rescaled_times is None else np.asarray(obj.rescaled_times, float)
        return Steps(times, np.asarray(obj.levels, float), list(obj.order), obj.alpha, "agf", rs)
    if isinstance(obj, Staircase):
        st = obj
    elif cls == "Trajectory" or (isinstance(obj, tuple) and len(obj) == 2) or (hasattr(obj, "t") and hasattr(obj, "loss")):
        st = detect_staircase(obj, alpha=alpha, **detect_kw)
    else:
        raise ConfigError(f"cannot compare a {cls}: give a Trajectory, AGFResult, TheoryResult, Staircase "
                          "or (t, loss)")
    return Steps(np.asarray(st.jump_times, float), np.asarray(st.levels, float), list(st.order), st.alpha,
                 st.kind, st.rescaled_times)


def _rel(obs, pred, floor=0.0):
    if not (np.isfinite(obs) and np.isfinite(pred)):
        return math.nan
    return abs(obs - pred) / max(abs(pred), floor) if max(abs(pred), floor) > 0 else math.nan


def compare(a, b, *, alpha: float | None = None, time: str = "crossing", level_rtol: float = 0.05,
            level_atol: float | None = None, names: tuple[str, str] | None = None, **detect_kw):
    """Table of the drops of ``a`` (prediction) matched with the jumps of ``b`` (observation).

    Parameters
    ----------
    a, b : any two of :class:`agf.Trajectory` (gradient flow or descent), :class:`agf.AGFResult`,
        :class:`agf.theory.TheoryResult`, :class:`agf.analysis.Staircase`.
    alpha : initialization scale for rescaled times and theory jump times (default: from the
        inputs).
    time : ``"crossing"`` (the jump of ``b`` that crosses the midpoint) or ``"first"`` (the first
        jump of ``b`` of the group of sub-steps of this drop).
    level_rtol : tolerance of the grouping of sub-steps (see the module docstring).
    level_atol : smallest denominator of the level relative error (default ``1e-4 * a.levels[0]``).
    names : labels of ``a`` and ``b`` (stored in ``df.attrs``; default: their kinds).
    **detect_kw : options of :func:`agf.analysis.detect_staircase` for trajectories.

    Returns
    -------
    pandas.DataFrame with one row per drop of ``a`` (plus ``"extra"`` rows): ``jump``, ``label``
    (``a``'s order entry), ``observed_label``, ``predicted_time``, ``observed_time``,
    ``time_rel_error``, ``predicted_rescaled_time``, ``observed_rescaled_time``,
    ``predicted_level``, ``observed_level``, ``level_rel_error``, ``n_observed_jumps``,
    ``status``. ``df.attrs`` holds ``names``, ``alpha``, ``initial_levels`` and
    ``max_time_rel_error`` / ``max_level_rel_error`` over matched rows.
    """
    import pandas as pd

    if time not in ("crossing", "first"):
        raise ConfigError(f"time must be 'crossing' or 'first', got {time!r}")
    # alpha: explicit, else from whichever input knows it
    A0 = staircase_of(a, **({} if type(a).__name__ == "TheoryResult" else detect_kw))
    B0 = staircase_of(b, **({} if type(b).__name__ == "TheoryResult" else detect_kw))
    if alpha is None:
        for s in (A0, B0):
            if s.alpha is not None:
                alpha = s.alpha
                break
    if alpha is not None and not 0 < alpha < 1:
        raise ConfigError(f"alpha must be in (0, 1), got {alpha!r}")
    A = staircase_of(a, alpha=alpha, **({} if type(a).__name__ == "TheoryResult" else detect_kw))
    B = staircase_of(b, alpha=alpha, **({} if type(b).__name__ == "TheoryResult" else detect_kw))
    log_inv = math.log(1.0 / alpha) if alpha is not None else None

    def rescaled(S, k):
        if S.times is not None and log_inv is not None:
            return float(S.times[k]) / log_inv
        if S.rescaled is not None:
            return float(S.rescaled[k])
        return math.nan

    def tm(S, k):
        if S.times is not None:
            return float(S.times[k])
        if S.rescaled is not None and log_inv is not None:
            return float(S.rescaled[k]) * log_inv
        return math.nan

    la, lb = A.levels, B.levels
    na, nb = la.size - 1, lb.size - 1
    if level_atol is None:
        level_atol = 1e-4 * abs(float(la[0])) if la[0] != 0 else 1e-12
    # crossing jump of b for each drop of a
    cross = []
    for k in range(na):
        mid = 0.5 * (la[k] + la[k + 1])
        j = np.flatnonzero(lb[1:] < mid)
        cross.append(int(j[0]) if j.size else None)
    rows = []
    prev_end = -1  # last jump of b used by the previous drop
    for k in range(na):
        j = cross[k]
        row = dict(jump=k, label=A.labels[k] if k < len(A.labels) else None, observed_label=None,
                   predicted_time=tm(A, k), observed_time=math.nan, time_rel_error=math.nan,
                   predicted_rescaled_time=rescaled(A, k), observed_rescaled_time=math.nan,
                   predicted_level=float(la[k + 1]), observed_level=math.nan, level_rel_error=math.nan,
                   n_observed_jumps=0, status="missing")
        if j is not None:
            merged = j <= prev_end
            nxt = next((c for c in cross[k + 1:] if c is not None), nb)
            # the group of b's jumps of this drop: from after the previous group, through the
            # crossing, and on while b's level is still above the predicted plateau
            thr = float(la[k + 1]) * (1 + level_rtol) + level_atol
            end = j
            while end + 1 < min(nxt, nb) and lb[end + 1] > thr:
                end += 1
            start = j if merged else prev_end + 1
            jj = start if time == "first" else j
            obs_level = float(lb[end + 1])
            n_obs = end - start + 1 if not merged else 0
            status = "merged" if (merged or nxt == j) else ("substeps" if n_obs > 1 else "matched")
            row.update(observed_label=B.labels[jj] if jj < len(B.labels) else None,
                       observed_time=tm(B, jj), observed_rescaled_time=rescaled(B, jj),
                       observed_level=obs_level, n_observed_jumps=int(n_obs), status=status)
            row["time_rel_error"] = _rel(row["observed_time"], row["predicted_time"])
            if not np.isfinite(row["time_rel_error"]):
                row["time_rel_error"] = _rel(row["observed_rescaled_time"], row["predicted_rescaled_time"])
            row["level_rel_error"] = _rel(obs_level, row["predicted_level"], level_atol)
            prev_end = max(prev_end, end)
        rows.append(row)
    # jumps of b beyond what a predicts
    for j in range(prev_end + 1, nb):
        rows.append(dict(jump=None, label=None, observed_label=B.labels[j] if j < len(B.labels) else None,
                         predicted_time=math.nan, observed_time=tm(B, j), time_rel_error=math.nan,
                         predicted_rescaled_time=math.nan, observed_rescaled_time=rescaled(B, j),
                         predicted_level=math.nan, observed_level=float(lb[j + 1]), level_rel_error=math.nan,
                         n_observed_jumps=1, status="extra"))
    df = pd.DataFrame(rows)
    ok = df["status"].isin(["matched", "substeps"])
    df.attrs.update(
        names=tuple(names) if names else (A.kind, B.kind), alpha=alpha,
        initial_levels=(float(la[0]), float(lb[0])),
        initial_level_rel_error=_rel(float(lb[0]), float(la[0]), level_atol),
        max_time_rel_error=float(df.loc[ok, "time_rel_error"].max()) if ok.any() else math.nan,
        max_level_rel_error=float(df.loc[ok, "level_rel_error"].max()) if ok.any() else math.nan,
    )
    return df
