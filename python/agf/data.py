"""Training data of a run."""

from __future__ import annotations

import numpy as np

from agf._validate import float_array
from agf.errors import DataError

__all__ = ["Dataset"]


class Dataset:
    """Full-batch training data: inputs ``X`` (n, d) and targets ``Y`` (n, c).

    Both are stored as C-contiguous float64 arrays. A 1-D ``Y`` is read as one output
    (shape (n, 1)). Non-finite values or mismatched sample counts raise :class:`agf.DataError`.
    The loss on this data is the canonical ``L = (1/2n) sum_n ||y_n - f(x_n)||^2``.
    """

    __slots__ = ("X", "Y")

    def __init__(self, X, Y):
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
        self.X = X
        self.Y = Y

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
        return f"Dataset(n={self.n}, d_in={self.d_in}, d_out={self.d_out})"
