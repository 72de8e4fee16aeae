"""Loss conventions and time units (method sections 1 and 4).

agf's canonical loss is ``L = (1/2n) sum_n ||y_n - f(x_n)||^2`` and gradient-flow time ``t`` is
the time of ``dtheta/dt = -dL/dtheta``. A convention that multiplies the loss by a constant
``s`` (its *loss scale*) multiplies gradient-flow time by ``s``: the flow of ``s L`` reaches in
time ``t / s`` what the canonical flow reaches at ``t``.

Full-batch gradient descent with learning rate ``lr`` and momentum ``mu`` (dampening ``d``) on
``s L`` advances canonical time by ``lr * s * (1 - d) / (1 - mu)`` per step (small ``lr``).
"""

from __future__ import annotations

import numpy as np

from agf._validate import integer, positive
from agf.errors import ConfigError

__all__ = ["mse_loss_scale", "gd_time_per_step", "steps_to_time", "time_to_steps", "CANONICAL"]

#: Loss scale of the canonical loss.
CANONICAL = 1.0


def mse_loss_scale(d_out: int) -> float:
    """Loss scale of PyTorch's ``MSELoss()`` (mean over samples and outputs, no 1/2): ``2/d_out``."""
    return 2.0 / integer("d_out", d_out, minimum=1)


def gd_time_per_step(lr: float, *, loss_scale: float = 1.0, momentum: float = 0.0, dampening: float = 0.0) -> float:
    """Canonical gradient-flow time advanced by one gradient-descent step."""
    lr = positive("lr", lr)
    s = positive("loss_scale", loss_scale)
    if not 0.0 <= momentum < 1.0:
        raise ConfigError(f"momentum must be in [0, 1), got {momentum!r}")
    if not 0.0 <= dampening <= 1.0:
        raise ConfigError(f"dampening must be in [0, 1], got {dampening!r}")
    if momentum == 0.0:
        return lr * s
    return lr * s * (1.0 - dampening) / (1.0 - momentum)


def steps_to_time(steps, lr: float, **kw) -> np.ndarray | float:
    """Canonical time reached after ``steps`` gradient-descent steps (keywords as
    :func:`gd_time_per_step`)."""
    return np.asarray(steps, dtype=float) * gd_time_per_step(lr, **kw) if np.ndim(steps) else float(steps) * gd_time_per_step(lr, **kw)


def time_to_steps(t, lr: float, **kw) -> np.ndarray | float:
    """Number of gradient-descent steps (real-valued) that advance canonical time by ``t``."""
    per = gd_time_per_step(lr, **kw)
    return np.asarray(t, dtype=float) / per if np.ndim(t) else float(t) / per
