"""Kernels of every neuron family against the numpy reference of conftest.py (``ref``), the
utility identities of method section 2, and the full gradient against central finite
differences."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings, strategies as st

import agf

ACTIVATIONS = [
    ("linear", None), ("relu", None), ("square", None), ("monomial", 3), ("monomial", 4),
    ("tanh", None), ("gelu", None),
]
IDS = [n if k is None else f"{n}{k}" for n, k in ACTIVATIONS]
HOMOGENEOUS = [a for a in ACTIVATIONS if a[0] not in ("tanh", "gelu")]
KAPPA = {("linear", None): 2, ("relu", None): 2, ("square", None): 3, ("monomial", 3): 4,
         ("monomial", 4): 5, ("tanh", None): 2, ("gelu", None): 2}

SETTINGS = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
shapes = st.tuples(st.integers(1, 12), st.integers(1, 5), st.integers(1, 3), st.integers(1, 4),
                   st.integers(0, 2**32 - 1))  # n, d, c, H, seed


def rel_err(a, b) -> float:
    """max |a - b| relative to the size of the reference b (norm-wise, cancellation-safe)."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    assert a.shape == b.shape, (a.shape, b.shape)
    return float(np.max(np.abs(a - b), initial=0.0) / max(np.max(np.abs(b), initial=0.0), 1e-300))


def two_layer_problem(act, n, d, c, H, seed, scale=1.0):
    rng = np.random.default_rng(seed)
    model = agf.TwoLayer(d, c, H, act[0], degree=act[1])
    X = rng.normal(size=(n, d))
    Y = rng.normal(size=(n, c))
    W = scale * rng.normal(size=(H, d)) / np.sqrt(d)
    A = scale * rng.normal(size=(H, c))
    return model, agf.Dataset(X, Y), model.params(w=W, a=A), rng


def diag_problem(n, d, seed):
    rng = np.random.default_rng(seed)
    model = agf.DiagonalLinear(d)
    X = rng.normal(size=(n, d))
    y = rng.normal(size=n)
    return model, agf.Dataset(X, y), model.params(u=rng.normal(size=d), v=rng.normal(size=d)), rng


# ----------------------------------------------------------------------- kernels vs numpy
@pytest.mark.parametrize("act", ACTIVATIONS, ids=IDS)
@SETTINGS
@given(shape=shapes)
def test_two_layer_kernels_match_numpy(ref, act, shape):
    n, d, c, H, seed = shape
    model, data, p, rng = two_layer_problem(act, n, d, c, H, seed)
    W, A = p["w"], p["a"]

    F = model.forward(data.X, p)
    assert F.shape == (n, c)
    assert rel_err(F, ref.tl_forward(act, data.X, W, A)) < 1e-12

    loss_ref, dW_ref, dA_ref = ref.tl_loss_grad(act, data.X, data.Y, W, A)
    loss, g = model.gradient(data, p)
    assert abs(loss - loss_ref) <= 1e-12 * loss_ref
    assert abs(model.loss(data, p) - loss_ref) <= 1e-12 * loss_ref
    assert abs(model.loss(data, p, loss_scale=0.25) - 0.25 * loss_ref) <= 1e-12 * loss_ref
    assert list(g) == ["w", "a"]
    assert rel_err(g["w"], dW_ref) < 1e-11
    assert rel_err(g["a"], dA_ref) < 1e-11

    R = rng.normal(size=(n, c))
    U, gU = model.utilities(data, p, R)
    U_ref, gW_ref, gA_ref = ref.tl_utilities(act, data.X, R, W, A)
    assert U.shape == (H,)
    assert rel_err(U, U_ref) < 1e-11
    assert rel_err(gU["w"], gW_ref) < 1e-11
    assert rel_err(gU["a"], gA_ref) < 1e-11

    np.testing.assert_allclose(model.neuron_norms(p), np.sqrt((W**2).sum(1) + (A**2).sum(1)), rtol=1e-14)
    np.testing.assert_allclose(model.residual(data, p), data.Y - ref.tl_forward(act, data.X, W, A),
                               rtol=0, atol=1e-12 * (1 + np.abs(data.Y).max() + np.abs(F).max()))


@SETTINGS
@given(shape=shapes)
def test_diagonal_kernels_match_numpy(ref, shape):
    n, d, _, _, seed = shape
    model, data, p, rng = diag_problem(n, d, seed)
    u, v, y = p["u"], p["v"], data.Y[:, 0]
    assert model.width == d and model.d_out == 1
    np.testing.assert_array_equal(model.beta(p), u * v)

    assert rel_err(model.forward(data.X, p), ref.diag_forward(data.X, u, v)) < 1e-12
    loss_ref, gu_ref, gv_ref = ref.diag_loss_grad(data.X, y, u, v)
    loss, g = model.gradient(data, p)
    assert abs(loss - loss_ref) <= 1e-12 * loss_ref
    assert rel_err(g["u"], gu_ref) < 1e-11
    assert rel_err(g["v"], gv_ref) < 1e-11

    r = rng.normal(size=n)
    U, gU = model.utilities(data, p, r)  # a 1-D residual is one output
    U_ref, gu_ref, gv_ref = ref.diag_utilities(data.X, r, u, v)
    assert rel_err(U, U_ref) < 1e-11
    assert rel_err(gU["u"], gu_ref) < 1e-11
    assert rel_err(gU["v"], gv_ref) < 1e-11
    np.testing.assert_allclose(model.neuron_norms(p), np.hypot(u, v), rtol=1e-14)


def test_activation_values_at_known_points(ref):
    """The reference activations themselves, pinned at hand-computed values (the numpy
    reference must not share a mistake with the core)."""
    z = np.array([-1.5, -0.3, 0.0, 0.7, 2.0])
    assert np.allclose(ref.sigma("relu", None, z), [0, 0, 0, 0.7, 2.0])
    assert np.allclose(ref.sigma("monomial", 3, z), z**3)
    # GELU(1) = Phi(1) = 0.8413447460685429..., GELU'(0) = 1/2
    assert abs(ref.sigma("gelu", None, np.array([1.0]))[0] - 0.8413447460685429) < 1e-15
    assert abs(ref.dsigma("gelu", None, np.array([0.0]))[0] - 0.5) < 1e-15
    h = 1e-6
    for name, k in ACTIVATIONS:
        if name == "relu":
            continue
        fd = (ref.sigma(name, k, z + h) - ref.sigma(name, k, z - h)) / (2 * h)
        assert np.allclose(ref.dsigma(name, k, z), fd, rtol=1e-8, atol=1e-8), name


# ------------------------------------------------------------------- identities (section 2)
@pytest.mark.parametrize("act", ACTIVATIONS, ids=IDS)
@SETTINGS
@given(shape=shapes)
def test_minus_loss_gradient_is_utility_gradient_on_residual(act, shape):
    n, d, c, H, seed = shape
    model, data, p, _ = two_layer_problem(act, n, d, c, H, seed)
    _, g = model.gradient(data, p)
    _, gU = model.utilities(data, p, model.residual(data, p))
    assert rel_err(-g.to_vector(), gU.to_vector()) < 1e-12


@SETTINGS
@given(shape=shapes)
def test_minus_loss_gradient_is_utility_gradient_diagonal(shape):
    n, d, _, _, seed = shape
    model, data, p, _ = diag_problem(n, d, seed)
    _, g = model.gradient(data, p)
    _, gU = model.utilities(data, p, model.residual(data, p))
    assert rel_err(-g.to_vector(), gU.to_vector()) < 1e-12


def euler_defect(model, data, p, R, kappa):
    """max_i |theta_i . dU_i - kappa U_i| relative to |theta_i| |dU_i| + kappa |U_i|."""
    U, gU = model.utilities(data, p, R)
    dots = np.zeros(model.width)
    scale = np.zeros(model.width)
    for name in p:
        th = p[name].reshape(model.width, -1)
        gg = gU[name].reshape(model.width, -1)
        dots += np.sum(th * gg, axis=1)
        scale += np.sum(np.abs(th * gg), axis=1)
    return np.max(np.abs(dots - kappa * U) / (scale + kappa * np.abs(U) + 1e-300))


@pytest.mark.parametrize("act", HOMOGENEOUS, ids=[i for i, a in zip(IDS, ACTIVATIONS) if a in HOMOGENEOUS])
@SETTINGS
@given(shape=shapes)
def test_euler_identity_homogeneous(act, shape):
    n, d, c, H, seed = shape
    model, data, p, rng = two_layer_problem(act, n, d, c, H, seed)
    assert model.kappa == KAPPA[act] and model.homogeneous
    assert euler_defect(model, data, p, rng.normal(size=(n, c)), KAPPA[act]) < 1e-12
    # the identity pins kappa: any other degree is visibly wrong (unless U = 0 for all neurons)
    U, _ = model.utilities(data, p, data.Y)
    assume(np.max(np.abs(U)) > 1e-6)
    assert euler_defect(model, data, p, data.Y, KAPPA[act] + 1) > 1e-6


@SETTINGS
@given(shape=shapes)
def test_euler_identity_diagonal(shape):
    n, d, _, _, seed = shape
    model, data, p, rng = diag_problem(n, d, seed)
    assert model.kappa == 2 and model.homogeneous
    assert euler_defect(model, data, p, rng.normal(size=(n, 1)), 2) < 1e-12


def test_euler_identity_fails_for_tanh_and_gelu():
    """Negative control: tanh and GELU are not homogeneous, the identity must not hold at O(1)
    parameters (so the homogeneous test above can fail)."""
    for act in [("tanh", None), ("gelu", None)]:
        model, data, p, rng = two_layer_problem(act, 10, 3, 2, 3, 7, scale=2.0)
        assert not model.homogeneous
        assert euler_defect(model, data, p, rng.normal(size=(10, 2)), 2) > 1e-3


def test_kappa_values():
    for act, k in KAPPA.items():
        assert agf.TwoLayer(3, 2, 4, act[0], degree=act[1]).kappa == k
    assert agf.TwoLayer(3, 2, 4, "monomial(3)").kappa == 4
    assert agf.DiagonalLinear(5).kappa == 2
    assert agf.TwoLayer(3, 2, 4, "tanh").homogeneous is False
    assert agf.TwoLayer(3, 2, 4, "gelu").homogeneous is False


# ----------------------------------------------------------- gradient vs finite differences
def central_differences(model, data, theta, h=1e-6):
    out = np.empty_like(theta)
    for j in range(theta.size):
        e = np.zeros_like(theta)
        e[j] = h * max(1.0, abs(theta[j]))
        out[j] = (model.loss(data, theta + e) - model.loss(data, theta - e)) / (2 * e[j])
    return out


def assert_fd_close(g, fd, loss):
    """Within 1e-6 of the gradient's size, plus the differences' round-off (~ eps L / h)."""
    err = np.max(np.abs(g - fd))
    assert err <= 1e-6 * np.max(np.abs(fd)) + 1e-8 * (1.0 + loss), (err, np.max(np.abs(fd)), loss)


@pytest.mark.parametrize("act", ACTIVATIONS, ids=IDS)
@settings(max_examples=25, deadline=None)
@given(shape=shapes)
def test_two_layer_gradient_vs_finite_differences(act, shape):
    n, d, c, H, seed = shape
    model, data, p, _ = two_layer_problem(act, n, d, c, H, seed)
    if act[0] == "relu":  # stay away from the kinks (a step of 1e-6 moves w.x by < 1e-5)
        assume(np.min(np.abs(data.X @ p["w"].T)) > 1e-3)
    theta = p.to_vector()
    loss, g = model.gradient(data, theta)
    assert_fd_close(g.to_vector(), central_differences(model, data, theta), loss)


@settings(max_examples=25, deadline=None)
@given(shape=shapes)
def test_diagonal_gradient_vs_finite_differences(shape):
    n, d, _, _, seed = shape
    model, data, p, _ = diag_problem(n, d, seed)
    theta = p.to_vector()
    loss, g = model.gradient(data, theta)
    assert_fd_close(g.to_vector(), central_differences(model, data, theta), loss)
