"""Tests of agf.theory against the reference numbers of the method page (section 6) and
independent numpy/scipy checks."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.integrate import solve_ivp

import agf.theory as T
from agf.errors import ConfigError, DataError
from agf.theory.linear import jump_time_recursion
from agf.theory.modular import jump_time_lower_bounds


def assert_printed(actual, printed):
    """``actual`` agrees with reference numbers to every printed digit (half a unit of the
    last printed decimal), which for these references is also within 1e-4 relative or
    better where the number of digits allows."""
    actual = np.asarray(actual, dtype=float)
    assert actual.shape == (len(printed),), (actual, printed)
    for a, p in zip(actual, printed):
        decimals = len(p.split(".")[1]) if "." in p else 0
        tol = 0.5 * 10.0 ** (-decimals) + 1e-12
        assert abs(a - float(p)) <= tol, f"{a} does not round to {p}"


# ---------------------------------------------------------------------------------- fixtures
@pytest.fixture
def diag2d():
    th = np.deg2rad(150.0)
    R = np.array([[np.cos(th), -np.sin(th)], [np.sin(th), np.cos(th)]])
    X = np.linalg.cholesky(R @ np.diag([1.0, 25.0]) @ R.T)  # the lower factor reproduces §6.1
    y = X @ np.array([-0.2, 2.0])
    return X, y


@pytest.fixture
def diag5d():
    np.random.seed(10)
    X = np.random.multivariate_normal(np.zeros(5), np.diag([1, 1 / 2, 1 / 3, 1 / 4, 1 / 5]),
                                      size=20)
    beta = 10 * np.random.randn(5)
    return X, X @ beta


def modular_template(p=20, spec=((1, 10.0), (3, 5.0), (5, 2.5))):
    xh = np.zeros(p, dtype=complex)
    for k, a in spec:
        xh[k] = a
        xh[p - k] = a
    x = np.real(np.fft.ifft(xh))
    return x - x.mean()


def attention_eigs():
    lam = np.array([1, 1 / 2, 1 / 3, 1 / 4])
    return lam * 2 / lam.sum()


# ---------------------------------------------------------------------------------- diagonal
def test_diagonal_2d_reference(diag2d):
    r = T.diagonal(*diag2d)
    assert r.setting == "diagonal"
    assert r.order == [0, 1, 0]
    assert_printed(r.levels, ["2.3111", "1.11465", "0.07", "0"])
    assert_printed(r.rescaled_times, ["0.1930", "0.6002", "3.4574"])
    np.testing.assert_allclose(r.extras["saddles"][1:],
                               [[0.4619, 0], [0, 1.5843], [-0.2, 2.0]], atol=1e-4)
    # 0 activates, 1 activates and 0 deactivates at the same jump, 0 re-activates negative
    assert [(e["kind"], e["index"], e["sign"], e["jump"]) for e in r.events] == [
        ("activate", 0, 1, 0), ("activate", 1, 1, 1), ("deactivate", 0, 1, 1),
        ("activate", 0, -1, 2)]
    assert r.extras["path"] == [0, 1, ~0, 0]
    assert r.jump_times is None
    np.testing.assert_allclose(r.jump_times_at(1e-3), r.rescaled_times * math.log(1e3))


def test_diagonal_5d_reference(diag5d):
    r = T.diagonal(*diag5d, alpha=1e-8)
    assert r.order == [1, 2, 3, 0, 4]
    assert_printed(r.rescaled_times, ["0.1201", "0.6007", "0.9817", "1.1123", "4.2193"])
    assert_printed(r.levels, ["82.417", "13.323", "2.267", "0.988", "0.1656", "0"])
    np.testing.assert_allclose(r.levels[:4], [82.417, 13.323, 2.267, 0.988], rtol=1e-4)
    assert all(e["kind"] == "activate" for e in r.events)
    np.testing.assert_allclose(r.jump_times, r.rescaled_times * math.log(1e8))


@pytest.mark.parametrize("case", ["diag2d", "diag5d"])
def test_diagonal_saddles_satisfy_kkt(case, request):
    """Independent check: every saddle is the least-squares fit on its support with the signs
    of s, and the piecewise-linear s(τ) rebuilt from the saddles and times stays in [-1, 1],
    reaches ±1 exactly when a coordinate activates, and equals sign(β) on the support."""
    X, y = request.getfixturevalue(case)
    n, d = X.shape
    r = T.diagonal(X, y)
    saddles = r.extras["saddles"]
    s = np.zeros(d)
    t_prev = 0.0
    for k, beta in enumerate(saddles):
        supp = np.flatnonzero(beta)
        g = X.T @ (X @ beta - y) / n
        loss = np.sum((X @ beta - y) ** 2) / (2 * n)
        assert loss == pytest.approx(r.levels[k], rel=1e-10, abs=1e-12)
        if supp.size:
            ls, *_ = np.linalg.lstsq(X[:, supp], y, rcond=None)
            np.testing.assert_allclose(beta[supp], ls, rtol=1e-8, atol=1e-10)
            np.testing.assert_allclose(g[supp], 0.0, atol=1e-8)
        if k == len(saddles) - 1:
            break
        # advance s along the gradient of the plateau to the next jump
        t_next = r.rescaled_times[k]
        s_mid = s - 0.5 * (t_next - t_prev) * g
        s = s - (t_next - t_prev) * g
        assert np.all(np.abs(s_mid) <= 1 + 1e-9)
        assert np.all(np.abs(s) <= 1 + 1e-9)
        act = r.order[k]
        for i in (act if isinstance(act, tuple) else (act,)):
            assert abs(abs(s[i]) - 1) < 1e-9
        nxt = saddles[k + 1]
        np.testing.assert_allclose(s[nxt != 0], np.sign(nxt[nxt != 0]), atol=1e-9)
        t_prev = t_next
    # the final point is a global minimizer here (n >= d, full rank)
    np.testing.assert_allclose(X @ saddles[-1], y, atol=1e-8)


def test_diagonal_matches_gradient_flow_slope(diag2d):
    """Gradient flow of β = u ⊙ v from u = √2 α, v = 0: the jump times (loss crossing the
    midpoint between plateaus) grow like τ log(1/α); the O(1) offset cancels in a difference
    between two α."""
    X, y = diag2d
    n, d = X.shape
    r = T.diagonal(X, y)
    mids = 0.5 * (r.levels[:-1] + r.levels[1:])

    def crossings(alpha):
        def rhs(t, z):
            u, v = z[:d], z[d:]
            g = X.T @ (X @ (u * v) - y) / n
            return np.concatenate([-g * v, -g * u])

        events = []
        for m in mids:
            def ev(t, z, m=m):
                return np.sum((X @ (z[:d] * z[d:]) - y) ** 2) / (2 * n) - m
            ev.direction = -1
            events.append(ev)
        z0 = np.concatenate([np.full(d, math.sqrt(2) * alpha), np.zeros(d)])
        sol = solve_ivp(rhs, (0, 4 * math.log(1 / alpha)), z0, method="DOP853", rtol=1e-10,
                        atol=1e-12 * alpha**2, events=events)
        return np.array([e[0] for e in sol.t_events])

    a, b = 1e-3, 1e-5
    slope = (crossings(b) - crossings(a)) / math.log(a / b)
    np.testing.assert_allclose(slope, r.rescaled_times, atol=1e-3)


def test_diagonal_accepts_column_y_and_dataframe(diag2d):
    X, y = diag2d
    r = T.diagonal(X, y[:, None], alpha=1e-2)
    df = r.to_dataframe()
    assert list(df["order"]) == [None, 0, 1, 0]
    np.testing.assert_allclose(df["level"], r.levels)
    np.testing.assert_allclose(df["jump_time"][1:], r.jump_times)


def test_diagonal_validation(diag2d):
    X, y = diag2d
    with pytest.raises(DataError):
        T.diagonal(X, y[:1])
    with pytest.raises(ConfigError):
        T.diagonal(X[0], y)
    with pytest.raises(ConfigError):
        T.diagonal(X, np.stack([y, y], axis=1))
    Xn = X.copy()
    Xn[0, 0] = np.nan
    with pytest.raises(DataError):
        T.diagonal(Xn, y)
    with pytest.raises(ConfigError):
        T.diagonal(X, y, alpha=0.0)
    with pytest.raises(ConfigError):
        T.diagonal(X, y).jump_times_at(2.0)


# ---------------------------------------------------------------------------------- linear
def _commuting_setup(seed=0):
    rng = np.random.default_rng(seed)
    B = rng.standard_normal((10, 10))
    _, _, Vt = np.linalg.svd(B)
    i = np.arange(1, 11)
    Sxx = Vt.T @ np.diag(1.0 / i**2) @ Vt  # eigenbasis of BᵀB: Σ_xx commutes with Σ_xyΣ_yx
    return B, Sxx


def _rrr_brute_force(B, Sxx, k):
    """Best rank-k β for the population loss ½ tr((B − β) Σ_xx (B − β)ᵀ), via whitening."""
    w, Q = np.linalg.eigh(Sxx)
    half = Q @ np.diag(np.sqrt(w)) @ Q.T
    ihalf = Q @ np.diag(1 / np.sqrt(w)) @ Q.T
    U, s, Vt = np.linalg.svd(B @ half)
    beta = (U[:, :k] * s[:k]) @ Vt[:k] @ ihalf
    E = B - beta
    return beta, 0.5 * np.trace(E @ Sxx @ E.T)


def test_linear_commuting_closed_form():
    B, Sxx = _commuting_setup()
    Syx = B @ Sxx
    r = T.linear(Sxx, Syx, alpha=1e-6)
    assert r.extras["commuting"] is True
    sig = np.linalg.svd(Syx, compute_uv=False)
    np.testing.assert_allclose(r.rescaled_times, 1 / sig, rtol=1e-10)
    np.testing.assert_allclose(r.extras["recursion_times"], 1 / sig, rtol=1e-8)
    # the generic recursion along the reduced-rank-regression saddles reduces to 1/σ_k
    rec, _, _ = jump_time_recursion(Syx, r.extras["U"])
    np.testing.assert_allclose(rec, 1 / sig, rtol=1e-8)
    assert r.order == list(range(10))
    mu = r.extras["mu"]
    np.testing.assert_allclose(r.levels, [0.5 * mu[k:].sum() for k in range(11)],
                               rtol=1e-10, atol=1e-14)
    for k in range(11):
        beta, level = _rrr_brute_force(B, Sxx, k)
        assert r.levels[k] == pytest.approx(level, rel=1e-8, abs=1e-12)
        np.testing.assert_allclose(r.extras["saddles"][k], beta, atol=1e-8 * np.abs(B).max())
    np.testing.assert_allclose(r.jump_times, r.rescaled_times * math.log(1e6))


def test_linear_non_commuting_levels_and_recursion():
    rng = np.random.default_rng(0)
    B = rng.standard_normal((10, 10))
    Sxx = np.diag(1.0 / np.arange(1, 11) ** 2)
    Syx = B @ Sxx
    r = T.linear(Sxx, Syx)
    assert r.extras["commuting"] is False
    assert r.order == list(range(10))
    for k in range(11):
        beta, level = _rrr_brute_force(B, Sxx, k)
        assert r.levels[k] == pytest.approx(level, rel=1e-8, abs=1e-12)
        np.testing.assert_allclose(r.extras["saddles"][k], beta, atol=1e-7 * np.abs(B).max())
    sig = np.linalg.svd(Syx, compute_uv=False)
    assert r.rescaled_times[0] == pytest.approx(1 / sig[0])
    assert np.all(np.diff(r.rescaled_times) >= 0)
    # hand-evaluated second step of the recursion
    P1 = np.outer(r.extras["U"][:, 0], r.extras["U"][:, 0])
    s1 = np.linalg.svd((np.eye(10) - P1) @ Syx, compute_uv=False)
    dt2 = (1 - sig[1] / sig[0]) / s1[0]
    assert r.rescaled_times[1] == pytest.approx(1 / sig[0] + dt2)


def test_linear_irreducible_part_and_order_mismatch():
    B, Sxx = _commuting_setup(1)
    Syx = B @ Sxx
    Syy = B @ Sxx @ B.T + 0.3 * np.eye(10)
    r0 = T.linear(Sxx, Syx)
    r1 = T.linear(Sxx, Syx, Syy=Syy)
    np.testing.assert_allclose(r1.levels, r0.levels + 0.5 * 0.3 * 10, rtol=1e-10)
    # commuting, but σ order (1, 0.5) differs from μ order (1, 25): modes follow σ
    r = T.linear(np.diag([1.0, 0.01]), np.diag([1.0, 0.5]))
    assert r.extras["commuting"] is True
    assert r.order == [1, 0]
    np.testing.assert_allclose(r.rescaled_times, [1.0, 2.0])
    np.testing.assert_allclose(r.levels, [13.0, 12.5, 0.0])


def test_linear_validation():
    with pytest.raises(ConfigError):
        T.linear(np.eye(3), np.ones((2, 4)))
    with pytest.raises(DataError):
        T.linear(-np.eye(3), np.ones((2, 3)))
    with pytest.raises(DataError):
        T.linear(np.array([[1.0, 2.0], [0.0, 1.0]]), np.ones((2, 2)))
    with pytest.raises(DataError):
        T.linear(np.eye(2), np.array([[np.inf, 0], [0, 1]]))
    with pytest.raises(ConfigError):
        T.linear(np.eye(2), np.eye(2), Syy=np.eye(3))
    with pytest.raises(DataError):
        T.linear(np.eye(2), np.zeros((2, 2)))


# ---------------------------------------------------------------------------------- attention
def test_attention_reference():
    r = T.attention(attention_eigs(), 32)
    assert r.order == [0, 1, 2, 3]
    assert_printed(r.levels, ["1.0", "0.5622", "0.3555", "0.2251", "0.1322"])
    np.testing.assert_allclose(r.extras["singular_values"], [0.0297, 0.0561, 0.0796, 0.1008],
                               atol=1e-3)
    assert_printed(r.extras["singular_values"], ["0.0297", "0.0561", "0.0796", "0.1008"])
    lam1 = attention_eigs()[0]
    assert r.extras["initial_max_utility"] == pytest.approx(32 * lam1**2 / (3 * math.sqrt(3)))
    assert r.rescaled_times is None
    t = r.jump_times_at(1e-3)
    assert t[0] == pytest.approx((1 / (math.sqrt(2) * 1e-3) - 1)
                                 / (3 * r.extras["initial_max_utility"]))
    assert np.all(np.isnan(t[1:]))


def test_attention_permutation_and_matrix_input():
    lam = attention_eigs()
    perm = [2, 0, 3, 1]
    r = T.attention(lam[perm], 32)
    assert r.order == [1, 3, 0, 2]
    np.testing.assert_allclose(r.levels, T.attention(lam, 32).levels)
    Q, _ = np.linalg.qr(np.random.default_rng(3).standard_normal((4, 4)))
    rm = T.attention(Q @ np.diag(lam) @ Q.T, 32.0)
    np.testing.assert_allclose(rm.levels, T.attention(lam, 32).levels, rtol=1e-10)


def test_attention_validation():
    with pytest.raises(DataError):
        T.attention([1.0, -1.0], 4)
    with pytest.raises(DataError):
        T.attention([1.0, np.nan], 4)
    with pytest.raises(ConfigError):
        T.attention([1.0, 0.5], 0)
    with pytest.raises(ConfigError):
        T.attention([1.0, 0.5], 2.5)
    with pytest.raises(ConfigError):
        T.attention([1.0, 0.5], True)
    with pytest.raises(ConfigError):
        T.attention(np.ones((2, 3)), 4)
    with pytest.raises(ConfigError):
        T.attention([1.0], 4).jump_times_at(1e-3, init_norm=2.0)


# ---------------------------------------------------------------------------------- modular
def test_modular_reference():
    x = modular_template()
    assert np.sum(x**2) == pytest.approx(13.125)
    r = T.modular(x, alpha=1e-2)
    assert r.order == [1, 3, 5]
    np.testing.assert_allclose(r.levels_mse, [0.65625, 0.15625, 0.03125, 0.0], rtol=1e-10,
                               atol=1e-14)
    np.testing.assert_allclose(r.levels, r.levels_mse * 20 / 2)
    lb = r.jump_times
    np.testing.assert_allclose(lb / lb[0], [1, 8, 64], rtol=1e-10)
    assert_printed(lb, ["7.64", "61.1", "488.7"])
    np.testing.assert_allclose(jump_time_lower_bounds(x, 1e-2), lb)
    np.testing.assert_allclose(T.modular_jump_time_lower_bounds(x, 1e-2), lb)
    # about 764, 6.1e3, 4.9e4 epochs of lr 0.01, momentum 0.9 on MSELoss (t per epoch 0.01)
    np.testing.assert_allclose(lb / (0.01 * (2 / 20) / (1 - 0.9)), [764, 6.1e3, 4.9e4],
                               rtol=0.01)
    assert r.extras["max_utility"][1] == pytest.approx(math.sqrt(40 / 27) * 1000 / 400)


def test_modular_levels_independent():
    """MSELoss of the best predictor on the learned frequencies = projection of every target
    onto them, computed directly over all p² pairs."""
    p = 20
    x = modular_template()
    r = T.modular(x)
    xh = np.fft.fft(x)
    learned: list[int] = []
    for k in range(len(r.order) + 1):
        keep = np.zeros(p, dtype=bool)
        for xi in learned:
            keep[xi] = keep[(p - xi) % p] = True
        proj = np.real(np.fft.ifft(np.where(keep, xh, 0)))
        a, b = np.meshgrid(np.arange(p), np.arange(p), indexing="ij")
        idx = (a + b).ravel() % p
        target = np.stack([np.roll(x, s) for s in idx])
        pred = np.stack([np.roll(proj, s) for s in idx])
        mse = np.mean((target - pred) ** 2)
        assert r.levels_mse[k] == pytest.approx(mse, abs=1e-12)
        if k < len(r.order):
            learned.append(r.order[k])


def test_modular_max_utility_numerically():
    """Ū*(ξ = 1) against a direct maximisation of the canonical utility on the unit sphere."""
    from scipy.optimize import minimize

    p = 20
    x = modular_template()
    Xs = np.stack([np.roll(x, a) for a in range(p)])
    S = (np.arange(p)[:, None] + np.arange(p)[None, :]) % p

    def neg_u(th):
        th = th / np.linalg.norm(th)
        u, v, w = th[:p], th[p:2 * p], th[2 * p:]
        z = (Xs @ u)[:, None] + (Xs @ v)[None, :]
        return -np.mean(z**2 * (Xs @ w)[S])

    rng = np.random.default_rng(0)
    best = max(-minimize(neg_u, rng.standard_normal(3 * p), method="BFGS").fun for _ in range(4))
    assert best == pytest.approx(T.modular(x).extras["max_utilities"][0], rel=1e-6)


def test_modular_centering_ties_and_validation():
    x = modular_template()
    r = T.modular(x + 3.0)
    np.testing.assert_allclose(r.levels, T.modular(x).levels)
    with pytest.raises(DataError):
        T.modular(x + 3.0, center=False)
    onehot = np.eye(7)[0]
    r = T.modular(onehot)
    assert r.order == [1, 2, 3]
    assert r.extras["ties"] == [(1, 2, 3)]
    with pytest.raises(DataError):
        T.modular(np.ones(5))
    with pytest.raises(ConfigError):
        T.modular(np.ones((2, 2)))
    with pytest.raises(ConfigError):
        T.modular([1.0, -1.0])
    with pytest.raises(DataError):
        T.modular([1.0, np.nan, 0.0])
    with pytest.raises(ConfigError):
        T.modular(x).jump_times_at(-1.0)


def test_result_common_interface():
    r = T.modular(modular_template())
    assert r.jump_times is None
    assert len(r.levels) == len(r.order) + 1
    df = r.to_dataframe()
    assert list(df.columns[:4]) == ["jump", "order", "rescaled_time", "level"]
    assert "level_mse" in df
    with pytest.raises(Exception):
        r.order = []  # frozen
    assert "modular" in repr(r)
