"""Shared driver of the experiments: theory, AGF, gradient flow (and descent) from one
initialization, then the comparison tables."""

from __future__ import annotations

import math
import time as _time

import numpy as np

import agf
from agf.analysis.compare import compare
from agf.errors import ConfigError
from agf.experiments.result import ExperimentResult


def gf_method() -> str:
    return "auto" if "auto" in agf.METHODS else "explicit"


def check_alpha(alpha) -> float:
    try:
        a = float(alpha)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"alpha must be a number, got {alpha!r}") from exc
    if not (math.isfinite(a) and 0 < a < 1):
        raise ConfigError(f"alpha must be in (0, 1), got {alpha!r}")
    return a


def merge_tables(tables: dict, rescaled: bool = True):
    """One row per predicted drop: the prediction, then per run its observed time, level and
    relative errors (prefix = the run's key)."""
    import pandas as pd

    first = next(iter(tables.values()))
    base = first[first["status"] != "extra"][["jump", "label", "predicted_time", "predicted_rescaled_time",
                                               "predicted_level"]].reset_index(drop=True)
    out = base.copy()
    for name, df in tables.items():
        d = df[df["status"] != "extra"].reset_index(drop=True)
        out[f"{name}_time"] = d["observed_time"]
        out[f"{name}_rescaled_time"] = d["observed_rescaled_time"]
        out[f"{name}_time_err"] = d["time_rel_error"]
        out[f"{name}_level"] = d["observed_level"]
        out[f"{name}_level_err"] = d["level_rel_error"]
        out[f"{name}_status"] = d["status"]
        out[f"{name}_observed_label"] = d["observed_label"]
    if not rescaled or out["predicted_rescaled_time"].isna().all():
        out = out.drop(columns=[c for c in out.columns if c.endswith("rescaled_time")])
    out.attrs["extra_jumps"] = {k: int((v["status"] == "extra").sum()) for k, v in tables.items()}
    return pd.DataFrame(out)


def run(setting, task, model, params0, alpha, theory, *, horizon, gd=None, compare_time="crossing",
        agf_kw=None, gf_kw=None, feature_plot=None, n_threads=1, progress=False, staircase_kw=None,
        info=None):
    """horizon: callable (agf_result, theory) -> gradient-flow t_max. gd: None or dict(lr, momentum,
    steps or None) for gradient descent on the task's loss convention."""
    info = dict(info or {})
    s = task.loss_scale
    clock = _time.perf_counter()
    res = agf.run_agf(model, task.data, params0, alpha=alpha, n_threads=n_threads, **(agf_kw or {}))
    info["agf_wall_time"] = _time.perf_counter() - clock
    t_max = float(horizon(res, theory))
    kw = dict(method=gf_method(), rtol=1e-8, loss_scale=s, save_params=True,
              save_at=np.linspace(0.0, t_max, 1501), n_threads=n_threads, progress=progress)
    kw.update(gf_kw or {})
    clock = _time.perf_counter()
    gf = agf.gradient_flow(model, task.data, params0, t_max, **kw)
    gf.info["alpha"] = alpha
    info["gf_wall_time"] = _time.perf_counter() - clock
    info["t_max"] = t_max
    traj_gd = None
    if gd:
        lr = float(gd["lr"])
        mom = float(gd.get("momentum", 0.0))
        dt = agf.units.gd_time_per_step(lr, loss_scale=s, momentum=mom)
        steps = int(gd.get("steps") or math.ceil(t_max / dt))
        clock = _time.perf_counter()
        traj_gd = agf.gradient_descent(model, task.data, params0, lr=lr, steps=steps, momentum=mom, loss_scale=s,
                                       save_every=max(1, steps // 3000), save_params=False, n_threads=n_threads)
        traj_gd.info["alpha"] = alpha
        info["gd_wall_time"] = _time.perf_counter() - clock
        info["gd"] = dict(lr=lr, momentum=mom, steps=steps, time_per_step=dt)
    skw = staircase_kw or {}
    tables = {}
    pred = theory if theory is not None else res
    if theory is not None:
        tables["agf"] = compare(theory, res, alpha=alpha, time=compare_time)
    tables["gf"] = compare(pred, gf, alpha=alpha, time=compare_time, **skw)
    if traj_gd is not None:
        tables["gd"] = compare(pred, traj_gd, alpha=alpha, time=compare_time, **skw)
    table = merge_tables(tables, rescaled=int(model.kappa) == 2)
    return ExperimentResult(setting=setting, task=task, model=model, params0=params0, alpha=alpha, theory=theory,
                            agf=res, gf=gf, gd=traj_gd, table=table, tables=tables, info=info,
                            feature_plot=feature_plot)
