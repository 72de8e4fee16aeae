"""Full-batch gradient descent with the update rule of ``torch.optim.SGD``."""

from __future__ import annotations

import numpy as np

from agf import _core
from agf._runner import STATUS, Clock, batch_starts, raise_on_failure, run_many
from agf._validate import integer, n_threads as check_threads, positive
from agf.data import Dataset
from agf.errors import ConfigError
from agf.models.base import Model
from agf.progress import make_meter
from agf.trajectory import Trajectory
from agf.units import gd_time_per_step

__all__ = ["gradient_descent"]


def gradient_descent(
    model: Model,
    data: Dataset,
    params0,
    lr: float,
    steps: int,
    *,
    momentum: float = 0.0,
    dampening: float = 0.0,
    weight_decay: float = 0.0,
    nesterov: bool = False,
    loss_scale: float = 1.0,
    save_every: int = 1,
    save_params: bool = False,
    n_threads: int = 1,
    progress=False,
) -> Trajectory | list[Trajectory]:
    """Run ``steps`` full-batch steps of ``torch.optim.SGD`` on the loss ``loss_scale * L``.

    The update is PyTorch's, step for step (``g = s dL + weight_decay theta``; with momentum
    ``buf = g`` on the first step, then ``buf = momentum buf + (1 - dampening) g``; Nesterov uses
    ``g + momentum buf``; ``theta -= lr g``), so a PyTorch run with ``nn.MSELoss()`` is reproduced
    with ``loss_scale=agf.units.mse_loss_scale(d_out)``.

    The trajectory saves every ``save_every`` steps (and the final state): ``steps`` holds step
    numbers, ``loss`` the loss ``s L`` *before* the update of that step (as a training loop would
    print it), and ``t`` the canonical gradient-flow time ``step * lr s (1 - dampening)/(1 - momentum)``
    (method section 4). A list of initial conditions runs a batch in parallel threads. A diverging
    run raises :class:`agf.NumericalError` with ``.partial``.
    """
    model.check_data(data)
    lr = positive("lr", lr)
    steps = integer("steps", steps, minimum=0)
    s = positive("loss_scale", loss_scale)
    save_every = integer("save_every", save_every, minimum=1)
    threads = check_threads(n_threads)
    weight_decay = positive("weight_decay", weight_decay, allow_zero=True)
    if not 0.0 <= momentum < 1.0:
        raise ConfigError(f"momentum must be in [0, 1), got {momentum!r}")
    if not 0.0 <= dampening <= 1.0:
        raise ConfigError(f"dampening must be in [0, 1], got {dampening!r}")
    if nesterov and (momentum <= 0 or dampening != 0):
        raise ConfigError("Nesterov momentum requires momentum > 0 and zero dampening (as torch.optim.SGD)")
    dt = gd_time_per_step(lr, loss_scale=s, momentum=momentum, dampening=dampening)

    batch, starts, kernel_threads, blocks = batch_starts(model, params0, threads)

    def job_for(p0):
        vec = p0.to_vector()

        def job(report):
            clock = Clock()
            out = _core.gradient_descent(
                model._core, data.X, data.Y, vec, lr, steps, float(momentum), float(dampening), weight_decay,
                bool(nesterov), s, save_every, bool(save_params), kernel_threads,
                lambda k, _: report(k / max(steps, 1)),
            )
            status = "interrupted" if out["interrupted"] else STATUS[out["status"]]
            step_idx = out["step"].astype(np.int64)
            return Trajectory(
                kind="gradient_descent", t=step_idx * dt, loss=(out["loss"] + data.loss_offset) * s, loss_scale=s, norms=out["norms"],
                param_vectors=out["params"] if out["params"].size else None, events=[],
                stats={"n_steps": int(out["steps_done"]), "n_grad": int(out["steps_done"]) + 1,
                       "method": "sgd", "lr": lr, "momentum": momentum, "nesterov": bool(nesterov),
                       "time_per_step": dt, "wall_time": clock.elapsed()},
                status=status, message=out["message"], final_params=model.from_vector(out["y_final"]),
                blocks=blocks, steps=step_idx,
            )
        return job

    meter = make_meter(progress, total=float(len(starts)), desc="gradient descent", unit="run")
    trajectories = run_many([job_for(p) for p in starts], threads, meter)
    raise_on_failure(trajectories, batch)
    return trajectories if batch else trajectories[0]
