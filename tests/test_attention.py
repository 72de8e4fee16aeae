"""The linear-attention family (method section 5c): kernels against an independent numpy
re-implementation and finite differences, homogeneity identities, gradient flow against SciPy,
and the plateau levels of method section 6.4."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from scipy.integrate import solve_ivp

import agf
import agf.theory

SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
shapes = st.tuples(st.integers(1, 12), st.integers(1, 4), st.integers(1, 4), st.integers(0, 2**32 - 1))  # n, D, H, seed


# ------------------------------------------------------------------ numpy reference
def split(theta, D, H):
    v = theta[:H]
    K = theta[H:H + H * D].reshape(H, D)
    Q = theta[H + H * D:].reshape(H, D)
    return v, K, Q


def ref_heads(X, theta, D, H):
    """Per-head outputs f_i(x_n) (n, H) straight from the definition."""
    v, K, Q = split(theta, D, H)
    h, xq = X[:, :D], X[:, D:]
    out = np.zeros((X.shape[0], H))
    for n in range(X.shape[0]):
        for i in range(H):
            out[n, i] = v[i] * (K[i] @ h[n]) * (Q[i] @ xq[n])
    return out


def ref_jacobian(X, theta, D, H):
    """df(x_n)/dtheta (n, P) per sample, from the product rule."""
    v, K, Q = split(theta, D, H)
    h, xq = X[:, :D], X[:, D:]
    n, P = X.shape[0], theta.size
    J = np.zeros((n, P))
    for a in range(n):
        for i in range(H):
            kh, qx = K[i] @ h[a], Q[i] @ xq[a]
            J[a, i] = kh * qx
            J[a, H + i * D:H + (i + 1) * D] = v[i] * qx * h[a]
            J[a, H + H * D + i * D:H + H * D + (i + 1) * D] = v[i] * kh * xq[a]
    return J


def ref_hessian_f(x, theta, D, H):
    """d2 f(x)/dtheta2 (P, P) for one sample."""
    v, K, Q = split(theta, D, H)
    h, xq = x[:D], x[D:]
    P = theta.size
    Hf = np.zeros((P, P))
    for i in range(H):
        ks = slice(H + i * D, H + (i + 1) * D)
        qs = slice(H + H * D + i * D, H + H * D + (i + 1) * D)
        Hf[i, ks] = (Q[i] @ xq) * h
        Hf[i, qs] = (K[i] @ h) * xq
        Hf[ks, qs] = v[i] * np.outer(h, xq)
    return Hf + Hf.T


def ref_all(X, Y, theta, D, H):
    F = ref_heads(X, theta, D, H)
    f = F.sum(axis=1)
    r = Y[:, 0] - f
    n = X.shape[0]
    J = ref_jacobian(X, theta, D, H)
    loss = 0.5 * np.mean(r ** 2)
    grad = -J.T @ r / n
    Hm = J.T @ J / n - sum(r[a] * ref_hessian_f(X[a], theta, D, H) for a in range(n)) / n
    return f, loss, grad, Hm


def ref_utilities(X, R, theta, D, H):
    F = ref_heads(X, theta, D, H)
    U = (F * R[:, :1]).mean(axis=0)
    J = ref_jacobian(X, theta, D, H)
    gU = J.T @ R[:, 0] / X.shape[0]  # each parameter belongs to one head: dU_i/dtheta_i = dE[f r]/dtheta
    return U, gU


def rel_err(a, b) -> float:
    a, b = np.asarray(a, float), np.asarray(b, float)
    assert a.shape == b.shape, (a.shape, b.shape)
    return float(np.max(np.abs(a - b), initial=0.0) / max(np.max(np.abs(b), initial=0.0), 1e-300))


def problem(n, D, H, seed):
    rng = np.random.default_rng(seed)
    model = agf.LinearAttention(D, H)
    X = rng.normal(size=(n, 2 * D))
    Y = rng.normal(size=(n, 1))
    theta = rng.normal(size=model.n_params)
    return model, agf.Dataset(X, Y), theta, rng


# ------------------------------------------------------------------ kernels vs numpy
@SETTINGS
@given(shape=shapes)
def test_kernels_match_numpy(shape):
    n, D, H, seed = shape
    model, data, theta, rng = problem(n, D, H, seed)
    f, loss, grad, Hm = ref_all(data.X, data.Y, theta, D, H)
    assert rel_err(model.forward(data.X, theta)[:, 0], f) < 1e-12
    L, g = model.gradient(data, theta)
    assert L == pytest.approx(loss, rel=1e-12)
    assert rel_err(g.to_vector(), grad) < 1e-12
    R = rng.normal(size=(n, 1))
    U, gU = model.utilities(data, theta, R)
    Ur, gUr = ref_utilities(data.X, R, theta, D, H)
    assert rel_err(U, Ur) < 1e-12
    assert rel_err(gU.to_vector(), gUr) < 1e-12
    assert rel_err(model.hessian(data, theta), Hm) < 1e-11
    vec = rng.normal(size=model.n_params)
    assert rel_err(model.hvp(data, theta, vec), Hm @ vec) < 1e-11


def test_layout_blocks_and_neuron_of():
    model = agf.LinearAttention(3, 2)
    assert (model.kappa, model.d_in, model.d_out, model.width, model.n_params) == (3, 6, 1, 2, 14)
    assert model.homogeneous
    p = model.params(v=[1.0, 2.0], k=np.arange(6.0).reshape(2, 3), q=-np.arange(6.0).reshape(2, 3))
    np.testing.assert_array_equal(p.to_vector()[:2], [1.0, 2.0])
    # norms are grouped by the owning head (neuron_of): head i owns v_i, k_i, q_i
    want = [np.sqrt(1 + 2 * (0 + 1 + 4)), np.sqrt(4 + 2 * (9 + 16 + 25))]
    np.testing.assert_allclose(model.neuron_norms(p), want, rtol=1e-14)
    M = model.matrix(p)
    np.testing.assert_allclose(M, np.outer(p["k"][0], p["q"][0]) + 2 * np.outer(p["k"][1], p["q"][1]))
    X = np.random.default_rng(0).normal(size=(5, 6))
    np.testing.assert_allclose(model.forward(X, p)[:, 0], np.einsum("nj,jk,nk->n", X[:, :3], M, X[:, 3:]),
                               rtol=1e-12)
    with pytest.raises(agf.ConfigError):
        agf.LinearAttention(0, 2)
    with pytest.raises(agf.DataError):
        model.loss(agf.Dataset(np.zeros((3, 5)), np.zeros(3)), p)


def test_large_n_chunks_and_threads():
    """More than one chunk of samples (2048 rows): same results as numpy and for 1 or 2 threads."""
    D, H, n = 3, 2, 5000
    model, data, theta, rng = problem(n, D, H, 7)
    v, K, Q = split(theta, D, H)
    Kh, Qx = data.X[:, :D] @ K.T, data.X[:, D:] @ Q.T
    r = data.Y[:, 0] - (Kh * Qx) @ v
    gv = -(Kh * Qx).T @ r / n
    gk = -(v[:, None] * ((Qx * r[:, None]).T @ data.X[:, :D])) / n
    gq = -(v[:, None] * ((Kh * r[:, None]).T @ data.X[:, D:])) / n
    L1, g1 = model.gradient(data, theta, n_threads=1)
    L2, g2 = model.gradient(data, theta, n_threads=2)
    assert L1 == pytest.approx(0.5 * np.mean(r ** 2), rel=1e-12)
    assert rel_err(g1.to_vector(), np.concatenate([gv, gk.ravel(), gq.ravel()])) < 1e-11
    assert L1 == L2 and np.array_equal(g1.to_vector(), g2.to_vector())
    Hm = model.hessian(data, theta)
    vec = rng.normal(size=model.n_params)
    assert rel_err(model.hvp(data, theta, vec), Hm @ vec) < 1e-11


# ------------------------------------------------------------------ finite differences, identities
def test_gradient_and_hessian_finite_differences():
    model, data, theta, rng = problem(9, 3, 3, 11)
    _, g = model.gradient(data, theta)
    Hm = model.hessian(data, theta)
    eps = 1e-6
    P = model.n_params
    fd_g = np.empty(P)
    fd_H = np.empty((P, P))
    for p in range(P):
        e = np.zeros(P)
        e[p] = eps
        fd_g[p] = (model.loss(data, theta + e) - model.loss(data, theta - e)) / (2 * eps)
        fd_H[:, p] = (model.gradient(data, theta + e)[1].to_vector()
                      - model.gradient(data, theta - e)[1].to_vector()) / (2 * eps)
    assert rel_err(g.to_vector(), fd_g) < 1e-7
    assert rel_err(Hm, fd_H) < 1e-7
    np.testing.assert_allclose(Hm, Hm.T, rtol=0, atol=1e-12 * np.abs(Hm).max())


def test_homogeneity_identities():
    """theta . grad U = 3 U per head; f(s theta_i) = s^3 f(theta_i); -dL = dU(y - f)."""
    model, data, theta, rng = problem(15, 4, 3, 5)
    R = rng.normal(size=(15, 1))
    U, gU = model.utilities(data, theta, R)
    prod = theta * gU.to_vector()
    owner = np.concatenate([np.arange(3), np.repeat(np.arange(3), 4), np.repeat(np.arange(3), 4)])
    np.testing.assert_allclose(np.bincount(owner, prod), 3 * U, rtol=1e-12, atol=1e-14)
    scaled = theta.copy()
    scaled[owner == 1] *= 1.7
    F0 = ref_heads(data.X, theta, 4, 3)
    F1 = ref_heads(data.X, scaled, 4, 3)
    np.testing.assert_allclose(F1[:, 1], 1.7 ** 3 * F0[:, 1], rtol=1e-12)
    resid = model.residual(data, theta)
    _, gU_full = model.utilities(data, theta, resid)
    _, g = model.gradient(data, theta)
    np.testing.assert_allclose(g.to_vector(), -gU_full.to_vector(), rtol=1e-12, atol=1e-15)


def test_init_schemes():
    model = agf.LinearAttention(4, 200)
    p = model.init(1e-3, 0)
    norms = model.neuron_norms(p)
    assert np.mean(norms ** 2) == pytest.approx(2e-6, rel=0.1)
    b = model.init(1e-3, 1, scheme="balanced")
    np.testing.assert_allclose(model.neuron_norms(b), np.sqrt(2) * 1e-3, rtol=1e-12)
    np.testing.assert_allclose(np.abs(b["v"]), np.linalg.norm(b["k"], axis=1), rtol=1e-12)
    np.testing.assert_allclose(np.abs(b["v"]), np.linalg.norm(b["q"], axis=1), rtol=1e-12)
    with pytest.raises(agf.ConfigError):
        model.init(1e-3, scheme="nope")


# ------------------------------------------------------------------ dynamics
@pytest.mark.parametrize("method", ["explicit", "implicit", "auto"])
def test_gradient_flow_matches_scipy_dop853(method):
    """Every stepper (the stiff ones use the exact Hessian) follows SciPy's DOP853 solution."""
    task = agf.tasks.in_context_regression(D=2, N=4, eigenvalues=[1.0, 0.4])
    data = task.data
    model = agf.LinearAttention(2, 2)
    p0 = model.init(0.3, 3)
    ts = np.linspace(0.0, 6.0, 25)
    tr = agf.gradient_flow(model, data, p0, 6.0, save_at=ts, rtol=1e-11 if method == "explicit" else 1e-9,
                           save_params=True, method=method)

    def rhs(t, y):
        return -ref_all(data.X, data.Y, y, 2, 2)[2]

    sol = solve_ivp(rhs, (0.0, 6.0), p0.to_vector(), method="DOP853", t_eval=ts, rtol=1e-12, atol=1e-14)
    assert sol.success
    ours = np.array([ref_all(data.X, data.Y, th, 2, 2)[1] for th in tr.param_vectors])
    theirs = np.array([ref_all(data.X, data.Y, th, 2, 2)[1] for th in sol.y.T])
    assert theirs[-1] < 0.5 * theirs[0]  # the run covers a drop
    tol = 1e-6
    np.testing.assert_allclose(ours, theirs, rtol=tol)
    np.testing.assert_allclose(tr.param_vectors, sol.y.T, rtol=0, atol=tol * np.abs(sol.y).max())


def test_gradient_descent_runs_and_decreases():
    task = agf.tasks.in_context_regression(D=2, N=4, eigenvalues=[1.0, 0.4])
    model = agf.LinearAttention(2, 2)
    p0 = model.init(0.3, 3)
    tr = agf.gradient_descent(model, task.data, p0, steps=3000, lr=1e-3)
    gf = agf.gradient_flow(model, task.data, p0, 3.0, save_at=[3.0])
    drop = tr.loss[0] - tr.loss[-1]  # differences do not depend on the dataset's loss_offset
    assert drop > 0.4
    assert abs(tr.loss[-1] - gf.loss[-1]) < 1e-2 * drop  # lr = 1e-3: Euler error O(lr)


def test_section_6_4_plateaus_by_gradient_flow():
    """Method §6.4: D = 4, N = 32, λ ∝ (1, 1/2, 1/3, 1/4) summing to 2, 5 heads, α = 1e-3: the
    population loss sits on 1.0, 0.5622, 0.3555, 0.2251, 0.1322 in turn (within 1%), and the
    learned map's singular values approach 1/(tr Σ + (N+1) λ_j)."""
    task = agf.tasks.in_context_regression()
    th = agf.theory.attention(task.info["eigenvalues"], 32)
    np.testing.assert_allclose(th.levels, [1.0, 0.5622, 0.3555, 0.2251, 0.1322], atol=5e-5)
    model = agf.LinearAttention(4, 5)
    ts = np.linspace(0.0, 4000.0, 4001)
    tr = agf.gradient_flow(model, task.data, model.init(1e-3, 0), 4000.0, save_at=ts, rtol=1e-8,
                           save_params=True)
    pop = np.array([ref_all(task.data.X, task.data.Y, p, 4, 5)[1] for p in tr.param_vectors])
    pop += task.data.loss_offset
    first_time = []
    for level in th.levels:
        near = np.flatnonzero(np.abs(pop - level) < 0.01 * level)
        assert near.size >= 30, f"no plateau at {level}"  # held for at least 30 time units
        first_time.append(ts[near[0]])
    assert np.all(np.diff(first_time) > 0)  # visited in order
    assert pop[-1] == pytest.approx(th.levels[-1], rel=1e-4)
    sv = np.linalg.svd(model.matrix(tr.param_vectors[-1]), compute_uv=False)
    np.testing.assert_allclose(np.sort(sv), np.sort(th.extras["singular_values"]), rtol=1e-3)


def test_agf_engine_runs_on_attention():
    """run_agf needs only the Model interface: on method §6.4 it learns the principal components
    in decreasing eigenvalue, with the theory's level drops (1e-3) and gradient flow's jump times
    (1%) at alpha = 1e-3."""
    task = agf.tasks.in_context_regression()
    lam = task.info["eigenvalues"]
    th = agf.theory.attention(lam, 32)
    model = agf.LinearAttention(4, 5)
    p0 = model.init(1e-3, 0)
    res = agf.run_agf(model, task.data, params0=p0)
    assert len(res.jump_times) == 4
    drops = -np.diff(np.asarray(res.levels, float))
    np.testing.assert_allclose(drops[:4], th.extras["level_drops"], rtol=1e-3)
    final = ref_all(task.data.X, task.data.Y, res.final_params.to_vector(), 4, 5)[1] + task.data.loss_offset
    assert final == pytest.approx(th.levels[-1], rel=1e-3)
    # learned directions: the principal components of Sigma (diagonal here) in decreasing order
    k = res.final_params["k"]
    learned = [int(np.argmax(np.abs(k[i]))) for i in res.order[:4]]
    assert learned == [0, 1, 2, 3]
    ts = np.linspace(0.0, 3200.0, 32001)
    gf = agf.gradient_flow(model, task.data, p0, 3200.0, save_at=ts, rtol=1e-8)
    for j, t_jump in enumerate(res.jump_times[:4]):
        mid = 0.5 * (gf.loss[0] - drops[:j].sum() + gf.loss[0] - drops[:j + 1].sum())
        t_gf = ts[np.argmax(gf.loss < mid)]
        assert t_jump == pytest.approx(t_gf, rel=0.01)
