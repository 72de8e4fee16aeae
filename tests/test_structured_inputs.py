"""Structured inputs: the two-layer kernels' block-table path (column blocks with few distinct
rows, e.g. modular addition's [x_a | x_b]) and sparse path (at most 1/8 nonzeros) against the
dense path and against numpy. The dense reference is the same data plus a perturbation of 1e-13
relative, which breaks the structure (checked with _core.input_structure)."""

import numpy as np
import pytest

import agf
from agf import _core
from agf.tasks import modular_addition


def perturbed(X, seed=0):
    rng = np.random.default_rng(seed)
    return np.ascontiguousarray(X + 1e-13 * np.abs(X).max() * rng.standard_normal(X.shape))


def structured_data(kind):
    rng = np.random.default_rng(1)
    if kind == "tables2":  # modular addition with the paper's template: 2 blocks of p rows
        task = modular_addition(11, "random", seed=3)
        return task.data.X, task.data.Y, ("tables", 2)
    if kind == "tables1":  # 12 distinct rows repeated over 200 samples
        T = rng.standard_normal((12, 9))
        X = T[rng.integers(0, 12, 200)]
        return X, rng.standard_normal((200, 3)), ("tables", 1)
    if kind == "tables_many":  # 45 distinct rows of width 9: the Hessian takes the dense path
        T = rng.standard_normal((45, 9))
        X = T[rng.integers(0, 45, 400)]
        return X, rng.standard_normal((400, 2)), ("tables", 1)
    if kind == "sparse":  # 5% nonzeros, distinct rows
        X = rng.standard_normal((150, 64)) * (rng.random((150, 64)) < 0.05)
        return X, rng.standard_normal((150, 4)), ("sparse", None)
    raise ValueError(kind)


def numpy_loss_grad(X, Y, W, A, act):
    Z = X @ W.T
    S, Sp = (Z ** 2, 2 * Z) if act == "square" else (np.tanh(Z), 1 - np.tanh(Z) ** 2)
    R = Y - S @ A
    n = len(X)
    return 0.5 * (R ** 2).sum() / n, -((R @ A.T) * Sp).T @ X / n, -(S.T @ R) / n


@pytest.mark.parametrize("kind", ["tables2", "tables1", "tables_many", "sparse"])
@pytest.mark.parametrize("act", ["square", "tanh"])
def test_structured_kernels_match_dense_and_numpy(kind, act):
    X, Y, (expect, blocks) = structured_data(kind)
    X, Y = np.ascontiguousarray(X, float), np.ascontiguousarray(Y, float)
    info = _core.input_structure(X)
    assert info["kind"] == expect
    if blocks:
        assert info["blocks"] == blocks
    Xd = perturbed(X)
    assert _core.input_structure(Xd)["kind"] == "dense"
    H = 7
    m = agf.TwoLayer(X.shape[1], Y.shape[1], H, act)
    rng = np.random.default_rng(4)
    th = 0.4 * rng.standard_normal(m.n_params)
    W, A = th[:H * X.shape[1]].reshape(H, -1), th[H * X.shape[1]:].reshape(H, -1)
    core = m._core
    L, g = core.loss_grad(X, Y, th, 1)
    Ld, gd = core.loss_grad(Xd, Y, th, 1)
    Ln, gw, ga = numpy_loss_grad(X, Y, W, A, act)
    scale = np.abs(gd).max()
    assert L == pytest.approx(Ln, rel=1e-12)
    np.testing.assert_allclose(g, np.concatenate([gw.ravel(), ga.ravel()]), atol=1e-12 * scale)
    np.testing.assert_allclose(g, gd, atol=1e-10 * scale)
    # forward and utilities against a residual
    np.testing.assert_allclose(core.forward(X, th), core.forward(Xd, th), atol=1e-10 * np.abs(Y).max())
    R = np.ascontiguousarray(rng.standard_normal(Y.shape))
    U, gU = core.utilities(X, R, th, 1)
    Ud, gUd = core.utilities(Xd, R, th, 1)
    np.testing.assert_allclose(U, Ud, atol=1e-10 * np.abs(Ud).max())
    np.testing.assert_allclose(gU, gUd, atol=1e-10 * np.abs(gUd).max())
    # exact Hessian and Hessian-vector products
    Hs = core.hessian(X, Y, th)
    Hd = core.hessian(Xd, Y, th)
    np.testing.assert_allclose(Hs, Hd, atol=1e-9 * np.abs(Hd).max())
    np.testing.assert_allclose(Hs, Hs.T, atol=1e-12 * np.abs(Hd).max())
    v = rng.standard_normal(m.n_params)
    np.testing.assert_allclose(core.hvp(X, Y, th, v), Hs @ v, atol=1e-10 * np.abs(Hs @ v).max())
    # the Hessian against central differences of the (numpy-checked) gradient
    eps = 1e-6
    for k in rng.choice(m.n_params, 6, replace=False):
        e = np.zeros(m.n_params)
        e[k] = eps
        fd = (core.loss_grad(X, Y, th + e, 1)[1] - core.loss_grad(X, Y, th - e, 1)[1]) / (2 * eps)
        np.testing.assert_allclose(Hs[:, k], fd, atol=1e-6 * np.abs(Hs).max())


def test_dense_random_data_stays_dense():
    rng = np.random.default_rng(0)
    assert agf.input_structure(rng.standard_normal((300, 40)))["kind"] == "dense"
    assert agf.input_structure(np.ones((10, 3)))["kind"] == "dense"  # too few rows / columns
    task = modular_addition(20, "paper")
    assert agf.input_structure(task.data) == {"kind": "tables", "blocks": 2, "distinct_rows": [20, 20]}
    with pytest.raises(agf.DataError):
        agf.input_structure(np.array([1.0, np.nan]))


def test_structured_gradient_flow_is_thread_independent():
    # The table and sparse paths are serial within a chunk: the same result on 1 and 2 threads.
    task = modular_addition(11, "random", seed=3)
    m = agf.TwoLayer(22, 11, 6, "square")
    p0 = m.init(0.1, seed=0)
    a = agf.gradient_flow(m, task.data, p0, 30.0, rtol=1e-8, method="auto", n_threads=1)
    b = agf.gradient_flow(m, task.data, p0, 30.0, rtol=1e-8, method="auto", n_threads=2)
    np.testing.assert_array_equal(a.loss, b.loss)
    np.testing.assert_array_equal(a.final_params.to_vector(), b.final_params.to_vector())
