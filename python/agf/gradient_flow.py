"""Gradient flow of two-layer networks from small initialization."""

from __future__ import annotations

from typing import Sequence

import numpy as np

from agf import _core
from agf._runner import STATUS, Clock, batch_starts, raise_on_failure, run_many
from agf._validate import float_array, integer, n_threads as check_threads, positive
from agf.data import Dataset
from agf.errors import ConfigError
from agf.events import Event, LocatedEvent
from agf.models.base import Model
from agf.progress import make_meter
from agf.trajectory import Trajectory

__all__ = ["gradient_flow", "METHODS", "default_save_times"]

#: Integrators by name. "explicit" is Dormand-Prince 5(4) with dense output. "implicit" is
#: RODAS4, an L-stable Rosenbrock method of order 4 using the exact Hessian (one Hessian and one
#: factorization per step) or Hessian-vector products with a Krylov solver, for stiff flows.
#: "auto" runs Dormand-Prince on the non-stiff stretches (tiny-norm plateaus) and switches to
#: RODAS4 where the explicit step is held by stability, and back. "rosw" is ROS34PW2, an
#: L-stable Rosenbrock-W method of order 3 that keeps a Hessian over several steps and one
#: factorization for a range of step sizes (fewer Hessians per step, but more steps at tight
#: tolerances). All share the error norm, dense output and events.
METHODS = ("explicit", "implicit", "auto", "rosw")

#: Linear solvers of the implicit steps: "dense" (exact Hessian, Cholesky), "krylov" (conjugate
#: gradients on Hessian-vector products, no P x P matrix) or "auto" (dense up to
#: DENSE_MAX_PARAMS parameters).
LINEAR_SOLVERS = ("auto", "dense", "krylov")
DENSE_MAX_PARAMS = 3000


def default_save_times(t_max: float, n: int = 400) -> np.ndarray:
    """0, plus the sorted union of ``n/2`` evenly spaced and ``n/2`` log-spaced times in
    ``[t_max 1e-4, t_max]``: the staircase reads well on linear and on log axes."""
    half = max(n // 2, 2)
    grid = np.concatenate([[0.0], np.linspace(0.0, t_max, half + 1)[1:], np.geomspace(t_max * 1e-4, t_max, half)])
    grid = np.unique(grid)
    grid[-1] = t_max
    return grid


def gradient_flow(
    model: Model,
    data: Dataset,
    params0,
    t_max: float,
    *,
    save_at=None,
    save_steps: bool = False,
    save_params: bool = False,
    rtol: float = 1e-8,
    atol: float = 0.0,
    loss_scale: float = 1.0,
    events: Sequence[Event] = (),
    method: str = "explicit",
    max_steps: int = 10_000_000,
    h0: float | None = None,
    h_max: float | None = None,
    h_min: float | None = None,
    n_threads: int = 1,
    progress=False,
    linear_solver: str = "auto",
) -> Trajectory | list[Trajectory]:
    """Integrate gradient flow ``dtheta/dt = -dL/dtheta`` of the canonical loss from ``params0``
    up to canonical time ``t_max``.

    Parameters
    ----------
    model, data : the network and its full-batch training data.
    params0 : initial :class:`Params` (or a flat vector); a list of them runs a batch of initial
        conditions (seeds, scales alpha) in parallel threads and returns a list of trajectories.
    t_max : final canonical time (> 0).
    save_at : times in [0, t_max] at which to save the state (dense output, exact times). Default:
        :func:`default_save_times` (0, and 400 linear and log-spaced times).
    save_steps : also save after every accepted step.
    save_params : keep parameter snapshots (``Trajectory.params``).
    rtol, atol : tolerances of the per-neuron relative error norm. Every neuron is held to
        relative accuracy ``rtol`` whatever its size (a neuron of norm 1e-15 as much as one of
        norm 1): the local error of neuron i is divided by ``atol + rtol * ||theta_i||``.
        ``atol`` defaults to 0; any positive value would swamp neurons smaller than it.
    loss_scale : the user's loss convention ``s L`` (e.g. ``agf.units.mse_loss_scale(c)``).
        Only the reported ``loss`` and ``LossBelow`` thresholds use it; times stay canonical
        (``Trajectory.t_scaled`` gives them in the convention's units).
    events : :class:`agf.events.NormCrosses` / :class:`agf.events.LossBelow`, located on the
        dense output.
    method : the stepper, one of :data:`METHODS`: ``"explicit"`` (Dormand-Prince 5(4)),
        ``"implicit"`` (RODAS4 with the exact Hessian; for stiff flows: once neurons are active
        the Hessian's largest eigenvalue holds an explicit step to about 3.3/lambda_max) or
        ``"auto"`` (explicit on non-stiff stretches, implicit where the flow is stiff). The
        stiff methods need a family with an exact Hessian (every built-in family has one);
        ``stats`` then also report ``n_hessian``, ``n_factorizations``, ``n_refine`` (iterative
        refinement steps of the mixed-precision linear solves, systems of 256 or more
        parameters) and the accepted steps per method (``steps_explicit``, ``steps_implicit``).
    max_steps : step budget; exceeding it raises :class:`agf.NumericalError` with ``.partial``.
    h0, h_max : initial and largest step (default automatic / unbounded).
    h_min : smallest step; steps of this size are accepted whatever their error estimate and
        counted in ``stats["n_forced"]``. Default None: never (a collapsing step raises
        NumericalError). ReLU networks need it when the flow slides along a kink (a
        pre-activation pinned at 0, a Filippov sliding mode): there no error-controlled step
        exists, and with ``h_min`` the flow is followed with the accuracy of gradient descent at
        learning rate ``h_min`` while it slides.
    linear_solver : for the implicit steps, one of :data:`LINEAR_SOLVERS`: ``"dense"`` (exact
        Hessian and Cholesky factorization, both reused across steps), ``"krylov"`` (conjugate
        gradients on Hessian-vector products, for models too large for a P x P Hessian; the
        solves stop at a small fraction of every neuron's error tolerance) or ``"auto"`` (dense
        up to :data:`DENSE_MAX_PARAMS` parameters). ``stats["n_hvp"]`` counts the products.
    n_threads : threads: for a batch, runs in parallel; for one run, the kernels split samples
        in fixed chunks (results do not depend on the thread count).
    progress : True for a tqdm bar, or an object with ``update_to(t)`` and ``close()``.

    Returns
    -------
    :class:`Trajectory` (or a list for a batch). Divergence, step-size underflow or an exhausted
    step budget raise :class:`agf.NumericalError` carrying the trajectory so far as ``.partial``.
    """
    model.check_data(data)
    t_max = positive("t_max", t_max)
    rtol = positive("rtol", rtol)
    if rtol < 1e-14:
        raise ConfigError(f"rtol={rtol} is below what double precision can deliver (use >= 1e-14)")
    atol = positive("atol", atol, allow_zero=True)
    s = positive("loss_scale", loss_scale)
    threads = check_threads(n_threads)
    max_steps = integer("max_steps", max_steps, minimum=1)
    if method not in METHODS:
        raise ConfigError(f"unknown method {method!r}; choose one of {METHODS}")
    if linear_solver not in LINEAR_SOLVERS:
        raise ConfigError(f"unknown linear_solver {linear_solver!r}; choose one of {LINEAR_SOLVERS}")
    h0 = 0.0 if h0 is None else positive("h0", h0)
    h_max = 0.0 if h_max is None else positive("h_max", h_max)
    h_min = 0.0 if h_min is None else positive("h_min", h_min)
    if save_at is None:
        save = default_save_times(t_max)
    else:
        save = float_array("save_at", save_at, ndim=1, error=ConfigError)
        if np.any(np.diff(save) < 0):
            save = np.sort(save)
        if save.size and (save[0] < 0 or save[-1] > t_max):
            raise ConfigError(f"save_at must lie in [0, t_max={t_max}]")
    save = np.ascontiguousarray(save)
    events = list(events)
    for e in events:
        if not isinstance(e, Event):
            raise ConfigError(f"events must be agf.events objects, got {e!r}")
    specs = [e._spec(model, s, data.loss_offset) for e in events]

    batch, starts, kernel_threads, blocks = batch_starts(model, params0, threads)

    def job_for(p0):
        vec = p0.to_vector()

        def job(report):
            clock = Clock()
            out = _core.gradient_flow(
                model._core, data.X, data.Y, vec, t_max, save, bool(save_steps), bool(save_params), method,
                rtol, atol, h0, h_max, h_min, max_steps, specs, kernel_threads,
                lambda t, steps: report(t / t_max), linear_solver=linear_solver,
            )
            return _to_trajectory(out, model, s, data.loss_offset, events, blocks, method, clock.elapsed())
        return job

    meter = make_meter(progress, total=float(len(starts)), desc="gradient flow", unit="run")
    trajectories = run_many([job_for(p) for p in starts], threads, meter)
    raise_on_failure(trajectories, batch)
    return trajectories if batch else trajectories[0]


_STIFF_STATS = ("n_hessian", "n_factorizations", "n_lu", "n_refine", "n_hvp", "n_switches", "steps_explicit",
                "steps_implicit")


def _to_trajectory(out, model, s, offset, events, blocks, method, wall) -> Trajectory:
    ev = out["events"]
    located = [LocatedEvent(events[int(i)], float(t), (float(l) + offset) * s, int(d))
               for i, t, l, d in zip(ev["index"], ev["t"], ev["loss"], ev["direction"])]
    status = STATUS[out["status"]]
    if out["interrupted"]:
        status = "interrupted"
    return Trajectory(
        kind="gradient_flow", t=out["t"], loss=(out["loss"] + offset) * s, loss_scale=s, norms=out["norms"],
        param_vectors=out["params"] if out["params"].size else None, events=located,
        stats={"n_steps": int(out["n_steps"]), "n_rejected": int(out["n_rejected"]),
               "n_grad": int(out["n_rhs"]), "n_forced": int(out["n_forced"]), "method": method, "wall_time": wall,
               "t_final": float(out["t_final"]),
               **{k: int(out[k]) for k in _STIFF_STATS if k in out}},
        status=status, message=out["message"], final_params=model.from_vector(out["y_final"]),
        blocks=blocks,
    )
