"""Training data of a run."""

from __future__ import annotations

import numpy as np

from agf._validate import float_array
from agf.errors import DataError

__all__ = ["Dataset", "input_structure"]


class Dataset:
    """Full-batch training data: inputs ``X`` (n, d) and targets ``Y`` (n, c).

    Both are stored as C-contiguous float64 arrays. A 1-D ``Y`` is read as one output
    (shape (n, 1)). Non-finite values or mismatched sample counts raise :class:`agf.DataError`.
    The loss on this data is the canonical ``L = (1/2n) sum_n ||y_n - f(x_n)||^2``.

    ``loss_offset`` (default 0) is a constant added to that loss to give the loss the data stands
    for: a population loss represented by an equivalent finite dataset (:meth:`agf.Moments.to_dataset`,
    :func:`agf.tasks.in_context_regression`) differs from the dataset's loss by a constant that
    no parameter can change (the irreducible part). It must be finite and non-negative (tiny
    negative round-off is clipped to 0). Gradients do not depend on it.
    """

    __slots__ = ("X", "Y", "loss_offset")

    def __init__(self, X, Y, *, loss_offset: float = 0.0):
        X = float_array("X", X)
        Y = float_array("Y", Y)
        if X.ndim != 2:
            raise DataError(f"X must be 2-D (n_samples, d_in), got shape {X.shape}")
        if Y.ndim == 1:
            Y = np.ascontiguousarray(Y[:, None])
        if Y.ndim != 2:
            raise DataError(f"Y must be 1-D or 2-D (n_samples, d_out), got shape {Y.shape}")
        if X.shape[0] != Y.shape[0]:
            raise DataError(f"X has {X.shape[0]} samples but Y has {Y.shape[0]}")
        if X.shape[0] == 0:
            raise DataError("the dataset has no samples")
        try:
            offset = float(loss_offset)
        except (TypeError, ValueError):
            raise DataError(f"loss_offset must be a real number, got {loss_offset!r}") from None
        if not np.isfinite(offset):
            raise DataError(f"loss_offset must be finite, got {offset}")
        if offset < 0.0:
            # round-off of a computed offset: tolerate -1e-9 of the loss scale 1 + L(f = 0)
            tiny = 1e-9 * (1.0 + 0.5 * float(np.mean(np.sum(Y * Y, axis=1))))
            if offset < -tiny:
                raise DataError(f"loss_offset must be >= 0, got {offset}")
            offset = 0.0
        self.X = X
        self.Y = Y
        self.loss_offset = offset

    @property
    def n(self) -> int:
        """Number of samples."""
        return self.X.shape[0]

    @property
    def d_in(self) -> int:
        return self.X.shape[1]

    @property
    def d_out(self) -> int:
        return self.Y.shape[1]

    def __repr__(self) -> str:
        extra = f", loss_offset={self.loss_offset:.6g}" if self.loss_offset else ""
        return f"Dataset(n={self.n}, d_in={self.d_in}, d_out={self.d_out}{extra})"


def input_structure(X) -> dict:
    """How the two-layer kernels see the inputs ``X`` (n, d) (or a :class:`Dataset`).

    - ``{"kind": "tables", "blocks": B, "distinct_rows": [u_1, ...]}``: X is B column blocks of
      equal width, each with at most n/8 distinct rows (modular addition's ``[x_a | x_b]``,
      token embeddings; n >= 64). Products with X then cost O(u w H) plus a gather, and the
      exact Hessian is assembled from per-pair aggregates.
    - ``{"kind": "sparse", "nnz": k}``: at most 1/8 of the entries are nonzero (d >= 8); the
      kernels run over the nonzeros.
    - ``{"kind": "dense"}``: dense matrix products.

    Detection is automatic and exact (rows are compared bit for bit); results agree with the
    dense path to rounding.
    """
    from agf import _core

    if isinstance(X, Dataset):
        X = X.X
    X = float_array("X", X, ndim=2)
    return dict(_core.input_structure(X))
