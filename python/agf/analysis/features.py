"""Feature read-outs: what the neurons learned.

- Modular addition (method 5d): :func:`fourier` splits each neuron's input weights into the
  halves ``u`` (acting on ``a.x``) and ``v`` (on ``b.x``) and takes the output weights ``w``;
  per neuron it gives the power per frequency ``xi = 0..p//2`` (the conjugate pair ``xi, p - xi``
  together), the dominant frequency, the fraction of the neuron's power on it and the phases of
  ``u, v, w`` there. :func:`frequency_power` is the power per frequency summed over neurons
  (for "power per frequency over time" panels).
- Linear networks and attention: :func:`svd_alignment` of a learned map with a target: singular
  values, and the cosines between the k-th singular vectors of the two. :func:`linear_map`
  (``A W`` of a linear two-layer network, shape (d_out, d_in)) and :func:`attention_matrix`
  (``sum_i v_i k_i q_i^T``) give the learned maps.
- Diagonal networks: :func:`support` of ``beta = u * v`` and its signs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from agf.errors import ConfigError

__all__ = ["FourierFeatures", "fourier", "frequency_power", "SVDAlignment", "svd_alignment", "linear_map",
           "attention_matrix", "support"]


def _block(params, name):
    try:
        return np.asarray(params[name], dtype=float)
    except (KeyError, TypeError) as exc:
        raise ConfigError(f"parameters have no block {name!r}") from exc


def _pair_power(F: np.ndarray, p: int) -> np.ndarray:
    """|DFT|^2 summed over conjugate pairs: (..., p) complex -> (..., p//2 + 1)."""
    P = np.abs(F) ** 2
    out = np.empty(P.shape[:-1] + (p // 2 + 1,))
    out[..., 0] = P[..., 0]
    for xi in range(1, p // 2 + 1):
        out[..., xi] = P[..., xi] + (P[..., p - xi] if p - xi != xi else 0.0)
    return out


@dataclass
class FourierFeatures:
    """Per-neuron Fourier read-out (modular addition).

    Attributes
    ----------
    power : (H, 3, p//2 + 1) power of ``u``, ``v``, ``w`` per frequency (pairs combined).
    dominant : (H,) dominant frequency ``xi`` in ``1..p//2`` (by the total power of the neuron;
        0 for a zero neuron).
    fraction : (H,) fraction of the neuron's power on its dominant pair ``(xi, p - xi)``.
    phases : (H, 3) phases (radians) of ``u_hat, v_hat, w_hat`` at the dominant frequency.
    norms : (H,) neuron norms ``||(u, v, w)||``.
    p : int
    """

    power: np.ndarray
    dominant: np.ndarray
    fraction: np.ndarray
    phases: np.ndarray
    norms: np.ndarray
    p: int

    def to_dataframe(self):
        import pandas as pd

        return pd.DataFrame({"neuron": np.arange(self.dominant.size), "norm": self.norms,
                             "dominant": self.dominant, "fraction": self.fraction,
                             "phase_u": self.phases[:, 0], "phase_v": self.phases[:, 1],
                             "phase_w": self.phases[:, 2]})


def _uvw(params, p):
    w = _block(params, "w")
    a = _block(params, "a")
    if w.ndim != 2 or a.ndim != 2:
        raise ConfigError("modular-addition parameters need 'w' (H, 2p) and 'a' (H, p)")
    if p is None:
        p = a.shape[1]
    if w.shape[1] != 2 * p or a.shape[1] != p:
        raise ConfigError(f"expected w of shape (H, {2 * p}) and a of shape (H, {p}); got {w.shape}, {a.shape}")
    return w[:, :p], w[:, p:], a, p


def fourier(params, p: int | None = None) -> FourierFeatures:
    """Fourier read-out of a modular-addition network (``TwoLayer(2p, p, H, "square")``
    parameters ``w`` (H, 2p) = ``[u | v]`` and ``a`` (H, p) = ``w_out``)."""
    u, v, w, p = _uvw(params, p)
    F = np.stack([np.fft.fft(u, axis=1), np.fft.fft(v, axis=1), np.fft.fft(w, axis=1)], axis=1)  # (H,3,p)
    power = _pair_power(F, p)
    total = power.sum(axis=1)  # (H, p//2+1)
    H = u.shape[0]
    dom = np.argmax(total[:, 1:], axis=1) + 1
    allp = total.sum(axis=1)
    frac = np.divide(total[np.arange(H), dom], allp, out=np.zeros(H), where=allp > 0)
    dom = np.where(allp > 0, dom, 0)
    phases = np.angle(F[np.arange(H), :, dom])
    norms = np.sqrt(np.sum(u ** 2, 1) + np.sum(v ** 2, 1) + np.sum(w ** 2, 1))
    return FourierFeatures(power=power, dominant=dom, fraction=frac, phases=phases, norms=norms, p=p)


def frequency_power(params, p: int | None = None) -> np.ndarray:
    """Power per frequency ``0..p//2`` of all neurons' ``(u, v, w)`` together, shape (p//2 + 1,)."""
    return fourier(params, p).power.sum(axis=(0, 1))


@dataclass
class SVDAlignment:
    """Singular values of a learned map and its alignment with a target's singular vectors.

    Attributes
    ----------
    singular_values : (r,) of the learned map, decreasing.
    target_singular_values : (r,) of the target, decreasing.
    left_cosines, right_cosines : (r,) ``|<u_k, u*_k>|`` and ``|<v_k, v*_k>|`` (1 = aligned).
    overlap : (r, r) ``|U^T U*| * |V^T V*|``, elementwise: mode ``k`` of the map against mode ``j``
        of the target.
    """

    singular_values: np.ndarray
    target_singular_values: np.ndarray
    left_cosines: np.ndarray
    right_cosines: np.ndarray
    overlap: np.ndarray

    def to_dataframe(self):
        import pandas as pd

        return pd.DataFrame({"mode": np.arange(self.singular_values.size), "singular_value": self.singular_values,
                             "target_singular_value": self.target_singular_values,
                             "left_cosine": self.left_cosines, "right_cosine": self.right_cosines})


def svd_alignment(M, target, rank: int | None = None) -> SVDAlignment:
    """Singular values of ``M`` and cosines between its singular vectors and those of ``target``
    (same shape), mode by mode, for the first ``rank`` modes (default: all)."""
    M = np.asarray(M, dtype=float)
    T = np.asarray(target, dtype=float)
    if M.ndim != 2 or M.shape != T.shape:
        raise ConfigError(f"M and target must be matrices of one shape, got {M.shape} and {T.shape}")
    U, s, Vt = np.linalg.svd(M)
    Ut, st, Vtt = np.linalg.svd(T)
    r = min(M.shape) if rank is None else int(rank)
    if not 1 <= r <= min(M.shape):
        raise ConfigError(f"rank must be in [1, {min(M.shape)}], got {rank!r}")
    L = np.abs(U[:, :r].T @ Ut[:, :r])
    R = np.abs(Vt[:r] @ Vtt[:r].T)
    return SVDAlignment(singular_values=s[:r], target_singular_values=st[:r], left_cosines=np.diag(L).copy(),
                        right_cosines=np.diag(R).copy(), overlap=L * R)


def linear_map(params) -> np.ndarray:
    """``A W`` of a linear two-layer network: ``sum_i a_i w_i^T``, shape (d_out, d_in)."""
    w = _block(params, "w")
    a = _block(params, "a")
    return a.T @ w


def attention_matrix(params) -> np.ndarray:
    """``sum_i v_i k_i q_i^T`` of rank-one linear attention heads (blocks ``v`` (H,) or (H, 1),
    ``k`` and ``q`` (H, D)), shape (D, D)."""
    v = _block(params, "v").reshape(-1)
    k = _block(params, "k")
    q = _block(params, "q")
    if k.shape != q.shape or k.shape[0] != v.size:
        raise ConfigError(f"inconsistent head shapes v {v.shape}, k {k.shape}, q {q.shape}")
    return np.einsum("i,ij,ik->jk", v, k, q)


def support(params_or_beta, *, rtol: float = 1e-3):
    """Support and signs of a diagonal network's ``beta = u * v`` (or of ``beta`` itself).

    Returns ``(beta, support, signs)``: ``support`` the indices with
    ``|beta_i| > rtol * max|beta|``, ``signs`` (d,) in {-1, 0, +1} (0 off the support).
    """
    if hasattr(params_or_beta, "keys") and "u" in params_or_beta:
        beta = _block(params_or_beta, "u") * _block(params_or_beta, "v")
    else:
        beta = np.asarray(params_or_beta, dtype=float).reshape(-1)
    mx = float(np.max(np.abs(beta))) if beta.size else 0.0
    on = np.abs(beta) > rtol * mx if mx > 0 else np.zeros(beta.shape, bool)
    signs = np.where(on, np.sign(beta), 0).astype(int)
    return beta, np.flatnonzero(on), signs
