"""agf.sweep: grids, one row per point, the same table on every backend (serial, local processes,
dask's process scheduler, a dask.distributed client), rows equal to direct calls, failures
raised with their point or recorded, and argument errors."""

import math

import numpy as np
import pytest

import agf
from agf.sweep import SweepError, grid, summarize, sweep
from agf.tasks import diagonal_2d

X = np.random.default_rng(3).normal(size=(40, 4))
Y = X @ np.array([[1.0], [-2.0], [0.5], [0.0]])


def square_agf(alpha, seed):
    """A point: AGF of a width-3 square network on a fixed regression, from model.init(alpha,
    seed) (module level, so worker processes can import it)."""
    m = agf.TwoLayer(4, 1, 3, "square")
    return agf.run_agf(m, agf.Dataset(X, Y), m.init(alpha, seed))


def diagonal_gf(alpha):
    m = agf.DiagonalLinear(2)
    task = diagonal_2d()
    return agf.gradient_flow(m, task.data, m.init(alpha), 40.0)


def scalars(a, b):
    return {"sum": a + b, "label": f"{a}-{b}", "flag": a > b, "np": np.float64(a) * 2, "np_flag": np.bool_(a > b),
            "zero_d": np.array(a)}


def fails_on_one(k):
    if k == 1:
        raise agf.ConfigError("point 1 is bad")
    return {"k2": k * k}


def test_grid_order_and_errors():
    assert grid(alpha=[1e-2, 1e-4], seed=[0, 1]) == [
        {"alpha": 1e-2, "seed": 0}, {"alpha": 1e-2, "seed": 1}, {"alpha": 1e-4, "seed": 0}, {"alpha": 1e-4, "seed": 1}]
    assert grid(seed=range(3)) == [{"seed": 0}, {"seed": 1}, {"seed": 2}]
    for bad in [dict(), dict(seed=[]), dict(seed=3), dict(name="abc")]:
        with pytest.raises(agf.ConfigError):
            grid(**bad)


@pytest.fixture(scope="module")
def serial():
    return sweep(square_agf, grid(alpha=[1e-2, 1e-3], seed=[0, 1, 2]))


def test_rows_are_the_direct_results(serial):
    assert list(serial["alpha"]) == [1e-2] * 3 + [1e-3] * 3 and list(serial["seed"]) == [0, 1, 2] * 2
    for _, row in serial.iterrows():
        res = square_agf(row["alpha"], row["seed"])
        assert row["n_jumps"] == res.n_jumps and row["status"] == res.status
        for k in range(res.n_jumps):
            assert row[f"jump_time_{k}"] == res.jump_times[k]
            assert row[f"level_{k + 1}"] == res.levels[k + 1]
            assert row[f"neuron_{k}"] == res.order[k]
        assert row["final_level"] == res.levels[-1]
    # the seeds give different runs (the table is not one row repeated)
    assert serial["jump_time_0"].nunique() == 6


def compare_tables(a, b):
    a, b = a.drop(columns=["wall_time"]), b.drop(columns=["wall_time"])
    assert list(a.columns) == list(b.columns)
    for col in a.columns:
        x, y = a[col].to_numpy(), b[col].to_numpy()
        if x.dtype.kind == "f":
            np.testing.assert_array_equal(x, y, err_msg=col)
        else:
            assert list(x) == list(y), col


def test_processes_give_the_same_table(serial):
    compare_tables(serial, sweep(square_agf, grid(alpha=[1e-2, 1e-3], seed=[0, 1, 2]), backend="processes",
                                 n_workers=2))


def test_dask_scheduler_and_client_give_the_same_table(serial):
    pytest.importorskip("distributed")
    points = grid(alpha=[1e-2, 1e-3], seed=[0, 1, 2])
    compare_tables(serial, sweep(square_agf, points, backend="dask", n_workers=2))
    from distributed import Client, LocalCluster

    with LocalCluster(n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None) as cluster, \
            Client(cluster) as client:
        compare_tables(serial, sweep(square_agf, points, backend="dask", client=client))


def test_trajectory_and_dict_rows():
    t = sweep(diagonal_gf, {"alpha": [1e-2, 1e-4]})
    assert list(t.columns[:2]) == ["alpha", "kind"] and set(t["status"]) == {"success"}
    for _, row in t.iterrows():
        tr = diagonal_gf(row["alpha"])
        assert row["t_final"] == 40.0 and row["final_loss"] == tr.loss_canonical[-1]
    # smaller alpha: later drops, so more loss left at t = 40
    assert t["final_loss"].iloc[1] > t["final_loss"].iloc[0]
    d = sweep(scalars, [{"a": 2, "b": 1}, {"a": 1, "b": 3}])
    assert list(d["sum"]) == [3, 4] and list(d["label"]) == ["2-1", "1-3"] and list(d["flag"]) == [True, False]
    assert list(d["np"]) == [4.0, 2.0] and list(d["np_flag"]) == [True, False] and list(d["zero_d"]) == [2, 1]


def test_experiment_rows():
    from agf.experiments import diagonal_2d as experiment

    row = summarize(experiment(1e-6))
    assert row["agf_n_jumps"] == 3 and row["agf_status"] in agf.agf_result.AGF_STATUS
    np.testing.assert_allclose([row[f"predicted_rescaled_time_{k}"] for k in range(3)], [0.1930, 0.6002, 3.4574],
                               atol=1e-3)  # method 6.1
    assert [row[f"gf_status_{k}"] for k in range(3)] == ["matched"] * 3
    assert row["gf_final_loss"] < 1e-8


def test_failures_raised_with_the_point_or_recorded():
    with pytest.raises(SweepError, match="point 1 is bad") as info:
        sweep(fails_on_one, grid(k=[0, 1, 2]))
    assert info.value.point == {"k": 1} and "Traceback" in str(info.value)
    t = sweep(fails_on_one, grid(k=[0, 1, 2]), errors="record")
    assert list(t["k2"].iloc[[0, 2]]) == [0, 4] and math.isnan(t["k2"].iloc[1])
    assert t["error"].iloc[1] == "ConfigError: point 1 is bad" and t["error"].isna().sum() == 2
    assert len(t.attrs["errors"]) == 1 and t.attrs["errors"][0]["point"] == {"k": 1}


@pytest.mark.parametrize("kw", [
    dict(points=[]), dict(points=None), dict(backend="mpi"), dict(errors="ignore"), dict(n_workers=0),
    dict(n_workers=1.5), dict(n_workers=True), dict(client=object()),
], ids=lambda kw: f"{next(iter(kw))}={next(iter(kw.values()))!r}")
def test_bad_arguments(kw):
    args = dict(points=grid(k=[0]))
    args.update(kw)
    with pytest.raises(agf.ConfigError):
        sweep(fails_on_one, args.pop("points"), **args)


def test_unusable_functions_and_rows():
    with pytest.raises(agf.ConfigError, match="importable"):
        sweep(lambda k: {"k": k}, grid(k=[0, 1]), backend="processes")
    with pytest.raises(agf.ConfigError):
        sweep("not a function", grid(k=[0]))
    with pytest.raises(SweepError, match="scalars"):
        sweep(lambda k: {"v": np.zeros(3)}, grid(k=[0]))
    with pytest.raises(SweepError, match="must return"):
        sweep(lambda k: [k], grid(k=[0]))


class Meter:
    def __init__(self):
        self.seen, self.closed = [], False

    def update_to(self, n):
        self.seen.append(n)

    def close(self):
        self.closed = True


@pytest.mark.parametrize("backend", ["serial", "processes"])
def test_progress_counts_points(backend):
    meter = Meter()
    sweep(scalars, grid(a=[1, 2, 3], b=[0]), backend=backend, n_workers=2, progress=meter)
    assert meter.seen == [1, 2, 3] and meter.closed


def test_sweep_summary_plot(serial):
    """agf.plot.sweep_summary: the plotted line is the mean over seeds at each alpha, the band
    spans min to max, one line per value of `by`, log x for alphas a decade apart."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    import agf.plot as aplt

    ax = aplt.sweep_summary(serial, "alpha", "jump_time_0")
    (line,) = ax.lines
    means = serial.groupby("alpha")["jump_time_0"].mean()
    np.testing.assert_array_equal(line.get_xdata(), means.index.to_numpy())
    np.testing.assert_allclose(line.get_ydata(), means.to_numpy(), rtol=1e-15)
    band = ax.collections[0].get_paths()[0].vertices
    assert band[:, 1].min() == pytest.approx(serial["jump_time_0"].min())
    assert band[:, 1].max() == pytest.approx(serial["jump_time_0"].max())
    assert ax.get_xscale() == "linear"  # alphas 1e-2, 1e-3: a factor 10
    plt.close(ax.figure)
    ax = aplt.sweep_summary(serial, "seed", "level_1", by="alpha", band=False)
    assert len(ax.lines) == 2 and not ax.collections
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["alpha = 0.001", "alpha = 0.01"]
    plt.close(ax.figure)
    with pytest.raises(agf.ConfigError, match="no column"):
        aplt.sweep_summary(serial, "alpha", "nope")
    import pandas as pd

    wide = pd.DataFrame({"alpha": [1e-2, 1e-6, 1e-6], "v": [1.0, 2.0, np.nan]})
    ax = aplt.sweep_summary(wide, "alpha", "v")
    assert ax.get_xscale() == "log" and list(ax.lines[0].get_ydata()) == [2.0, 1.0]  # NaN row left out
    plt.close(ax.figure)
