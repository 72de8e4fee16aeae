"""agf.gradient_descent against a numpy re-implementation of the torch.optim.SGD update rule
(written here from PyTorch's documented algorithm) on the numpy gradient of conftest.py."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given, settings, strategies as st

import agf


def torch_sgd_numpy(grad, theta0, lr, steps, *, momentum=0.0, dampening=0.0, weight_decay=0.0,
                    nesterov=False, loss_scale=1.0):
    """torch.optim.SGD.step on the loss s * L, step for step. Returns the parameters before
    every step and after the last one (steps + 1 rows) and the loss s L at each of them."""
    p = np.array(theta0, dtype=float)
    buf = None
    params, losses = [], []
    for _ in range(steps):
        L, g = grad(p)
        params.append(p.copy())
        losses.append(loss_scale * L)
        d_p = loss_scale * g
        if weight_decay != 0:
            d_p = d_p + weight_decay * p
        if momentum != 0:
            if buf is None:
                buf = d_p.copy()
            else:
                buf = momentum * buf + (1 - dampening) * d_p
            d_p = d_p + momentum * buf if nesterov else buf
        p = p - lr * d_p
    params.append(p.copy())
    losses.append(loss_scale * grad(p)[0])
    return np.array(params), np.array(losses)


def problem(ref, family, seed):
    rng = np.random.default_rng(seed)
    n, d, c, H = 12, 3, 2, 4
    X = rng.normal(size=(n, d))
    if family == "diagonal":
        model = agf.DiagonalLinear(d)
        Y = X @ rng.normal(size=d)
        p0 = model.params(u=0.3 * rng.normal(size=d), v=0.3 * rng.normal(size=d))
        return model, agf.Dataset(X, Y), p0, ref.numpy_flat_grad(model, None, X, Y)
    act = (family, None)
    model = agf.TwoLayer(d, c, H, family)
    Y = rng.normal(size=(n, c))
    p0 = model.init(0.5, seed=seed)
    return model, agf.Dataset(X, Y), p0, ref.numpy_flat_grad(model, act, X, Y)


OPTIMIZERS = {
    "plain": {},
    "momentum": {"momentum": 0.9},
    "dampening": {"momentum": 0.8, "dampening": 0.3},
    "nesterov": {"momentum": 0.9, "nesterov": True},
    "weight_decay": {"momentum": 0.5, "weight_decay": 0.01},
    "plain_wd": {"weight_decay": 0.1},
}


@pytest.mark.parametrize("opt", list(OPTIMIZERS), ids=list(OPTIMIZERS))
@pytest.mark.parametrize("family", ["tanh", "relu", "square", "diagonal"])
@settings(max_examples=5, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), steps=st.integers(1, 40), save_every=st.integers(1, 7),
       mse=st.booleans())
def test_sgd_matches_torch_rule(ref, family, opt, seed, steps, save_every, mse):
    kw = OPTIMIZERS[opt]
    model, data, p0, grad = problem(ref, family, seed)
    s = agf.units.mse_loss_scale(data.d_out) if mse else 1.0
    lr = 0.02
    params_ref, loss_ref = torch_sgd_numpy(grad, p0.to_vector(), lr, steps, loss_scale=s, **kw)
    # A diverging run (square activation with momentum can reach losses of 1e100 in 40 steps)
    # amplifies last-bit differences exponentially; 1e-12 agreement is only meaningful without.
    assume(np.all(np.isfinite(loss_ref)) and loss_ref.max() < 1e6 * max(loss_ref[0], 1.0))

    tr = agf.gradient_descent(model, data, p0, lr, steps, loss_scale=s, save_every=save_every,
                              save_params=True, **kw)
    assert tr.kind == "gradient_descent" and tr.status == "success"
    expected_steps = sorted(set(range(0, steps, save_every)) | {steps})  # final state always
    np.testing.assert_array_equal(tr.steps, expected_steps)
    scale = np.max(np.abs(params_ref))
    np.testing.assert_allclose(tr.param_vectors, params_ref[expected_steps], rtol=0, atol=1e-12 * scale)
    np.testing.assert_allclose(tr.loss, loss_ref[expected_steps], rtol=1e-12)
    np.testing.assert_allclose(tr.final_params.to_vector(), params_ref[-1], rtol=0, atol=1e-12 * scale)
    np.testing.assert_allclose(tr.norms, [model.neuron_norms(v) for v in params_ref[expected_steps]],
                               rtol=1e-12)
    # canonical time: step * lr * s (1 - dampening) / (1 - momentum)   (method section 4)
    mu, damp = kw.get("momentum", 0.0), kw.get("dampening", 0.0)
    np.testing.assert_allclose(tr.t, np.array(expected_steps) * lr * s * (1 - damp) / (1 - mu), rtol=1e-15)
    assert tr.stats["n_steps"] == steps
    assert tr.loss_scale == s
    np.testing.assert_allclose(tr.loss_canonical, loss_ref[expected_steps] / s, rtol=1e-12)


def test_time_per_step_without_dampening():
    """t = step * lr * s / (1 - mu), e.g. MSELoss on c = 20 outputs, lr 0.01, mu 0.9: 0.01 per step."""
    rng = np.random.default_rng(3)
    model = agf.TwoLayer(4, 20, 3, "square")
    data = agf.Dataset(rng.normal(size=(6, 4)), rng.normal(size=(6, 20)))
    tr = agf.gradient_descent(model, data, model.init(0.1, seed=0), 0.01, 50, momentum=0.9,
                              loss_scale=agf.units.mse_loss_scale(20), save_every=10)
    np.testing.assert_array_equal(tr.steps, [0, 10, 20, 30, 40, 50])
    np.testing.assert_allclose(tr.t, 0.01 * tr.steps, rtol=1e-14)
    assert tr.stats["time_per_step"] == pytest.approx(0.01, rel=1e-14)


def test_zero_steps_records_the_initial_state(ref):
    model, data, p0, grad = problem(ref, "tanh", 0)
    tr = agf.gradient_descent(model, data, p0, 0.1, 0, momentum=0.9, save_params=True)
    np.testing.assert_array_equal(tr.steps, [0])
    np.testing.assert_array_equal(tr.t, [0.0])
    np.testing.assert_array_equal(tr.param_vectors[0], p0.to_vector())
    assert tr.loss[0] == pytest.approx(grad(p0.to_vector())[0], rel=1e-13)


def test_sgd_is_not_gradient_flow_but_close_for_small_lr(ref):
    """Many small steps of SGD with momentum follow gradient flow at the canonical time
    t = k lr s/(1 - mu) (section 4), to O(lr): the time conversion is the right one."""
    model, data, p0, grad = problem(ref, "tanh", 1)
    lr, mu, steps = 1e-3, 0.9, 2000
    gd = agf.gradient_descent(model, data, p0, lr, steps, momentum=mu, save_every=500)
    gf = agf.gradient_flow(model, data, p0, gd.t[-1], save_at=gd.t, rtol=1e-10)
    rel = np.abs(gd.loss - gf.loss) / gf.loss
    assert gf.loss[-1] < 0.9 * gf.loss[0]  # the loss moved
    assert np.max(rel) < 5e-3
    # a wrong time unit (forgetting 1/(1 - mu)) is visibly off
    gf_wrong = agf.gradient_flow(model, data, p0, gd.t[-1] * (1 - mu), save_at=gd.t * (1 - mu), rtol=1e-10)
    assert np.max(np.abs(gd.loss - gf_wrong.loss) / gf_wrong.loss) > 10 * np.max(rel)
