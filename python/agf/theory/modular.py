"""Quadratic network on modular addition (method §5d).

A mean-zero template ``x̃ ∈ R^p`` encodes the integer a as the cyclic shift ``roll(x̃, a)``;
input ``(a·x̃, b·x̃)``, target ``(a + b mod p)·x̃``, all p² pairs, ``c = p`` outputs. With
``x̂ = fft(x̃)`` (unnormalised DFT, ``numpy.fft.fft``), frequencies are learned in decreasing
``|x̂_ξ|``, each conjugate pair ``(ξ, p − ξ)`` once, reported as ``ξ ∈ 1..p//2``.

- Power of frequency ξ: ``P_ξ = 2|x̂_ξ|²/p`` (``|x̂_ξ|²/p`` for ``ξ = p/2``), ``Σ_ξ P_ξ = ||x̃||²``.
- PyTorch ``MSELoss`` plateau after learning a set of frequencies:
  ``(1/p) Σ_{ξ not learned} P_ξ``; canonical loss ``L = MSELoss · c/2 = MSELoss · p/2``.
- Maximal utility on the unit sphere (neurons ``(u, v, w) ∈ R^{3p}``, κ = 3, canonical utility):
  ``Ū*(ξ) = sqrt(2p/27) |x̂_ξ|³ / p²``.
- Jump-time lower bound in canonical gradient-flow time: ``τ_ξ >= c / (κ Ū*(ξ))`` with κ = 3
  and ``c = 1/||θ(0)|| − 1`` the κ = 3 activation threshold (method §3), where
  ``||θ(0)|| ≈ √2 α`` for the notebooks' initialization ``U, V ~ N(0, α²/2p)``,
  ``W ~ N(0, α²/p)``. For p = 20, |x̂| = 10, 5, 2.5 and α = 1e-2 this gives 7.64, 61.1, 488.7.
  It is a lower bound because a neuron's direction starts away from the maximiser.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from agf.errors import ConfigError, DataError
from agf.theory.result import TheoryResult, _as_float_array, _check_alpha, _check_init_norm

__all__ = ["modular", "jump_time_lower_bounds", "KAPPA"]

KAPPA = 3
"""Homogeneity degree of the quadratic modular-addition neuron."""


def _spectrum(template: Any, center: bool, rtol: float):
    x = _as_float_array(template, "template", 1)
    p = x.size
    if p < 3:
        raise ConfigError(f"the template needs p >= 3 entries, got {p}")
    scale = float(np.max(np.abs(x)))
    mean = float(np.mean(x))
    if center:
        x = x - mean
    elif abs(mean) > 1e-12 * max(scale, 1e-300):
        raise DataError(f"the template must have mean zero (mean {mean:g}); pass center=True")
    xhat = np.fft.fft(x)
    xi = np.arange(1, p // 2 + 1)
    amp = np.abs(xhat[xi])
    if not np.any(amp > 0):
        raise DataError("the template is constant: nothing to learn")
    power = 2.0 * amp**2 / p
    if p % 2 == 0:
        power[-1] = amp[-1] ** 2 / p
    nz = amp > rtol * float(np.max(amp))
    # decreasing amplitude; ties (relative rtol) broken by increasing ξ
    keys = np.round(amp / float(np.max(amp)) / (10 * rtol)) if rtol > 0 else amp
    idx = [i for i in sorted(range(xi.size), key=lambda i: (-keys[i], xi[i])) if nz[i]]
    return x, xhat, xi, amp, power, idx


def modular(
    template: Any,
    *,
    alpha: float | None = None,
    center: bool = True,
    rtol: float = 1e-9,
) -> TheoryResult:
    """Frequency order, plateau levels, maximal utilities and jump-time lower bounds.

    Parameters
    ----------
    template : array_like, shape (p,)
        The template x̃ (p >= 3).
    alpha : float, optional
        Initialization scale; if given, ``jump_times`` holds the lower bounds (see
        :func:`jump_time_lower_bounds`).
    center : bool
        Subtract the mean of the template first (default). With ``center=False`` a template
        with a non-zero mean is a :class:`~agf.errors.DataError`.
    rtol : float
        Amplitudes below ``rtol · max|x̂|`` count as absent; amplitudes equal within
        ``rtol`` count as tied.

    Returns
    -------
    TheoryResult
        ``setting="modular"``.

        - ``order``: frequencies ξ (``1..p//2``) by decreasing ``|x̂_ξ|`` (ties by increasing
          ξ, listed in ``extras["ties"]``); absent frequencies are left out.
        - ``levels``: canonical loss ``(1/2p²) Σ_pairs ||y − f||²`` = MSELoss · p/2, before any
          frequency and after each one.
        - ``levels_mse``: the same under PyTorch ``MSELoss`` (mean over pairs and outputs).
        - ``rescaled_times``: None (κ = 3).
        - ``jump_times_at(alpha, init_norm=None)``: lower bounds ``c / (3 Ū*(ξ))`` per jump,
          canonical gradient-flow time, ``c = 1/||θ0|| − 1``, ``||θ0|| = init_norm`` or ``√2 α``.
        - ``extras``: ``p``; ``template`` (centred); ``xhat`` (p,) complex DFT;
          ``frequencies`` (p//2,) = 1..p//2 with ``amplitudes`` ``|x̂_ξ|`` and ``powers``
          ``P_ξ``; ``max_utility`` dict ξ -> Ū*(ξ) and ``max_utilities`` array in ``order``;
          ``lower_bound_coefficients`` ``1/(3 Ū*)`` in ``order`` (multiply by c);
          ``ties``: list of tuples of tied frequencies.
    """
    if alpha is not None:
        alpha = _check_alpha(alpha)
    if not (isinstance(rtol, (int, float)) and 0 <= rtol < 1):
        raise ConfigError(f"rtol must be in [0, 1), got {rtol!r}")
    x, xhat, xi, amp, power, idx = _spectrum(template, bool(center), rtol)
    p = x.size
    order = [int(xi[i]) for i in idx]
    remaining = float(np.sum(power)) - np.concatenate([[0.0], np.cumsum(power[idx])])
    remaining[np.abs(remaining) <= 1e-12 * float(np.sum(power))] = 0.0
    remaining = np.maximum(remaining, 0.0)
    levels_mse = remaining / p
    levels = levels_mse * p / 2.0
    ustar_all = math.sqrt(2.0 * p / 27.0) * amp**3 / p**2
    ustar = ustar_all[idx]
    coef = 1.0 / (KAPPA * ustar)

    ties = []
    for i in idx:
        group = tuple(int(xi[j]) for j in idx
                      if abs(amp[j] - amp[i]) <= rtol * float(np.max(amp)))
        if len(group) > 1 and group not in ties:
            ties.append(group)

    events = [dict(kind="activate", index=order[k], jump=k, rescaled_time=None,
                   level=float(levels[k + 1]), level_mse=float(levels_mse[k + 1]))
              for k in range(len(order))]

    def time_fn(a: float, init_norm: float | None = None) -> np.ndarray:
        rho = _check_init_norm(a, init_norm)
        return (1.0 / rho - 1.0) * coef

    return TheoryResult(
        setting="modular",
        order=order,
        levels=levels,
        rescaled_times=None,
        events=events,
        extras=dict(
            p=p,
            template=x,
            xhat=xhat,
            frequencies=xi,
            amplitudes=amp,
            powers=power,
            max_utility={int(xi[i]): float(ustar_all[i]) for i in range(xi.size)},
            max_utilities=ustar,
            lower_bound_coefficients=coef,
            ties=ties,
        ),
        alpha=alpha,
        levels_mse=levels_mse,
        time_unit="jump_times_at(alpha): lower bounds in canonical gradient-flow time",
        _time_fn=time_fn,
    )


def jump_time_lower_bounds(template: Any, alpha: float, *, init_norm: float | None = None,
                           center: bool = True) -> np.ndarray:
    """Lower bounds ``c / (3 Ū*(ξ))`` on the jump times, in the order of :func:`modular`.

    Parameters
    ----------
    template : array_like, shape (p,)
    alpha : float
        Initialization scale, ``0 < alpha < 1``.
    init_norm : float, optional
        Initial neuron norm ``||θ(0)||`` (default ``√2 α``); ``c = 1/init_norm − 1``.

    Returns
    -------
    numpy.ndarray, shape (len(order),)
        Canonical gradient-flow time. Divide by ``lr · (2/p) / (1 − momentum)`` to get
        full-batch steps of gradient descent on PyTorch ``MSELoss`` (method §4).
    """
    return modular(template, center=center).jump_times_at(alpha, init_norm=init_norm)
