"""AGF on fully connected linear networks: the dormant orthonormal frame (method section 3,
"Degenerate utilities"; section 5b)."""

import numpy as np
import pytest

import agf
import agf.theory


def make(d, c, n, whiten, seed=0):
    rng = np.random.default_rng(seed)
    if whiten:
        Q, _ = np.linalg.qr(rng.normal(size=(n, d)))
        X = Q * np.sqrt(n)                       # X^T X / n = I
    else:
        X = rng.normal(size=(n, d)) / (1 + np.arange(d))
    B = rng.normal(size=(c, d))
    Y = X @ B.T
    return X, Y


@pytest.mark.parametrize("whiten", [True, False])
def test_linear_network(whiten):
    d = c = H = 5
    X, Y = make(d, c, 200, whiten)
    n = X.shape[0]
    Sxx, Syx = X.T @ X / n, Y.T @ X / n
    th = agf.theory.linear(Sxx, Syx)
    m = agf.TwoLayer(d, c, H, "linear")
    alpha = 1e-30
    p0 = m.init(alpha, 1, scheme="balanced")    # every neuron norm sqrt(2) alpha
    res = agf.run_agf(m, agf.Dataset(X, Y), p0)
    assert res.n_jumps == th.n_jumps == 5
    # theory times are in units of log(1/||theta0||) = log(1/(sqrt2 alpha)); AGF reports
    # jump_times / log(1/alpha): compare in the theory's unit
    t_unit = res.jump_times / np.log(1 / (np.sqrt(2) * alpha))
    if whiten:
        sv = np.linalg.svd(Syx, compute_uv=False)
        np.testing.assert_allclose(t_unit, 1 / sv, rtol=1e-2)
        np.testing.assert_allclose(res.rescaled_times, 1 / sv, rtol=1e-2)
        mu = sv ** 2
        want = np.array([0.5 * mu[k:].sum() for k in range(6)])
        np.testing.assert_allclose(res.levels[:-1], want[:-1], rtol=1e-6)
        assert res.levels[-1] <= 1e-9 * res.levels[0]
    else:
        np.testing.assert_allclose(t_unit, th.rescaled_times, rtol=1e-2)
        np.testing.assert_allclose(res.levels[:-1], th.levels[:-1], rtol=1e-6)
