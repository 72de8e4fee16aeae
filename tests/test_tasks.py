"""agf.tasks: the data of method section 6 against agf.theory, exact population losses by
equivalent datasets (Moments, in-context regression) against direct moment formulas and Monte
Carlo, templates, teacher-student, Dataset.loss_offset."""

from __future__ import annotations

import numpy as np
import pytest

import agf
import agf.theory as T
from agf.tasks import (Moments, diagonal_2d, diagonal_5d, diagonal_regression, in_context_regression,
                       linear_regression, modular_addition, paper_template, teacher_student)


def dataset_loss(model, data, params):
    """The canonical loss of the rows themselves, (1/2n) sum ||y - f||^2, without loss_offset
    (computed from the residual so that it does not depend on whether an engine adds the offset)."""
    return 0.5 * float(np.mean(np.sum(model.residual(data, params) ** 2, axis=1)))


# ------------------------------------------------------------------ Dataset.loss_offset
def test_dataset_loss_offset():
    d = agf.Dataset(np.ones((2, 1)), np.ones(2))
    assert d.loss_offset == 0.0 and "loss_offset" not in repr(d)
    d = agf.Dataset(np.ones((2, 1)), np.ones(2), loss_offset=0.25)
    assert d.loss_offset == 0.25 and "loss_offset=0.25" in repr(d)
    assert agf.Dataset(np.ones((2, 1)), np.ones(2), loss_offset=-1e-15).loss_offset == 0.0
    for bad in (-0.1, np.nan, np.inf, "x"):
        with pytest.raises(agf.DataError):
            agf.Dataset(np.ones((2, 1)), np.ones(2), loss_offset=bad)


# ------------------------------------------------------------------ diagonal
def test_diagonal_2d_is_section_6_1():
    task = diagonal_2d()
    X, y = task.data.X, task.data.Y[:, 0]
    th = np.deg2rad(150.0)
    R = np.array([[np.cos(th), -np.sin(th)], [np.sin(th), np.cos(th)]])
    np.testing.assert_allclose(X @ X.T, R @ np.diag([1.0, 25.0]) @ R.T, rtol=1e-12)
    assert X[0, 1] == 0.0  # the lower factor
    r = T.diagonal(X, y)
    assert r.order == [0, 1, 0]
    np.testing.assert_allclose(r.levels, [2.3111, 1.11465, 0.07, 0.0], atol=1e-4)
    np.testing.assert_allclose(r.rescaled_times, [0.1930, 0.6002, 3.4574], atol=1e-4)
    assert task.loss_scale == 1.0
    np.testing.assert_allclose(task.info["beta_star"], [-0.2, 2.0])


def test_diagonal_5d_is_section_6_2_and_keeps_global_rng():
    np.random.seed(123)
    before = np.random.rand()
    np.random.seed(123)
    task = diagonal_5d()
    assert np.random.rand() == before  # the global legacy state is restored
    assert task.data.X.shape == (20, 5)
    r = T.diagonal(task.data.X, task.data.Y)
    assert r.order == [1, 2, 3, 0, 4]
    np.testing.assert_allclose(r.levels[:5], [82.417, 13.323, 2.267, 0.988, 0.1656], rtol=3e-4)
    np.testing.assert_allclose(r.rescaled_times, [0.1201, 0.6007, 0.9817, 1.1123, 4.2193], atol=1e-4)
    model = agf.DiagonalLinear(5)
    beta = task.info["beta_star"]
    assert model.loss(task.data, model.params(u=beta, v=np.ones(5))) < 1e-20


def test_diagonal_regression_generator():
    t1 = diagonal_regression(40, 6, sparsity=2, noise=0.0, seed=3)
    t2 = diagonal_regression(40, 6, sparsity=2, noise=0.0, seed=3)
    np.testing.assert_array_equal(t1.data.X, t2.data.X)
    b = t1.info["beta_star"]
    assert np.count_nonzero(b) == 2 and list(np.flatnonzero(b)) == list(t1.info["support"])
    np.testing.assert_allclose(t1.data.Y[:, 0], t1.data.X @ b)
    t3 = diagonal_regression(20000, 3, covariance=[1.0, 4.0, 0.25], noise=0.5, seed=0)
    np.testing.assert_allclose(np.var(t3.data.X, axis=0), [1.0, 4.0, 0.25], rtol=0.05)
    resid = t3.data.Y[:, 0] - t3.data.X @ t3.info["beta_star"]
    assert np.std(resid) == pytest.approx(0.5, rel=0.03)
    cov = np.array([[2.0, 1.0], [1.0, 2.0]])
    t4 = diagonal_regression(20000, 2, covariance=cov, sparsity=0.5, seed=1)
    np.testing.assert_allclose(t4.data.X.T @ t4.data.X / 20000, cov, atol=0.08)
    assert np.count_nonzero(t4.info["beta_star"]) == 1
    for kw in (dict(sparsity=0), dict(sparsity=7), dict(sparsity=1.5), dict(noise=-1.0),
               dict(covariance=[[1.0, 2.0], [0.0, 1.0]]), dict(covariance=[[1.0, 0], [0, -1.0]])):
        with pytest.raises(agf.ConfigError):
            diagonal_regression(5, 2 if "covariance" in kw else 6, **kw)


# ------------------------------------------------------------------ moments
def _joint_moments(rng, d, c, rank=None):
    """Moments of a random joint distribution of (x, y): x of the given rank, y = B x + noise."""
    rank = d if rank is None else rank
    G = rng.normal(size=(d, rank))
    Sxx = G @ G.T / rank
    B = rng.normal(size=(c, d))
    N = rng.normal(size=(c, c))
    Syx = B @ Sxx
    Syy = B @ Sxx @ B.T + 0.3 * N @ N.T
    return Sxx, Syx, Syy


def _direct(Sxx, Syx, Syy, beta):
    return 0.5 * (np.trace(Syy) - 2 * np.trace(beta @ Syx.T) + np.trace(beta @ Sxx @ beta.T))


@pytest.mark.parametrize("rank", [None, 3])
def test_moments_dataset_reproduces_population_loss(rank):
    rng = np.random.default_rng(0 if rank is None else 1)
    d, c, H = 5, 3, 4
    Sxx, Syx, Syy = _joint_moments(rng, d, c, rank)
    m = Moments(Sxx, Syx, Syy)
    data = m.to_dataset()
    assert data.n == d and data.d_in == d and data.d_out == c
    np.testing.assert_allclose(data.X.T @ data.X / d, Sxx, atol=1e-12)
    np.testing.assert_allclose(data.Y.T @ data.X / d, Syx, atol=1e-12)
    assert data.loss_offset == pytest.approx(m.irreducible, rel=1e-10)
    assert data.loss_offset > 0
    model = agf.TwoLayer(d, c, H, "linear")
    for seed in range(5):
        p = model.init(1.0, seed)
        beta = p["a"].T @ p["w"]
        direct = _direct(Sxx, Syx, Syy, beta)
        assert dataset_loss(model, data, p) + data.loss_offset == pytest.approx(direct, rel=1e-11)
        assert m.loss(beta) == pytest.approx(direct, rel=1e-11)
    # realizable (Syy None): offset 0 and the loss of beta* is 0
    m0 = Moments(Sxx, Syx)
    d0 = m0.to_dataset()
    assert d0.loss_offset == 0.0 and m0.irreducible == 0.0
    assert m0.loss(m0.beta_star()) == pytest.approx(0.0, abs=1e-10)
    diag = agf.DiagonalLinear(d)
    one = Moments(Sxx, Syx[0])
    pd = diag.params(u=rng.normal(size=d), v=rng.normal(size=d))
    beta = (pd["u"] * pd["v"])[None]
    Syy_r = Syx[:1] @ np.linalg.pinv(Sxx) @ Syx[:1].T
    assert dataset_loss(diag, one.to_dataset(), pd) == pytest.approx(_direct(Sxx, Syx[:1], Syy_r, beta), rel=1e-9)


def test_moments_from_data_and_validation():
    rng = np.random.default_rng(2)
    X = rng.normal(size=(30, 4))
    Y = rng.normal(size=(30, 2))
    m = Moments.from_data(X, Y)
    model = agf.TwoLayer(4, 2, 3, "linear")
    p = model.init(1.0, 0)
    data = m.to_dataset()
    assert dataset_loss(model, data, p) + data.loss_offset == pytest.approx(dataset_loss(model, agf.Dataset(X, Y), p), rel=1e-11)
    assert "Moments(d=4, c=2" in repr(m)
    with pytest.raises(agf.DataError):
        Moments(np.array([[1.0, 2.0], [0.0, 1.0]]), np.ones(2))  # not symmetric
    with pytest.raises(agf.DataError):
        Moments(np.diag([1.0, -1.0]), np.ones(2))  # not PSD
    with pytest.raises(agf.DataError):
        Moments(np.diag([1.0, 0.0]), np.ones(2))  # Syx outside the range of Sxx
    with pytest.raises(agf.DataError):
        Moments(np.eye(2), np.ones((1, 3)))  # shapes
    with pytest.raises(agf.DataError):
        Moments(np.eye(2), np.ones((1, 2)), np.array([[1.0]]))  # Syy < Syx Sxx^-1 Sxy
    with pytest.raises(agf.ConfigError):
        m.loss(np.ones((3, 3)))


@pytest.mark.parametrize("commuting", [True, False])
def test_linear_regression_section_6_3(commuting):
    task = linear_regression(commuting=commuting, seed=0)
    Sxx, Syx = task.info["Sxx"], task.info["Syx"]
    np.testing.assert_allclose(np.diag(Sxx), 1.0 / np.arange(1, 11) ** 2)
    C = Syx.T @ Syx
    assert np.allclose(Sxx @ C, C @ Sxx, atol=1e-12 * np.abs(C).max()) == commuting
    r = T.linear(Sxx, Syx)
    assert r.extras["commuting"] is commuting
    data = task.data
    assert data.n == 10 and data.loss_offset == pytest.approx(0.0, abs=1e-10)
    # the dataset's loss at the theory's saddles is the theory's plateau level
    model = agf.TwoLayer(10, 10, 10, "linear")
    for k in (0, 3, 10):
        beta = r.extras["saddles"][k]
        U, s, Vt = np.linalg.svd(beta)
        p = model.params(w=np.sqrt(s)[:, None] * Vt, a=(U * np.sqrt(s)).T)
        assert dataset_loss(model, data, p) + data.loss_offset == pytest.approx(r.levels[k], rel=1e-8, abs=1e-12)
    if commuting:
        sig = np.linalg.svd(Syx, compute_uv=False)
        np.testing.assert_allclose(r.rescaled_times, 1 / sig, rtol=1e-10)
    white = linear_regression(4, 3, spectrum="flat", seed=1)
    np.testing.assert_allclose(white.info["Sxx"], np.eye(4))
    with pytest.raises(agf.ConfigError):
        linear_regression(3, 3, spectrum="nope")
    with pytest.raises(agf.ConfigError):
        linear_regression(3, 3, spectrum=[1.0, -1.0, 1.0])


# ------------------------------------------------------------------ in-context regression
def _icl_formula(S, N, M):
    K = N * (N + 1) * S @ S + N * np.trace(S) * S
    return 0.5 * (np.trace(S @ M.T @ K @ M) - 2 * N * np.trace(S @ M.T @ S) + np.trace(S))


@pytest.mark.parametrize("sigma", ["default", "matrix"])
def test_in_context_exact_dataset(sigma):
    rng = np.random.default_rng(4)
    if sigma == "default":
        task = in_context_regression()
        D, N = 4, 32
    else:
        D, N = 3, 5
        G = rng.normal(size=(D, D))
        task = in_context_regression(D, N, G @ G.T / D)
    S, data = task.info["Sigma"], task.data
    assert data.n == D * D and data.d_in == 2 * D and task.loss_scale == 1.0
    h, xq, y = data.X[:, :D], data.X[:, D:], data.Y[:, 0]
    n = D * D
    np.testing.assert_allclose(h.T @ h / n, task.info["K"], rtol=1e-12)
    np.testing.assert_allclose(xq.T @ xq / n, S, atol=1e-14)
    np.testing.assert_allclose((y[:, None] * h).T @ xq / n, N * S @ S, atol=1e-12 * N)
    for _ in range(4):
        M = rng.normal(size=(D, D)) * 0.05
        f = np.einsum("nj,jk,nk->n", h, M, xq)
        assert 0.5 * np.mean((y - f) ** 2) + data.loss_offset == pytest.approx(_icl_formula(S, N, M), rel=1e-10)
    model = agf.LinearAttention(D, 3)
    p = model.init(0.3, 1)
    M = model.matrix(p)
    assert dataset_loss(model, data, p) + data.loss_offset == pytest.approx(_icl_formula(S, N, M), rel=1e-10)
    zero = model.params(v=np.zeros(3), k=np.zeros((3, D)), q=np.zeros((3, D)))
    assert dataset_loss(model, data, zero) + data.loss_offset == pytest.approx(0.5 * np.trace(S), rel=1e-12)
    if sigma == "default":
        th = T.attention(task.info["eigenvalues"], N)
        assert data.loss_offset == pytest.approx(th.levels[-1], rel=1e-10)  # the last plateau


def test_in_context_monte_carlo():
    """E[h h^T] of the Wishart context and the exact population loss against a large sample
    (each within 5 standard errors)."""
    D, N, n = 3, 6, 200_000
    lam = np.array([1.0, 0.5, 0.2])
    task = in_context_regression(D, N, lam, exact=False, n_prompts=n, seed=0)
    h, xq, y = task.data.X[:, :D], task.data.X[:, D:], task.data.Y[:, 0]
    K = task.info["K"]
    hh = h[:, :, None] * h[:, None, :]
    se = hh.std(axis=0) / np.sqrt(n)
    assert np.all(np.abs(hh.mean(axis=0) - K) < 5 * se + 1e-12)
    np.testing.assert_allclose(K, N * (N + 1) * np.diag(lam ** 2) + N * lam.sum() * np.diag(lam))
    exact = in_context_regression(D, N, lam)
    rng = np.random.default_rng(1)
    for M in (np.zeros((D, D)), 0.02 * rng.normal(size=(D, D)),
              np.diag(1 / (lam.sum() + (N + 1) * lam))):
        per = 0.5 * (np.einsum("nj,jk,nk->n", h, M, xq) - y) ** 2
        f = np.einsum("nj,jk,nk->n", exact.data.X[:, :D], M, exact.data.X[:, D:])
        pop = 0.5 * np.mean((exact.data.Y[:, 0] - f) ** 2) + exact.data.loss_offset
        assert abs(per.mean() - pop) < 5 * per.std() / np.sqrt(n)
    with pytest.raises(agf.ConfigError):
        in_context_regression(2, 3, exact=False)
    with pytest.raises(agf.ConfigError):
        in_context_regression(2, 3, n_prompts=10)
    with pytest.raises(agf.ConfigError):
        in_context_regression(2, 3, [1.0, 2.0, 3.0])


# ------------------------------------------------------------------ modular addition templates
def test_modular_templates_power_law_and_spectrum():
    p = 20
    t = modular_addition(p, "power_law", exponent=1.5)
    x = t.info["template"]
    mag = np.abs(np.fft.fft(x))
    xi = np.arange(1, p // 2 + 1)
    np.testing.assert_allclose(mag[xi], 10.0 * xi ** -1.5, rtol=1e-12)
    np.testing.assert_allclose(mag[p - xi], mag[xi], rtol=1e-12)
    assert abs(x.sum()) < 1e-12
    spec = modular_addition(p, {1: 10.0, 3: 5.0, 7: 2.5})
    paper = modular_addition(p, "paper")
    assert not np.allclose(spec.info["template"], paper.info["template"])
    same = modular_addition(p, {1: 10.0, 3: 5.0, 5: 2.5})
    np.testing.assert_allclose(same.info["template"], paper_template(p), atol=1e-12)
    np.testing.assert_allclose(same.data.Y, paper.data.Y, atol=1e-12)
    r = T.modular(modular_addition(12, "power_law").info["template"])
    assert r.order[:3] == [1, 2, 3]
    for bad in ({0: 1.0}, {3: -1.0}, {1: 1.0, 19: 2.0}, {25: 1.0}):
        with pytest.raises(agf.ConfigError):
            modular_addition(p, bad)
    with pytest.raises(agf.ConfigError):
        modular_addition(p, "nope")


# ------------------------------------------------------------------ teacher-student
def test_teacher_student():
    t = teacher_student(d=6, n=300, teacher_width=3, seed=0)
    X, Y = t.data.X, t.data.Y
    np.testing.assert_allclose(X.T @ X / 300, np.eye(6), atol=1e-12)
    np.testing.assert_allclose(X.mean(axis=0), 0.0, atol=1e-12)
    teacher, tp = t.info["teacher"], t.info["teacher_params"]
    np.testing.assert_allclose(Y, teacher.forward(X, tp))
    np.testing.assert_allclose(np.linalg.norm(tp["w"], axis=1), 1.0)
    student = agf.TwoLayer(6, 1, 3, "relu")
    assert student.loss(t.data, tp) == pytest.approx(0.0, abs=1e-25)
    raw = teacher_student(d=4, n=50, whiten=False, d_out=2, seed=1)
    assert raw.data.d_out == 2 and not raw.info["whitened"]
    with pytest.raises(agf.ConfigError):
        teacher_student(d=10, n=5)
