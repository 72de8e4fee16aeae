"""Exact Hessians and Hessian-vector products of every family against finite differences of the
gradient (central differences, step 1e-6: truncation ~1e-12, rounding ~1e-10 relative)."""

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import agf

ACTS = ["linear", "relu", "square", "tanh", "gelu", "monomial(3)"]


def fd_hessian(model, data, theta, eps=1e-6):
    P = theta.size
    out = np.empty((P, P))
    for j in range(P):
        e = np.zeros(P)
        e[j] = eps
        gp = model._core.loss_grad(data.X, data.Y, theta + e)[1]
        gm = model._core.loss_grad(data.X, data.Y, theta - e)[1]
        out[:, j] = (gp - gm) / (2 * eps)
    return out


@settings(max_examples=25, deadline=None)
@given(act=st.sampled_from(ACTS), n=st.integers(1, 9), d=st.integers(1, 4), c=st.integers(1, 3),
       H=st.integers(1, 4), seed=st.integers(0, 2**31 - 1))
def test_two_layer_hessian_matches_finite_differences(act, n, d, c, H, seed):
    rng = np.random.default_rng(seed)
    model = agf.TwoLayer(d, c, H, act)
    data = agf.Dataset(rng.normal(size=(n, d)), rng.normal(size=(n, c)))
    theta = rng.normal(size=model.n_params)
    Hm = model.hessian(data, theta)
    assert Hm.shape == (model.n_params, model.n_params)
    np.testing.assert_allclose(Hm, Hm.T, atol=1e-12 * max(1.0, np.abs(Hm).max()))
    ref = fd_hessian(model, data, theta)
    # ReLU: a pre-activation within eps of its kink would make the difference quotient jump;
    # with Gaussian data that has probability ~1e-6 per entry, so no special case is needed.
    np.testing.assert_allclose(Hm, ref, atol=1e-6 * max(1.0, np.abs(ref).max()), rtol=1e-6)


@settings(max_examples=25, deadline=None)
@given(act=st.sampled_from(ACTS), n=st.integers(1, 9), d=st.integers(1, 4), c=st.integers(1, 3),
       H=st.integers(1, 4), seed=st.integers(0, 2**31 - 1))
def test_two_layer_hvp_matches_dense_hessian(act, n, d, c, H, seed):
    rng = np.random.default_rng(seed)
    model = agf.TwoLayer(d, c, H, act)
    data = agf.Dataset(rng.normal(size=(n, d)), rng.normal(size=(n, c)))
    theta = rng.normal(size=model.n_params)
    v = rng.normal(size=model.n_params)
    Hm = model.hessian(data, theta)
    np.testing.assert_allclose(model.hvp(data, theta, v), Hm @ v, rtol=1e-10, atol=1e-10 * np.abs(Hm).sum())
    # Params are accepted too.
    np.testing.assert_allclose(model.hvp(data, model.from_vector(theta), model.from_vector(v)), Hm @ v,
                               rtol=1e-10, atol=1e-10 * np.abs(Hm).sum())


@settings(max_examples=25, deadline=None)
@given(n=st.integers(1, 9), d=st.integers(1, 6), seed=st.integers(0, 2**31 - 1))
def test_diagonal_hessian_and_hvp(n, d, seed):
    rng = np.random.default_rng(seed)
    model = agf.DiagonalLinear(d)
    data = agf.Dataset(rng.normal(size=(n, d)), rng.normal(size=n))
    theta = rng.normal(size=model.n_params)
    Hm = model.hessian(data, theta)
    ref = fd_hessian(model, data, theta)
    np.testing.assert_allclose(Hm, ref, atol=1e-6 * max(1.0, np.abs(ref).max()), rtol=1e-6)
    v = rng.normal(size=model.n_params)
    np.testing.assert_allclose(model.hvp(data, theta, v), Hm @ v, rtol=1e-10, atol=1e-10 * np.abs(Hm).sum())


def test_hessian_large_chunked_matches_hvp():
    # More samples than one kernel chunk (2048 rows): the chunked sums must agree.
    rng = np.random.default_rng(1)
    model = agf.TwoLayer(3, 2, 3, "tanh")
    data = agf.Dataset(rng.normal(size=(4500, 3)), rng.normal(size=(4500, 2)))
    theta = rng.normal(size=model.n_params)
    Hm = model.hessian(data, theta)
    for _ in range(3):
        v = rng.normal(size=model.n_params)
        np.testing.assert_allclose(model.hvp(data, theta, v), Hm @ v, rtol=1e-9, atol=1e-9 * np.abs(Hm).max())
    np.testing.assert_allclose(Hm, fd_hessian(model, data, theta), atol=1e-6 * np.abs(Hm).max())


def test_hvp_validates_vector():
    model = agf.TwoLayer(2, 1, 2, "relu")
    data = agf.Dataset(np.ones((3, 2)), np.ones(3))
    with pytest.raises(agf.ConfigError):
        model.hvp(data, np.zeros(model.n_params), np.zeros(model.n_params + 1))
