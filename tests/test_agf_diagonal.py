"""AGF engine on diagonal linear networks: method sections 6.1 and 6.2 (limit mode and
alpha = 1e-100), termination, and the first activation time against the closed form."""

import math

import numpy as np
import pytest

import agf
import agf.theory


@pytest.fixture
def diag2d():
    th = np.deg2rad(150.0)
    R = np.array([[np.cos(th), -np.sin(th)], [np.sin(th), np.cos(th)]])
    X = np.linalg.cholesky(R @ np.diag([1.0, 25.0]) @ R.T)
    return X, X @ np.array([-0.2, 2.0])


@pytest.fixture
def diag5d():
    rs = np.random.RandomState(10)
    X = rs.multivariate_normal(np.zeros(5), np.diag([1, 1 / 2, 1 / 3, 1 / 4, 1 / 5]), size=20)
    beta = 10 * rs.randn(5)
    return X, X @ beta


def run(X, y, **kw):
    m = agf.DiagonalLinear(X.shape[1])
    alpha = kw.pop("alpha", 1e-100)
    return agf.run_agf(m, agf.Dataset(X, y), m.init(alpha), **kw)


def check(res, order, times, levels, theory):
    assert res.order == order == theory.order
    np.testing.assert_allclose(res.rescaled_times, times, rtol=1e-2)
    np.testing.assert_allclose(res.rescaled_times, theory.rescaled_times, rtol=1e-2)
    lv = np.asarray([float(v) for v in levels])
    nz = lv > 0
    # published numbers: within 1e-4 relative or the rounding of their last printed digit
    for a, p in zip(res.levels, levels):
        dec = len(p.split(".")[1]) if "." in p else 0
        assert abs(a - float(p)) <= max(1e-4 * float(p), 0.5 * 10.0 ** -dec + 1e-12), (a, p)
    np.testing.assert_allclose(res.levels[nz], theory.levels[nz], rtol=1e-4)
    assert res.levels[-1] <= 1e-10 * res.levels[0]


@pytest.mark.parametrize("limit", [True, False])
def test_section_6_1(diag2d, limit):
    X, y = diag2d
    res = run(X, y, limit=limit)
    th = agf.theory.diagonal(X, y)
    check(res, [0, 1, 0], [0.1930, 0.6002, 3.4574], ["2.3111", "1.11465", "0.07", "0"], th)
    # 0 activates, 0 deactivates as 1 activates, 0 re-activates with the opposite sign
    assert res.path == [0, 1, ~0, 0] == th.extras["path"]
    kinds = [(e["kind"], e["neurons"], e["round"]) for e in res.events]
    assert kinds == [("activate", (0,), 0), ("activate", (1,), 1), ("deactivate", (0,), 1), ("activate", (0,), 2)]
    assert res.events[0]["sign"] == (1.0,) and res.events[3]["sign"] == (-1.0,)
    assert res.status == "loss_tol"
    # no cycling: no neuron activates twice at one instant
    t_by = {}
    for e in res.events:
        if e["kind"] == "activate":
            for i in e["neurons"]:
                assert (i, e["time"]) not in t_by
                t_by[(i, e["time"])] = 1
    np.testing.assert_allclose(res.features[0]["u"] * res.features[0]["v"], [0.4619, 0], atol=1e-4)
    np.testing.assert_allclose(res.features[1]["u"] * res.features[1]["v"], [0, 1.5843], atol=1e-4)


@pytest.mark.parametrize("limit", [True, False])
def test_section_6_2(diag5d, limit):
    X, y = diag5d
    res = run(X, y, limit=limit)
    th = agf.theory.diagonal(X, y)
    check(res, [1, 2, 3, 0, 4], [0.1201, 0.6007, 0.9817, 1.1123, 4.2193],
          ["82.417", "13.323", "2.267", "0.988", "0.1656", "0"], th)


def test_tiny_alpha_and_exactness(diag5d):
    X, y = diag5d
    a = run(X, y, alpha=1e-100)
    b = run(X, y, alpha=1e-250)  # delta = 2e-500 underflows: the engine works with log|delta|
    np.testing.assert_allclose(a.rescaled_times, b.rescaled_times, rtol=1e-2)
    assert a.order == b.order


def test_first_activation_closed_form():
    # one coordinate, direction already at its maximum (u = v): S = |g| t exactly,
    # ||theta||^2 = 2 u0^2 e^{2 g t} reaches 1 at t = log(1/(sqrt(2) u0)) / g
    X = np.array([[1.0], [0.0]])
    y = np.array([3.0, 0.0])
    g = 3.0 / 2
    m = agf.DiagonalLinear(1)
    u0 = 1e-5
    res = agf.run_agf(m, agf.Dataset(X, y), m.params(u=[u0], v=[u0]))
    t_exact = math.log(1.0 / (math.sqrt(2) * u0)) / g
    assert res.jump_times[0] == pytest.approx(t_exact, rel=1e-9)
    # generic start (v = 0): cosh law ||theta||^2 = 2 u0^2 cosh(2 g t)
    res = agf.run_agf(m, agf.Dataset(X, y), m.params(u=[u0], v=[0.0]))
    assert res.jump_times[0] == pytest.approx(math.acosh(1 / (u0 * u0)) / (2 * g), rel=1e-9)


def test_termination_and_loss_curve(diag2d):
    X, y = diag2d
    res = run(X, y, alpha=1e-8)
    assert res.status == "loss_tol"
    assert res.loss(0.0) == pytest.approx(res.levels[0])
    assert res.loss(res.jump_times[-1] + 1) == pytest.approx(res.levels[-1])
    df = res.to_dataframe()
    assert len(df) == len(res.events)
    # a target orthogonal to every coordinate's gradient: nothing can activate
    m = agf.DiagonalLinear(2)
    Xo = np.array([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0], [0.0, -1.0]])
    yo = np.array([1.0, 1.0, 1.0, 1.0])
    r2 = agf.run_agf(m, agf.Dataset(Xo, yo), m.init(1e-3))
    assert r2.status == "stationary" and r2.n_jumps == 0
