"""AGFResult.save / AGFResult.load: a result comes back field for field (npz + JSON header, no
pickle), for the two-layer engine, the diagonal closed form (signs, deactivations) and a run that
stopped before any jump."""

import math

import numpy as np
import pytest

import agf
from agf.tasks import diagonal_2d


def assert_same(r, q):
    assert q.order == r.order and q.path == r.path
    assert q.status == r.status and q.message == r.message and q.limit == r.limit
    assert q.kappa == r.kappa and q.d_out == r.d_out and q.loss_scale == r.loss_scale
    assert (q.alpha is None and r.alpha is None) or q.alpha == r.alpha
    assert q.stats == r.stats
    for name in ("jump_times", "rescaled_times", "levels", "dormant_S", "thresholds"):
        a, b = getattr(r, name), getattr(q, name)
        if a is None:
            assert b is None, name
        else:
            np.testing.assert_array_equal(b, a, err_msg=name)
    assert len(q.events) == len(r.events)
    for e, f in zip(r.events, q.events):
        assert e.keys() == f.keys()
        for k in e:
            if isinstance(e[k], float) and math.isnan(e[k]):
                assert math.isnan(f[k]), k
            elif k == "sign":
                np.testing.assert_array_equal(np.array(f[k]), np.array(e[k]))
            else:
                assert f[k] == e[k] and type(f[k]) is type(e[k]), (k, e[k], f[k])
    for a, b in [*zip(r.features, q.features), *zip(r.dormant_directions, q.dormant_directions),
                 (r.final_params, q.final_params)]:
        if a is None:
            assert b is None
            continue
        assert list(a) == list(b)
        for name in a:
            np.testing.assert_array_equal(b[name], a[name])
    assert len(q.features) == len(r.features) and len(q.dormant_directions) == len(r.dormant_directions)
    t = np.linspace(0, 1.5 * (r.jump_times[-1] if r.n_jumps else 1.0), 50)
    np.testing.assert_array_equal(q.loss(t), r.loss(t))


def test_two_layer_round_trip(tmp_path):
    X = np.random.default_rng(0).normal(size=(30, 4))
    Y = X @ np.array([[1.0], [2.0], [0.0], [0.0]])
    m = agf.TwoLayer(4, 1, 3, "square")
    r = agf.run_agf(m, agf.Dataset(X, Y), m.init(1e-2, 0), loss_scale=0.5)
    assert r.n_jumps == 3 and all("cost_time" in e for e in r.events if e["kind"] == "activate")
    r.save(tmp_path / "r.npz")
    assert_same(r, agf.AGFResult.load(tmp_path / "r.npz"))


def test_diagonal_round_trip_with_signs_and_deactivations(tmp_path):
    task = diagonal_2d()
    m = agf.DiagonalLinear(2)
    r = agf.run_agf(m, task.data, m.init(1e-6))
    assert any(e["kind"] == "deactivate" for e in r.events) and any(p < 0 for p in r.path)
    assert r.dormant_directions == [None] * r.n_jumps  # the closed form has no directions
    r.save(tmp_path / "d.npz")
    q = agf.AGFResult.load(tmp_path / "d.npz")
    assert_same(r, q)
    np.testing.assert_allclose(q.rescaled_times, [0.1930, 0.6002, 3.4574], atol=1e-3)  # method 6.1


def test_no_jump_round_trip(tmp_path):
    X = np.random.default_rng(1).normal(size=(10, 3))
    m = agf.TwoLayer(3, 1, 2, "square")
    r = agf.run_agf(m, agf.Dataset(X, X[:, :1]), m.init(1e-2, 1), max_rounds=0)
    assert r.n_jumps == 0 and r.features == []
    r.save(tmp_path / "n.npz")
    assert_same(r, agf.AGFResult.load(tmp_path / "n.npz"))


def test_load_rejects_a_file_that_is_not_a_result(tmp_path):
    np.savez(tmp_path / "x.npz", a=np.zeros(3))
    with pytest.raises(KeyError):
        agf.AGFResult.load(tmp_path / "x.npz")
