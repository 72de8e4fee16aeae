"""Bad inputs raise agf's documented exceptions (ConfigError / DataError are ValueErrors,
NumericalError is a FloatingPointError carrying ``.partial``), never a crash."""

from __future__ import annotations

import numpy as np
import pytest

import agf
from agf import ConfigError, DataError, NumericalError


@pytest.fixture
def setup():
    rng = np.random.default_rng(0)
    model = agf.TwoLayer(3, 2, 4, "tanh")
    data = agf.Dataset(rng.normal(size=(10, 3)), rng.normal(size=(10, 2)))
    return model, data, model.init(0.5, seed=0)


def test_hierarchy():
    assert issubclass(ConfigError, agf.AGFError) and issubclass(ConfigError, ValueError)
    assert issubclass(DataError, agf.AGFError) and issubclass(DataError, ValueError)
    assert issubclass(NumericalError, agf.AGFError) and issubclass(NumericalError, FloatingPointError)
    assert NumericalError("x", partial=3).partial == 3


@pytest.mark.parametrize("X, Y", [
    (np.ones(3), np.ones(3)),                      # X 1-D
    (np.ones((3, 2, 1)), np.ones(3)),              # X 3-D
    (np.ones((3, 2)), np.ones((3, 1, 1))),         # Y 3-D
    (np.ones((3, 2)), np.ones(4)),                 # sample counts differ
    (np.ones((0, 2)), np.ones(0)),                 # no samples
    (np.array([[np.nan, 1.0]]), [1.0]),            # non-finite X
    (np.array([[0.0, np.inf]]), [1.0]),
    (np.array([[0.0, 1.0]]), [-np.inf]),           # non-finite Y
    (np.array([[0.0, 1.0]]), [np.nan]),
    ([["a", "b"]], [1.0]),                         # not numbers
    (np.array([[1j, 1.0]]), [1.0]),                # complex
], ids=["X1d", "X3d", "Y3d", "n_mismatch", "empty", "nanX", "infX", "-infY", "nanY", "str", "complex"])
def test_bad_dataset(X, Y):
    with pytest.raises(DataError):
        agf.Dataset(X, Y)


def test_data_that_does_not_fit_the_model(setup):
    model, data, p = setup
    for bad in [agf.Dataset(np.ones((3, 4)), np.ones((3, 2))), agf.Dataset(np.ones((3, 3)), np.ones((3, 1)))]:
        for call in [lambda: model.gradient(bad, p), lambda: model.loss(bad, p),
                     lambda: agf.gradient_flow(model, bad, p, 1.0),
                     lambda: agf.gradient_descent(model, bad, p, 0.1, 3)]:
            with pytest.raises(DataError):
                call()
    with pytest.raises(DataError):
        model.gradient((data.X, data.Y), p)  # not a Dataset
    with pytest.raises(DataError):
        model.forward(np.ones((3, 5)), p)
    with pytest.raises(DataError):
        model.utilities(data, p, np.ones((10, 3)))
    with pytest.raises(DataError):
        model.utilities(data, p, np.full((10, 2), np.nan))


@pytest.mark.parametrize("make", [
    lambda: agf.TwoLayer(3, 2, 4, "sigmoid"),
    lambda: agf.TwoLayer(3, 2, 4, None),
    lambda: agf.TwoLayer(3, 2, 4, "monomial"),
    lambda: agf.TwoLayer(3, 2, 4, "monomial", degree=0),
    lambda: agf.TwoLayer(3, 2, 4, "relu", degree=2),
    lambda: agf.TwoLayer(3, 2, 0),
    lambda: agf.TwoLayer(0, 2, 1),
    lambda: agf.TwoLayer(3, 0, 1),
    lambda: agf.TwoLayer(3.5, 2, 1),
    lambda: agf.DiagonalLinear(0),
    lambda: agf._core.TwoLayerCore(3, 2, 4, "sigmoid", 1),  # the core's own check
    lambda: agf._core.TwoLayerCore(3, 2, 4, "monomial", 0),
], ids=["unknown", "not_str", "monomial_no_degree", "degree0", "degree_on_relu", "width0", "d0", "c0",
        "float_d", "diag0", "core_unknown", "core_degree0"])
def test_bad_model(make):
    with pytest.raises(ConfigError):
        make()


@pytest.mark.parametrize("alpha", [0.0, -1.0, float("nan"), float("inf"), "0.1", None])
def test_bad_alpha(alpha):
    with pytest.raises(ConfigError):
        agf.TwoLayer(3, 2, 4).init(alpha)
    with pytest.raises(ConfigError):
        agf.DiagonalLinear(3).init(alpha)


def test_bad_init_scheme():
    with pytest.raises(ConfigError):
        agf.TwoLayer(3, 2, 4).init(0.1, scheme="xavier")
    with pytest.raises(ConfigError):
        agf.DiagonalLinear(3).init(0.1, scheme="balanced")


def test_bad_params(setup):
    model, data, p = setup
    W, A = p["w"], p["a"]
    for call in [
        lambda: model.params(w=W, b=A),                     # wrong name
        lambda: model.params(w=W),                          # missing block
        lambda: model.params(w=W, a=A, u=A),                # extra block
        lambda: model.params(w=W.T, a=A),                   # wrong shape
        lambda: model.params(w=W[:3], a=A[:3]),             # wrong width
        lambda: model.params(w=W * np.nan, a=A),            # non-finite
        lambda: model.params(w=W + 0j, a=A),                # complex
        lambda: model.loss(data, np.ones(5)),               # flat vector of the wrong length
        lambda: model.loss(data, np.ones((4, 5))),          # 2-D "vector"
        lambda: model.loss(data, {"w": W}),
        lambda: model.loss(data, agf.Params({"u": np.ones(4), "v": np.ones(4)})),
        lambda: agf.gradient_flow(model, data, {"w": W, "a": A[:, :1]}, 1.0),
        lambda: agf.gradient_descent(model, data, np.ones(3), 0.1, 2),
        lambda: agf.DiagonalLinear(4).params(u=np.ones(4), v=np.ones(3)),
        lambda: agf.Params({"w": np.ones((4, 3)), "a": np.ones((3, 2))}),  # row counts differ
        lambda: agf.Params({"w": 1.0}),                                    # no neuron rows
        lambda: p.like(np.ones(3)),
        lambda: model.from_vector(np.ones(7)),
    ]:
        with pytest.raises(ConfigError):
            call()


def test_bad_gradient_flow_arguments(setup):
    model, data, p = setup
    bad = [
        dict(t_max=-1.0), dict(t_max=0.0), dict(t_max=float("inf")), dict(t_max=float("nan")),
        dict(save_at=[0.0, 2.0]), dict(save_at=[-0.1, 0.5]), dict(save_at=[[0.1]]), dict(save_at=[np.nan]),
        dict(method="rk4"), dict(method=""), dict(rtol=0.0), dict(rtol=-1e-8), dict(rtol=1e-16),
        dict(atol=-1.0), dict(loss_scale=0.0), dict(loss_scale=-2.0), dict(max_steps=0), dict(n_threads=0),
        dict(h0=-1.0), dict(h_max=0.0),
        dict(events=[agf.NormCrosses(7, 1.0)]), dict(events=[agf.NormCrosses(-1, 1.0)]),
        dict(events=[agf.NormCrosses(0, -1.0)]), dict(events=[agf.NormCrosses(0, 1.0, direction="sideways")]),
        dict(events=[agf.LossBelow(0.0)]), dict(events=["loss < 1"]),
    ]
    for kw in bad:
        kw = {"t_max": 1.0, **kw}
        t_max = kw.pop("t_max")
        with pytest.raises(ConfigError):
            agf.gradient_flow(model, data, p, t_max, **kw)
    with pytest.raises(ConfigError):
        agf.gradient_flow(model, data, [], 1.0)  # empty batch
    with pytest.raises(ConfigError):
        agf.gradient_flow(model, data, [p, np.ones(2)], 1.0)  # one bad member of a batch


def test_bad_gradient_descent_arguments(setup):
    model, data, p = setup
    bad = [
        dict(lr=0.0), dict(lr=-0.1), dict(steps=-1), dict(steps=2.5), dict(momentum=1.0), dict(momentum=-0.1),
        dict(momentum=0.5, dampening=2.0), dict(momentum=0.5, dampening=-0.5), dict(save_every=0),
        dict(weight_decay=-1.0), dict(loss_scale=0.0), dict(n_threads=0),
        dict(nesterov=True),                                   # Nesterov without momentum
        dict(momentum=0.9, dampening=0.1, nesterov=True),      # Nesterov with dampening (as torch)
    ]
    for kw in bad:
        kw = {"lr": 0.1, "steps": 3, **kw}
        lr, steps = kw.pop("lr"), kw.pop("steps")
        with pytest.raises(ConfigError):
            agf.gradient_descent(model, data, p, lr, steps, **kw)


def test_bad_units():
    for call in [lambda: agf.units.mse_loss_scale(0), lambda: agf.units.mse_loss_scale(2.0),
                 lambda: agf.units.gd_time_per_step(0.0), lambda: agf.units.gd_time_per_step(0.1, momentum=1.0),
                 lambda: agf.units.gd_time_per_step(0.1, loss_scale=-1.0),
                 lambda: agf.units.gd_time_per_step(0.1, momentum=0.5, dampening=1.5)]:
        with pytest.raises(ConfigError):
            call()


def test_core_rejects_bad_shapes_without_crashing():
    """The compiled core checks shapes itself (a caller bypassing the Python layer gets an
    exception, not a segfault)."""
    core = agf._core.TwoLayerCore(3, 2, 4, "relu", 1)
    X, Y, th = np.ones((5, 3)), np.ones((5, 2)), np.ones(core.n_params)
    with pytest.raises(ConfigError):
        core.loss_grad(X, np.ones((4, 2)), th)      # sample counts differ
    with pytest.raises(ConfigError):
        core.loss_grad(np.ones((5, 2)), Y, th)      # wrong d
    with pytest.raises(ConfigError):
        core.loss_grad(X, np.ones((5, 3)), th)      # wrong c
    with pytest.raises(ConfigError):
        core.loss_grad(X, Y, np.ones(3))            # wrong theta length
    with pytest.raises(ConfigError):
        core.forward(np.ones((5, 4)), th)
    with pytest.raises(ConfigError):
        core.utilities(X, np.ones((5, 1)), th)
    with pytest.raises(ConfigError):
        core.neuron_norms(np.ones(2))
    diag = agf._core.DiagonalCore(3)
    with pytest.raises(ConfigError):
        diag.utilities(X, np.ones((5, 2)), np.ones(6))  # the diagonal family has one output


# ------------------------------------------------------------------------ numerical failures
def test_divergent_gradient_descent_keeps_partial(setup):
    model, data, p = setup
    with pytest.raises(NumericalError) as info:
        agf.gradient_descent(model, data, p, 1e6, 200, save_params=True)
    part = info.value.partial
    assert isinstance(part, agf.Trajectory) and part.status == "diverged"
    k = len(part.steps)
    assert 1 <= k < 200
    np.testing.assert_array_equal(part.steps, np.arange(k))  # every step before the divergence
    assert np.all(np.isfinite(part.loss)) and part.loss[-1] > 1e100 * part.loss[0]
    assert part.loss[0] == pytest.approx(model.loss(data, p), rel=1e-14)
    np.testing.assert_array_equal(part.param_vectors[0], p.to_vector())
    assert part.stats["n_steps"] == k


def test_divergent_gradient_descent_in_a_batch(setup):
    _, data, _ = setup
    model = agf.TwoLayer(3, 2, 4, "square")
    with pytest.raises(NumericalError) as info:
        agf.gradient_descent(model, data, [model.init(0.1, seed=0), model.init(10.0, seed=1)], 0.01, 100,
                             n_threads=2)
    part = info.value.partial
    assert isinstance(part, list) and len(part) == 2
    assert part[0].status == "success" and part[1].status == "diverged"
    assert len(part[0].steps) == 101 and len(part[1].steps) < 100


def test_gradient_flow_step_budget(setup):
    model, data, p = setup
    with pytest.raises(NumericalError) as info:
        agf.gradient_flow(model, data, p, 100.0, max_steps=5, save_steps=True)
    part = info.value.partial
    assert isinstance(part, agf.Trajectory) and part.status == "max_steps"
    assert part.stats["n_steps"] == 5
    assert 0 < part.stats["t_final"] < 100.0
    assert part.t[0] == 0.0
    assert np.all(np.diff(part.t) > 0) and part.t[-1] <= part.stats["t_final"]
    assert np.all(np.isfinite(part.loss))
    # the partial run is the start of the full one
    full = agf.gradient_flow(model, data, p, part.stats["t_final"], save_at=part.t, rtol=1e-8)
    np.testing.assert_allclose(full.loss, part.loss, rtol=1e-6)

    with pytest.raises(NumericalError) as info:
        agf.gradient_flow(model, data, [p, p], 100.0, max_steps=5)
    assert isinstance(info.value.partial, list) and len(info.value.partial) == 2
