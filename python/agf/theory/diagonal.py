"""Diagonal linear networks in the α → 0 limit: the saddle-to-saddle algorithm (method §5a).

Model ``f(x) = Σ_i u_i v_i x_i = ⟨β, x⟩`` with ``β = u ⊙ v``, canonical loss
``L(β) = (1/2n) ||X β − y||²``. As the initialization scale α → 0 and time is rescaled by
``log(1/α)``, gradient flow (and AGF) follows the algorithm of Pesme & Flammarion,
"Saddle-to-saddle dynamics in diagonal linear networks" (NeurIPS 2023), Algorithm 1:

- state ``s ∈ [−1, 1]^d`` (``s = 0`` at start), saddle ``β = 0``, rescaled time ``τ = 0``;
- between jumps ``β`` is fixed and ``s`` moves linearly, ``s ← s − Δ ∇L(β)``, until a
  coordinate that is free to move reaches ±1 (``s_i`` with ``|s_i| = 1`` and ``β_i ≠ 0`` is
  pinned: there ``∇_i L = 0``);
- at a jump, ``β ← argmin L`` subject to ``β_i = 0`` where ``|s_i| < 1`` and ``s_i β_i >= 0``
  where ``|s_i| = 1`` (a non-negative least squares problem).

Deactivation convention (worked out on the reference example of method §6.1): a coordinate
whose sign-constrained least-squares value becomes 0 leaves the support *at the jump that caused
it*, during the cost minimization; it is not a separate event in time. Its ``s_i`` stays at ±1
for that instant and then moves back inside, since its gradient now has the other sign (KKT:
``s_i ∇_i L >= 0``). On §6.1 coordinate 1 activates at τ = 0.6002 and coordinate 0 deactivates at
the same τ (β goes from (0.4619, 0) to (0, 1.5843)); coordinate 0 then crosses the whole interval
and re-activates with the opposite sign at τ = 3.4574. Hence 4 events, 3 jump times, 4 levels.

Time units: ``τ`` is gradient-flow time (canonical loss) divided by ``log(1/α)`` for the
initialization ``u_i = √2 α, v_i = 0`` (so ``||θ_i(0)|| = √2 α``, ``u_i v_i = 0``; for this
initialization a dormant coordinate at fixed gradient g has ``||θ_i||² = 2α² cosh(2|g| t)``
and reaches norm 1 at ``t ≈ log(1/α) / |g|``). ``jump_times_at(alpha)`` returns
``τ · log(1/α)``, the leading order as α → 0.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.optimize import nnls

from agf.errors import ConfigError, DataError, NumericalError
from agf.theory.result import TheoryResult, _as_float_array, _check_alpha

__all__ = ["diagonal"]


def diagonal(
    X: Any,
    y: Any,
    *,
    alpha: float | None = None,
    rtol: float = 1e-9,
    max_jumps: int | None = None,
) -> TheoryResult:
    """Saddle-to-saddle path of a diagonal linear network as α → 0 (Pesme–Flammarion).

    Parameters
    ----------
    X : array_like, shape (n, d)
        Inputs, one sample per row.
    y : array_like, shape (n,) or (n, 1)
        Scalar targets.
    alpha : float, optional
        Initialization scale (``u = √2 α``, ``v = 0``); if given, ``result.jump_times`` is
        ``rescaled_times · log(1/α)``.
    rtol : float
        Relative tolerance, with respect to ``max|Xᵀy|/n``, below which a gradient entry is
        zero, and relative tolerance for simultaneous events.
    max_jumps : int, optional
        Safety limit on the number of jumps (default ``10 d + 10``).

    Returns
    -------
    TheoryResult
        ``setting="diagonal"``.

        - ``order[k]``: coordinate index (int) that activated at jump k; a tuple of indices when
          several activate at the same τ. Deactivations at the same jump are in ``events``
          (``kind="deactivate"``) and in ``extras["path"]``.
        - ``levels``: canonical loss ``(1/2n)||Xβ − y||²`` at ``β = 0`` and at every saddle.
        - ``rescaled_times``: τ of every jump (gradient-flow time / log(1/α)).
        - ``events``: dicts with ``kind``, ``index``, ``jump``, ``rescaled_time``, ``level`` and
          ``sign`` (sign of β_index after an activation, of β_index before a deactivation).
        - ``extras["saddles"]``: array (n_jumps + 1, d), β at every plateau (row 0 is 0).
        - ``extras["s"]``: array (n_jumps + 1, d), the state s just after every jump.
        - ``extras["path"]``: list of signed markers in event order: ``i`` for "coordinate i
          activates", ``~i`` (= ``-i - 1``) for "coordinate i deactivates"; e.g. method §6.1
          gives ``[0, 1, ~0, 0]``.
        - ``extras["gradients"]``: array (n_jumps + 1, d), ∇L at every saddle.

    Raises
    ------
    ConfigError
        Bad shapes or options.
    DataError
        Non-finite data or mismatched sample counts.
    NumericalError
        If the algorithm does not terminate within ``max_jumps`` jumps (degenerate data).

    Notes
    -----
    The sign-constrained least squares is solved with :func:`scipy.optimize.nnls` on
    ``X_B diag(s_B)``. When it has several minimizers (e.g. ``n < d`` with a rank-deficient
    active block) the one nnls returns is used; the algorithm assumes data in general position.
    """
    X = _as_float_array(X, "X", 2)
    y = _as_float_array(y, "y", (1, 2))
    n, d = X.shape
    if y.ndim == 2:
        if y.shape[1] != 1:
            raise ConfigError(f"diagonal networks have scalar outputs; y has shape {y.shape}")
        y = y[:, 0]
    if y.shape[0] != n:
        raise DataError(f"X has {n} samples but y has {y.shape[0]}")
    if not (isinstance(rtol, (int, float)) and 0 < rtol < 1):
        raise ConfigError(f"rtol must be in (0, 1), got {rtol!r}")
    if max_jumps is None:
        max_jumps = 10 * d + 10
    if int(max_jumps) < 1:
        raise ConfigError(f"max_jumps must be >= 1, got {max_jumps!r}")
    if alpha is not None:
        alpha = _check_alpha(alpha)

    def loss(b: np.ndarray) -> float:
        r = X @ b - y
        return float(r @ r) / (2 * n)

    def grad(b: np.ndarray) -> np.ndarray:
        return X.T @ (X @ b - y) / n

    gscale = float(np.max(np.abs(X.T @ y))) / n
    if gscale == 0.0:
        gscale = 1.0
    gtol = rtol * gscale

    s = np.zeros(d)
    beta = np.zeros(d)
    tau = 0.0
    order: list = []
    times: list[float] = []
    levels = [loss(beta)]
    saddles = [beta.copy()]
    states = [s.copy()]
    grads = [grad(beta)]
    events: list[dict] = []
    path: list[int] = []

    for _ in range(int(max_jumps) + 1):
        g = grads[-1].copy()
        g[np.abs(g) <= gtol] = 0.0
        boundary = np.abs(s) == 1.0
        support = beta != 0.0
        moving = (g != 0.0) & ~(boundary & support)
        if not moving.any():
            break  # stationary point of L on the current face: the path has ended
        if len(order) >= max_jumps:
            raise NumericalError(
                f"diagonal theory did not terminate within {max_jumps} jumps",
                partial=(order, times, levels),
            )
        target = -np.sign(g)
        delta = np.full(d, np.inf)
        delta[moving] = (s[moving] - target[moving]) / g[moving]
        step = float(delta.min())
        hit = moving & (delta <= step * (1 + 1e3 * rtol) + 1e-300)
        s = s - step * g
        s[hit] = target[hit]
        s[boundary & ~moving] = np.sign(s[boundary & ~moving])  # pinned coordinates stay exact
        np.clip(s, -1.0, 1.0, out=s)
        tau += step

        # cost minimization: sign-constrained least squares on the face {|s_i| = 1}
        B = np.flatnonzero(np.abs(s) == 1.0)
        b, _ = nnls(X[:, B] * s[B], y)
        new = np.zeros(d)
        keep = b > rtol * max(1.0, float(np.max(b)) if b.size else 1.0)
        new[B[keep]] = s[B[keep]] * b[keep]

        level = loss(new)
        jump = len(order)
        hit_idx = [int(i) for i in np.flatnonzero(hit)]
        order.append(hit_idx[0] if len(hit_idx) == 1 else tuple(hit_idx))
        times.append(tau)
        for i in hit_idx:
            events.append(dict(kind="activate", index=i, jump=jump, rescaled_time=tau,
                               level=level, sign=int(np.sign(s[i]))))
            path.append(i)
        for i in np.flatnonzero((beta != 0.0) & (new == 0.0)):
            events.append(dict(kind="deactivate", index=int(i), jump=jump, rescaled_time=tau,
                               level=level, sign=int(np.sign(beta[i]))))
            path.append(~int(i))
        beta = new
        levels.append(level)
        saddles.append(beta.copy())
        states.append(s.copy())
        grads.append(grad(beta))

    rescaled = np.asarray(times, dtype=float)

    def time_fn(a: float) -> np.ndarray:
        return rescaled * np.log(1.0 / a)

    return TheoryResult(
        setting="diagonal",
        order=order,
        levels=np.asarray(levels, dtype=float),
        rescaled_times=rescaled,
        events=events,
        extras=dict(
            saddles=np.asarray(saddles),
            s=np.asarray(states),
            path=path,
            gradients=np.asarray(grads),
        ),
        alpha=alpha,
        time_unit="rescaled_times: gradient-flow time / log(1/alpha); "
                  "jump_times_at(alpha): canonical gradient-flow time (u = sqrt(2) alpha, v = 0)",
        _time_fn=time_fn,
    )
