"""Sweeps: one function over a grid of settings (seeds, widths, initialization scales, ...),
run serially, in local processes or on a dask cluster, gathered into one table.

    import agf
    from agf.sweep import grid, sweep

    def staircase(alpha, seed):                      # a module-level function
        m = agf.DiagonalLinear(5)
        return agf.run_agf(m, data, m.init(alpha, seed))

    table = sweep(staircase, grid(alpha=[1e-2, 1e-4, 1e-8], seed=range(10)), backend="processes")

Each point ``p`` of the grid runs ``fn(**p)`` on its own. What ``fn`` returns is turned into one
row by :func:`summarize` in the worker (so only the row travels back): an
:class:`agf.AGFResult`, an :class:`agf.Trajectory`, an experiment result
(:mod:`agf.experiments`), or a dict of scalars. The table has one row per point, in the grid's
order whatever the backend, the point's settings first. Points are independent, so a sweep gives
the same table on every backend and any number of workers (each point's own computation is
deterministic); give each point ``n_threads=1`` when several workers share the cores.

Backends: ``"serial"`` (this process), ``"processes"`` (a local pool of ``n_workers`` processes,
started with "spawn": ``fn`` must be importable, i.e. defined at module level, not a lambda or
a function typed into an interactive session), ``"dask"`` (``client.map`` on a
``dask.distributed.Client`` you pass, e.g. one connected to a cluster, or dask's local
process scheduler when ``client`` is None; needs ``pip install 'agf[dask]'``).
"""

from __future__ import annotations

import concurrent.futures as cf
import itertools
import math
import multiprocessing
import numbers
import pickle
import traceback
from typing import Any, Callable, Iterable, Mapping

import numpy as np

from agf.errors import AGFError, ConfigError

__all__ = ["grid", "sweep", "summarize", "run_setting", "SweepError", "BACKENDS"]

#: The ways a sweep can run its points.
BACKENDS = ("serial", "processes", "dask")


class SweepError(AGFError, RuntimeError):
    """A point of a sweep failed (``errors="raise"``); ``.point`` is its settings and the
    message carries the worker's traceback."""

    def __init__(self, message: str, point: dict):
        super().__init__(message)
        self.point = point


def grid(**axes: Iterable) -> list[dict]:
    """All combinations of the given axes, the last axis varying fastest:
    ``grid(alpha=[1e-2, 1e-4], seed=[0, 1])`` is ``[{alpha: 1e-2, seed: 0}, {alpha: 1e-2,
    seed: 1}, {alpha: 1e-4, seed: 0}, {alpha: 1e-4, seed: 1}]``."""
    if not axes:
        raise ConfigError("grid needs at least one axis, e.g. grid(seed=range(5))")
    names = list(axes)
    values = []
    for name in names:
        v = axes[name]
        if isinstance(v, (str, bytes)) or not isinstance(v, Iterable):
            raise ConfigError(f"grid axis {name!r} must be a list of values, got {v!r}")
        v = list(v)
        if not v:
            raise ConfigError(f"grid axis {name!r} is empty")
        values.append(v)
    return [dict(zip(names, combo)) for combo in itertools.product(*values)]


# --------------------------------------------------------------------------- rows
def _scalar(name: str, value) -> Any:
    if isinstance(value, np.generic) or (isinstance(value, np.ndarray) and value.ndim == 0):
        value = value.item()  # numpy scalars (np.float64, np.bool_, ...) as Python ones
    if value is None or isinstance(value, (str, bool, numbers.Number)):
        return value
    raise ConfigError(f"sweep rows hold scalars; {name!r} is a {type(value).__name__} "
                      "(return a dict of numbers and strings, or an agf result)")


def _agf_row(res) -> dict:
    row = {"status": res.status, "n_jumps": res.n_jumps, "level_0": float(res.levels[0])}
    for k in range(res.n_jumps):
        o = res.order[k]
        row[f"neuron_{k}"] = o if isinstance(o, int) else str(tuple(o))
        if res.jump_times is not None:
            row[f"jump_time_{k}"] = float(res.jump_times[k])
        if res.rescaled_times is not None:
            row[f"rescaled_time_{k}"] = float(res.rescaled_times[k])
        row[f"level_{k + 1}"] = float(res.levels[k + 1])
    row["final_level"] = float(res.levels[-1])
    row["wall_time"] = float(res.stats.get("wall_time", math.nan))
    return row


def _trajectory_row(tr) -> dict:
    return {"kind": tr.kind, "status": tr.status, "t_final": float(tr.t[-1]),
            "final_loss": float(tr.loss_canonical[-1]), "n_steps": int(tr.stats.get("n_steps", 0)),
            "wall_time": float(tr.stats.get("wall_time", math.nan))}


def _experiment_row(res) -> dict:
    row = {f"agf_{k}": v for k, v in _agf_row(res.agf).items()}
    row.update({f"gf_{k}": v for k, v in _trajectory_row(res.gf).items() if k != "kind"})
    table = res.table
    for col in table.columns:
        if col in ("jump", "label") or col.endswith("observed_label"):
            continue
        for k, v in enumerate(table[col]):
            row[f"{col}_{k}"] = v if isinstance(v, str) else float(v)
    return row


def summarize(obj) -> dict:
    """One table row for what a sweep's function returned: an :class:`agf.AGFResult` (status,
    number of jumps, per jump the neuron, jump time, rescaled time and the level after it), an
    :class:`agf.Trajectory` (final time and loss in canonical units, steps, status), an
    experiment result (both of those plus its comparison table, one column per entry and jump),
    or a dict of scalars (kept as it is)."""
    from agf.agf_result import AGFResult
    from agf.trajectory import Trajectory

    if isinstance(obj, AGFResult):
        row = _agf_row(obj)
    elif isinstance(obj, Trajectory):
        row = _trajectory_row(obj)
    elif hasattr(obj, "agf") and hasattr(obj, "gf") and hasattr(obj, "table"):
        row = _experiment_row(obj)
    elif isinstance(obj, Mapping):
        row = dict(obj)
    else:
        raise ConfigError(f"a sweep's function must return an AGFResult, a Trajectory, an experiment "
                          f"result or a dict, got {type(obj).__name__}")
    return {str(k): _scalar(str(k), v) for k, v in row.items()}


def _run_point(fn: Callable, point: dict) -> dict:
    """Runs in the worker: the row, or the failure as text (exceptions may not pickle)."""
    try:
        return {"ok": True, "row": summarize(fn(**point))}
    except Exception as exc:  # noqa: BLE001 - reported to the caller, with the traceback
        return {"ok": False, "error": f"{type(exc).__name__}: {exc}", "traceback": traceback.format_exc()}


# --------------------------------------------------------------------------- sweep
def sweep(fn: Callable, points, *, backend: str = "serial", n_workers: int | None = None, client=None,
          errors: str = "raise", progress=False):
    """Run ``fn(**point)`` for every point and gather one row per point.

    Parameters
    ----------
    fn : the function of one point; what it returns is summarized by :func:`summarize`.
    points : a list of dicts of keyword arguments (e.g. from :func:`grid`), or a dict of axes
        (turned into ``grid(**points)``).
    backend : ``"serial"``, ``"processes"`` or ``"dask"`` (see the module docstring).
    n_workers : processes for ``"processes"`` and dask's local scheduler (default: the CPU
        count, at most the number of points).
    client : a ``dask.distributed.Client`` for ``backend="dask"`` (a cluster); None uses
        dask's local process scheduler.
    errors : ``"raise"`` (default: a failed point raises :class:`SweepError` with its settings
        and the worker's traceback) or ``"record"`` (its row gets the message in an ``error``
        column, the other columns empty).
    progress : True for a tqdm bar over the points (``"serial"`` and ``"processes"``), or an
        object with ``update_to(n)`` and ``close()``.

    Returns
    -------
    pandas.DataFrame with the points' settings, then the summarized results; ``attrs["errors"]``
    lists the tracebacks of failed points (``errors="record"``).
    """
    import pandas as pd

    from agf.progress import make_meter

    if not callable(fn):
        raise ConfigError(f"fn must be callable, got {type(fn).__name__}")
    if isinstance(points, Mapping):
        points = grid(**points)
    points = [dict(p) for p in points] if isinstance(points, Iterable) else None
    if not points:
        raise ConfigError("points must be a non-empty list of dicts (or a dict of axes)")
    if backend not in BACKENDS:
        raise ConfigError(f"backend must be one of {BACKENDS}, got {backend!r}")
    if errors not in ("raise", "record"):
        raise ConfigError(f"errors must be 'raise' or 'record', got {errors!r}")
    if n_workers is not None and (isinstance(n_workers, bool) or not isinstance(n_workers, numbers.Integral)
                                  or n_workers < 1):
        raise ConfigError(f"n_workers must be a positive integer, got {n_workers!r}")
    if client is not None and backend != "dask":
        raise ConfigError("client is for backend='dask'")
    workers = min(int(n_workers or multiprocessing.cpu_count() or 1), len(points))
    meter = make_meter(progress, len(points), "sweep", "points")
    try:
        outs = _dispatch(fn, points, backend, workers, client, meter)
    finally:
        meter.close()
    rows, failed = [], []
    for p, out in zip(points, outs):
        if out["ok"]:
            rows.append({**p, **{k: v for k, v in out["row"].items() if k not in p}})
            continue
        if errors == "raise":
            raise SweepError(f"sweep point {p} failed: {out['error']}\n{out['traceback']}", p)
        rows.append({**p, "error": out["error"]})
        failed.append({"point": p, "traceback": out["traceback"]})
    table = pd.DataFrame(rows)
    table.attrs["errors"] = failed
    return table


def _dispatch(fn, points, backend, workers, client, meter) -> list[dict]:
    if backend == "serial":
        outs = []
        for p in points:
            outs.append(_run_point(fn, p))
            meter.update_to(len(outs))
        return outs
    if backend == "processes":
        try:
            pickle.dumps(fn)
        except Exception as exc:  # noqa: BLE001 - any pickling failure means the same thing
            raise ConfigError(f"backend='processes' sends fn to new processes, so it must be importable "
                              f"(defined at module level, not a lambda or a local function): {exc}") from None
        ctx = multiprocessing.get_context("spawn")
        with cf.ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool:
            futures = [pool.submit(_run_point, fn, p) for p in points]
            done = 0
            for _ in cf.as_completed(futures):
                done += 1
                meter.update_to(done)
            return [f.result() for f in futures]
    try:
        import dask
    except ImportError:
        raise ConfigError("backend='dask' needs dask: pip install 'agf[dask]'") from None
    if client is not None:
        futures = client.map(_run_point, [fn] * len(points), points, pure=False)
        return client.gather(futures)
    tasks = [dask.delayed(_run_point, pure=False)(fn, p) for p in points]
    return list(dask.compute(*tasks, scheduler="processes", num_workers=workers))


def run_setting(setting: str, alpha: float | None = None, seed: int = 0, full: bool = False):
    """One point of a sweep over the paper's settings (``agf sweep``): the experiment
    ``agf.experiments.SETTINGS[setting]`` at ``alpha`` (None: the setting's default) and
    ``seed``, on one thread. Use as ``functools.partial(run_setting, "modular")``."""
    from agf.experiments import SETTINGS

    if setting not in SETTINGS:
        raise ConfigError(f"unknown setting {setting!r}; one of {', '.join(SETTINGS)}")
    kw = dict(seed=seed, full=full, n_threads=1)
    if alpha is not None:
        kw["alpha"] = alpha
    return SETTINGS[setting][0](**kw)
