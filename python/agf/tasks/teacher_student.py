"""Teacher-student regression for two-layer networks (method section 5e).

The paper compares AGF with gradient descent for ReLU networks of widths 1 to 3 on whitened
CIFAR-10; real image data is not available here, so a synthetic teacher stands in: Gaussian
inputs (whitened: empirical covariance exactly the identity, like the paper's whitened images)
and targets from a random two-layer teacher. Canonical loss (``loss_scale = 1``).
"""

from __future__ import annotations

import numpy as np

from agf._validate import integer
from agf.data import Dataset
from agf.errors import ConfigError
from agf.tasks.task import Task

__all__ = ["teacher_student"]


def teacher_student(d: int = 10, n: int = 500, teacher_width: int = 3, *, activation: str = "relu",
                    d_out: int = 1, whiten: bool = True, seed=None) -> Task:
    """``n`` samples ``x ~ N(0, I_d)`` with targets ``y = sum_j a_j sigma(w_j . x)`` from a random
    teacher :class:`agf.TwoLayer` of width ``teacher_width``: unit-norm ``w_j`` drawn uniformly on
    the sphere, ``a_j ~ N(0, I_{d_out})``.

    ``whiten=True`` centres X and maps it to empirical covariance exactly ``I`` (needs
    ``n > d``) before computing the targets. ``seed``: anything ``numpy.random.default_rng``
    accepts. ``info``: ``teacher`` (the TwoLayer model), ``teacher_params``, ``whitened``.
    """
    from agf.models.two_layer import TwoLayer
    from agf.params import Params

    d = integer("d", d, minimum=1)
    n = integer("n", n, minimum=1)
    m = integer("teacher_width", teacher_width, minimum=1)
    d_out = integer("d_out", d_out, minimum=1)
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    if whiten:
        if n <= d:
            raise ConfigError(f"whitening needs more samples than features (n={n}, d={d})")
        X = X - X.mean(axis=0)
        w, V = np.linalg.eigh(X.T @ X / n)
        X = X @ (V / np.sqrt(w)) @ V.T
    teacher = TwoLayer(d, d_out, m, activation)
    W = rng.normal(size=(m, d))
    W /= np.linalg.norm(W, axis=1, keepdims=True)
    A = rng.normal(size=(m, d_out))
    tp = Params({"w": W, "a": A})
    X = np.ascontiguousarray(X)
    Y = teacher.forward(X, tp)
    return Task(name="teacher_student", data=Dataset(X, Y), loss_scale=1.0,
                info={"teacher": teacher, "teacher_params": tp, "whitened": bool(whiten)})
