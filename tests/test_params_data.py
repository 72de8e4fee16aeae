"""Params, Dataset, Trajectory and agf.units basics, and determinism (seeds, thread counts,
batches, the kernels' fixed sample chunks)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import agf


# --------------------------------------------------------------------------------- Params
@settings(max_examples=30, deadline=None)
@given(d=st.integers(1, 5), c=st.integers(1, 3), H=st.integers(1, 4), seed=st.integers(0, 2**32 - 1))
def test_vector_round_trip(d, c, H, seed):
    rng = np.random.default_rng(seed)
    model = agf.TwoLayer(d, c, H, "relu")
    W, A = rng.normal(size=(H, d)), rng.normal(size=(H, c))
    p = model.params(w=W, a=A)
    v = p.to_vector()
    # the documented layout: W row-major, then A row-major
    np.testing.assert_array_equal(v, np.concatenate([W.ravel(), A.ravel()]))
    assert v.size == p.size == model.n_params == H * (d + c)
    q = model.from_vector(v)
    assert q == p and list(q) == ["w", "a"]
    assert p.like(v) == p and model.as_params(v) == p and model.as_params(dict(p)) == p
    np.testing.assert_array_equal(p.norms(), np.sqrt((W**2).sum(1) + (A**2).sum(1)))
    assert p.neuron(H - 1)["w"].tolist() == W[-1].tolist()
    assert p.n_neurons == H
    # Params copy their input: mutating the source does not change them
    before = W[0, 0]
    W[0, 0] = before + 1.0
    assert p["w"][0, 0] == before
    cp = p.copy()
    assert cp == p and cp["w"] is not p["w"]


def test_diagonal_params_layout():
    model = agf.DiagonalLinear(3)
    p = model.params(u=[1.0, 2.0, 3.0], v=[4.0, 5.0, 6.0])
    np.testing.assert_array_equal(p.to_vector(), [1, 2, 3, 4, 5, 6])
    np.testing.assert_array_equal(model.beta(p), [4.0, 10.0, 18.0])
    np.testing.assert_allclose(model.neuron_norms(p), np.hypot([1, 2, 3], [4, 5, 6]), rtol=1e-15)
    assert model.from_vector(p.to_vector()) == p
    assert p != model.params(u=[1.0, 2.0, 3.0], v=[4.0, 5.0, 7.0])


def test_init_scales_and_seeds():
    model = agf.TwoLayer(50, 40, 200, "relu")
    a, b = model.init(1e-3, seed=7), model.init(1e-3, seed=7)
    assert a == b  # same seed, identical
    assert a != model.init(1e-3, seed=8)
    assert model.init(1e-3, seed=np.random.default_rng(7)) == a  # a Generator is a seed too
    # paper scheme: W ~ N(0, alpha^2/d), A ~ N(0, alpha^2/c): mean squared norm 2 alpha^2
    np.testing.assert_allclose(np.mean(a.norms() ** 2), 2e-6, rtol=0.05)
    np.testing.assert_allclose(a["w"].std(), 1e-3 / np.sqrt(50), rtol=0.05)
    np.testing.assert_allclose(a["a"].std(), 1e-3 / np.sqrt(40), rtol=0.05)
    bal = model.init(1e-3, seed=1, scheme="balanced")
    np.testing.assert_allclose(np.linalg.norm(bal["w"], axis=1), 1e-3, rtol=1e-13)
    np.testing.assert_allclose(np.linalg.norm(bal["a"], axis=1), 1e-3, rtol=1e-13)
    diag = agf.DiagonalLinear(4)
    np.testing.assert_array_equal(diag.init(1e-12)["u"], np.full(4, np.sqrt(2) * 1e-12))
    assert diag.init(0.1, seed=3, scheme="gaussian") == diag.init(0.1, seed=3, scheme="gaussian")


# -------------------------------------------------------------------------------- Dataset
def test_dataset_conversions():
    X = [[1, 2], [3, 4], [5, 6]]
    ds = agf.Dataset(X, [1, 2, 3])  # integer lists, 1-D Y
    assert ds.X.dtype == np.float64 and ds.Y.dtype == np.float64
    assert ds.Y.shape == (3, 1) and (ds.n, ds.d_in, ds.d_out) == (3, 2, 1)
    assert ds.X.flags["C_CONTIGUOUS"] and ds.Y.flags["C_CONTIGUOUS"]
    # a Fortran-ordered or strided X gives the same numbers, stored C-contiguous
    F = np.asfortranarray(np.arange(12.0).reshape(4, 3))
    ds2 = agf.Dataset(F[::1, ::2], np.ones((4, 2)))
    assert ds2.X.flags["C_CONTIGUOUS"]
    np.testing.assert_array_equal(ds2.X, F[:, ::2])
    # 1-D Y and (n, 1) Y give the same runs
    model = agf.DiagonalLinear(2)
    p = model.params(u=[0.3, -0.2], v=[0.1, 0.4])
    y = np.array([1.0, -1.0, 0.5])
    l1, g1 = model.gradient(agf.Dataset(X, y), p)
    l2, g2 = model.gradient(agf.Dataset(X, y[:, None]), p)
    assert l1 == l2 and g1 == g2
    two = agf.TwoLayer(2, 1, 3, "tanh")
    pt = two.init(0.3, seed=0)
    assert two.loss(agf.Dataset(X, y), pt) == two.loss(agf.Dataset(X, y[:, None]), pt)


# ----------------------------------------------------------------------------- Trajectory
@pytest.mark.parametrize("kind", ["flow", "descent"])
def test_trajectory_save_load_round_trip(tmp_path, kind):
    rng = np.random.default_rng(0)
    model = agf.TwoLayer(3, 2, 3, "tanh")
    data = agf.Dataset(rng.normal(size=(8, 3)), rng.normal(size=(8, 2)))
    p0 = model.init(0.3, seed=0)
    if kind == "flow":
        tr = agf.gradient_flow(model, data, p0, 3.0, save_params=True, loss_scale=0.5,
                               events=[agf.NormCrosses(0, 0.5, direction="any"), agf.LossBelow(0.22, terminal=False)])
        assert len(tr.events) >= 1
    else:
        tr = agf.gradient_descent(model, data, p0, 0.05, 30, momentum=0.9, save_every=4, save_params=True)
    path = tmp_path / "traj.npz"
    tr.save(path)
    back = agf.Trajectory.load(path)
    for name in ["kind", "loss_scale", "status", "message", "stats"]:
        assert getattr(back, name) == getattr(tr, name), name
    for name in ["t", "loss", "norms", "param_vectors"]:
        np.testing.assert_array_equal(getattr(back, name), getattr(tr, name))
    if kind == "descent":
        np.testing.assert_array_equal(back.steps, tr.steps)
    else:
        assert back.steps is None
    assert back.final_params == tr.final_params
    assert [list(b) for b in back.blocks] == [[n, tuple(s)] for n, s in tr.blocks]
    assert [(e.t, e.loss, e.direction) for e in back.events] == [(e.t, e.loss, e.direction) for e in tr.events]
    assert [pp == qq for pp, qq in zip(back.params, tr.params)] == [True] * len(tr)
    assert len(back) == len(tr)


def test_trajectory_helpers():
    rng = np.random.default_rng(1)
    model = agf.TwoLayer(3, 2, 3, "gelu")
    data = agf.Dataset(rng.normal(size=(8, 3)), rng.normal(size=(8, 2)))
    tr = agf.gradient_flow(model, data, model.init(0.3, seed=0), 2.0, save_at=[0.0, 1.0, 2.0], loss_scale=4.0)
    np.testing.assert_allclose(tr.loss_canonical, tr.loss / 4.0)
    np.testing.assert_allclose(tr.t_scaled, [0.0, 0.25, 0.5])
    np.testing.assert_allclose(tr.loss_at(0.5), 0.5 * (tr.loss[0] + tr.loss[1]))
    with pytest.raises(agf.ConfigError):
        tr.loss_at(3.0)
    assert tr.params is None and tr.param_vectors is None
    assert tr.loss[0] == pytest.approx(4.0 * model.loss(data, model.init(0.3, seed=0)), rel=1e-14)
    grid = agf.default_save_times(10.0)
    assert grid[0] == 0.0 and grid[-1] == 10.0 and np.all(np.diff(grid) > 0)


# --------------------------------------------------------------------------------- units
def test_units():
    assert agf.units.mse_loss_scale(20) == 0.1
    assert agf.units.mse_loss_scale(1) == 2.0
    # method section 4: MSELoss on c = 20 outputs, lr 0.01, momentum 0.9 -> 0.01 per epoch
    per = agf.units.gd_time_per_step(0.01, loss_scale=agf.units.mse_loss_scale(20), momentum=0.9)
    assert per == pytest.approx(0.01, rel=1e-14)
    assert agf.units.gd_time_per_step(0.1) == 0.1
    assert agf.units.gd_time_per_step(0.1, loss_scale=3.0) == pytest.approx(0.3, rel=1e-15)
    assert agf.units.gd_time_per_step(0.1, momentum=0.5, dampening=0.5) == pytest.approx(0.1, rel=1e-15)
    assert agf.units.steps_to_time(100, 0.01, loss_scale=0.1, momentum=0.9) == pytest.approx(1.0, rel=1e-14)
    np.testing.assert_allclose(agf.units.steps_to_time([0, 10], 0.5), [0.0, 5.0])
    assert agf.units.time_to_steps(1.0, 0.01, loss_scale=0.1, momentum=0.9) == pytest.approx(100.0, rel=1e-14)
    np.testing.assert_allclose(agf.units.time_to_steps(np.array([2.0, 4.0]), 0.5), [4.0, 8.0])


# ---------------------------------------------------------------------------- determinism
def _problem(n=30, seed=0, act="tanh"):
    rng = np.random.default_rng(seed)
    model = agf.TwoLayer(4, 3, 5, act)
    data = agf.Dataset(rng.normal(size=(n, 4)), rng.normal(size=(n, 3)))
    return model, data


def test_kernels_bit_identical_across_threads_for_many_samples():
    """n > 2048 (the core's sample chunk): loss_grad and utilities do not depend on n_threads."""
    for act in ["relu", "tanh"]:
        model, data = _problem(n=5000, act=act)
        p = model.init(0.5, seed=2)
        l1, g1 = model.gradient(data, p, n_threads=1)
        l2, g2 = model.gradient(data, p, n_threads=2)
        assert l1 == l2
        np.testing.assert_array_equal(g1.to_vector(), g2.to_vector())
        R = np.random.default_rng(3).normal(size=data.Y.shape)
        U1, gU1 = model.utilities(data, p, R, n_threads=1)
        U2, gU2 = model.utilities(data, p, R, n_threads=2)
        np.testing.assert_array_equal(U1, U2)
        np.testing.assert_array_equal(gU1.to_vector(), gU2.to_vector())
        # and the chunked sums are right (numpy reference at a norm-wise 1e-12)
        F = np.tanh(data.X @ p["w"].T) if act == "tanh" else np.maximum(data.X @ p["w"].T, 0)
        R0 = data.Y - F @ p["a"]
        assert abs(l1 - 0.5 * np.sum(R0**2) / data.n) <= 1e-12 * l1
        np.testing.assert_allclose(-g1["a"], F.T @ R0 / data.n, rtol=0, atol=1e-12 * np.abs(g1["a"]).max())


def test_gradient_flow_thread_and_batch_determinism():
    model, data = _problem(n=3000)  # two sample chunks: kernel threads split them
    starts = [model.init(0.1, seed=s) for s in range(3)]
    grid = np.linspace(0, 4.0, 9)
    singles1 = [agf.gradient_flow(model, data, p, 4.0, save_at=grid, save_params=True, n_threads=1) for p in starts]
    single2 = agf.gradient_flow(model, data, starts[0], 4.0, save_at=grid, save_params=True, n_threads=2)
    batch = agf.gradient_flow(model, data, starts, 4.0, save_at=grid, save_params=True, n_threads=2)
    batch_serial = agf.gradient_flow(model, data, starts, 4.0, save_at=grid, save_params=True, n_threads=1)
    assert isinstance(batch, list) and len(batch) == 3
    for ref, runs in [(singles1[0], [single2])] + [(singles1[k], [batch[k], batch_serial[k]]) for k in range(3)]:
        for tr in runs:
            np.testing.assert_array_equal(tr.t, ref.t)
            np.testing.assert_array_equal(tr.loss, ref.loss)
            np.testing.assert_array_equal(tr.param_vectors, ref.param_vectors)
            assert tr.stats["n_steps"] == ref.stats["n_steps"]
    assert not np.array_equal(singles1[0].loss, singles1[1].loss)


def test_gradient_descent_thread_and_batch_determinism():
    model, data = _problem(n=2500)
    starts = [model.init(0.3, seed=s) for s in range(2)]
    a = [agf.gradient_descent(model, data, p, 0.05, 20, momentum=0.9, save_params=True) for p in starts]
    b = agf.gradient_descent(model, data, starts, 0.05, 20, momentum=0.9, save_params=True, n_threads=2)
    c = agf.gradient_descent(model, data, starts[1], 0.05, 20, momentum=0.9, save_params=True, n_threads=2)
    for x, y in [(a[0], b[0]), (a[1], b[1]), (a[1], c)]:
        np.testing.assert_array_equal(x.loss, y.loss)
        np.testing.assert_array_equal(x.param_vectors, y.param_vectors)


def test_repeat_runs_identical():
    model, data = _problem()
    p = model.init(0.1, seed=0)
    r1 = agf.gradient_flow(model, data, p, 5.0, events=[agf.NormCrosses(0, 0.2, direction="any")])
    r2 = agf.gradient_flow(model, data, model.init(0.1, seed=0), 5.0, events=[agf.NormCrosses(0, 0.2, direction="any")])
    np.testing.assert_array_equal(r1.loss, r2.loss)
    assert r1.event_times.tolist() == r2.event_times.tolist()


def test_gradient_flow_that_saves_nothing():
    model = agf.DiagonalLinear(2)
    data = agf.Dataset(np.eye(2), [1.0, 2.0])
    tr = agf.gradient_flow(model, data, model.init(0.1), 1.0, save_at=[])
    assert len(tr) == 0 and tr.norms.shape == (0, 2)
    assert "n_saved=0" in repr(tr)
    ref = agf.gradient_flow(model, data, model.init(0.1), 1.0, save_at=[1.0], save_params=True)
    np.testing.assert_array_equal(tr.final_params.to_vector(), ref.param_vectors[-1])


def test_loss_offset_is_reported_by_every_engine():
    """A Dataset's loss_offset (the irreducible part of a population loss) is added to the loss
    of Model.loss, gradient flow, gradient descent and located LossBelow events; a threshold at
    or below it is rejected."""
    import agf

    rng = np.random.default_rng(3)
    X, Y = rng.normal(size=(12, 3)), rng.normal(size=(12, 2))
    plain, shifted = agf.Dataset(X, Y), agf.Dataset(X, Y, loss_offset=0.25)
    model = agf.TwoLayer(3, 2, 4, "linear")
    p0 = model.init(0.5, seed=1)
    assert model.loss(shifted, p0) == pytest.approx(model.loss(plain, p0) + 0.25, rel=1e-15)
    assert model.loss(shifted, p0, loss_scale=0.1) == pytest.approx(0.1 * (model.loss(plain, p0) + 0.25), rel=1e-15)
    gf0 = agf.gradient_flow(model, plain, p0, 5.0, save_at=[0.0, 1.0, 5.0])
    gf1 = agf.gradient_flow(model, shifted, p0, 5.0, save_at=[0.0, 1.0, 5.0])
    np.testing.assert_allclose(gf1.loss, gf0.loss + 0.25, rtol=1e-14)
    gd0 = agf.gradient_descent(model, plain, p0, 0.05, 10)
    gd1 = agf.gradient_descent(model, shifted, p0, 0.05, 10)
    np.testing.assert_allclose(gd1.loss, gd0.loss + 0.25, rtol=1e-14)
    level = 0.5 * (gf0.loss[0] + gf0.loss[-1])
    ev0 = agf.gradient_flow(model, plain, p0, 5.0, events=[agf.LossBelow(level)])
    ev1 = agf.gradient_flow(model, shifted, p0, 5.0, events=[agf.LossBelow(level + 0.25)])
    assert ev1.events[0].t == pytest.approx(ev0.events[0].t, rel=1e-12)
    assert ev1.events[0].loss == pytest.approx(level + 0.25, rel=1e-9)
    with pytest.raises(agf.ConfigError, match="irreducible"):
        agf.gradient_flow(model, shifted, p0, 5.0, events=[agf.LossBelow(0.2)])
