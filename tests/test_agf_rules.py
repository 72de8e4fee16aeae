"""Rules of the two-layer AGF engine (:func:`agf.run_agf`, ``_TwoLayerEngine``): deactivation,
the anti-cycling guard, the basin warning, termination ("stationary", "loss_tol"), the warning
exports, the cost-minimization arguments and the dormant directions recorded at each jump.

Most tests use an "orthogonal-feature" ReLU problem whose AGF run is known in closed form: the
data points are e1, -e1, e2 (one sample each, or e1 twice), and each neuron starts
exactly at one basin of the utility, ``w = +-e_k / sqrt(2)``, ``a = sign(y_k) / sqrt(2)`` (unit
direction), which covers the single point ``x_k`` (ReLU'(0) = 0, so the other axis points
contribute neither value nor gradient). A neuron at its basin has
``U* = |y_k| / (2n)``, so ``S_i = kappa U* t`` reaches ``c_i = log(1/rho_i)`` at
``t_i = n c_i / |y_k|`` (exactly: nothing else changes the residual at x_k), and the level after
its cost minimization drops by ``y_k^2 / (2n)``.
"""

from __future__ import annotations

import math
import sys
import warnings

import numpy as np
import pytest
from scipy.integrate import solve_ivp
from scipy.optimize import minimize

import agf
from agf.agf_result import AGF_STATUS

RUN_AGF = sys.modules["agf.run_agf"]  # the module (agf.run_agf is the function)
RELU, LIN = "relu", "linear"
S2 = math.sqrt(2.0)


# ------------------------------------------------------------------ helpers
def orth_problem(points, neurons):
    """points: [(x, y)]; neurons: [(w_dir, a_dir, rho)] -> Dataset, params0 (rows scaled to rho)."""
    X = np.array([p for p, _ in points], float)
    Y = np.array([[y] for _, y in points], float)
    W = np.array([w for w, _, _ in neurons], float)
    A = np.array([[a] for _, a, _ in neurons], float)
    rho = np.array([r for _, _, r in neurons], float)
    nrm = np.sqrt((W ** 2).sum(1) + (A ** 2).sum(1))
    W = W / nrm[:, None] * rho[:, None]
    A = A / nrm[:, None] * rho[:, None]
    return agf.Dataset(X, Y), agf.Params({"w": W, "a": A})


# points e1 (y=1), -e1 (y=0.7), e2 (y=-0.5); neuron 3 points at -e2, where there is no data
POINTS = [((1, 0), 1.0), ((-1, 0), 0.7), ((0, 1), -0.5)]
Y3 = np.array([1.0, 0.7, -0.5])
RHO = np.array([1e-3, 2e-3, 3e-3, 1e-3])
NEURONS = [((1, 0), 1, RHO[0]), ((-1, 0), 1, RHO[1]), ((0, 1), -1, RHO[2]), ((0, -1), 1, RHO[3])]


def np_loss_grad(act, X, Y, W, A):
    """Numpy reference: canonical loss (1/2n) sum ||y - sum_i a_i sigma(w_i . x)||^2 and its
    gradient (dL/dW, dL/dA); act is "relu" or "linear"."""
    Z = X @ W.T
    S, dS = (np.maximum(Z, 0.0), (Z > 0).astype(float)) if act == "relu" else (Z, np.ones_like(Z))
    R = Y - S @ A
    n = X.shape[0]
    return 0.5 * np.sum(R ** 2) / n, -(((R @ A.T) * dS).T @ X) / n, -(S.T @ R) / n


def np_loss(act, data, params):
    return np_loss_grad(act, data.X, data.Y, np.asarray(params["w"]), np.asarray(params["a"]))[0]


def make_engine(model, data, p0):
    """A _TwoLayerEngine built as run_agf builds it, with run_agf's default settings."""
    rho0 = model.neuron_norms(p0)
    rec = RUN_AGF._Recorder(model.width, False, data.loss_offset)
    stats = {"n_dormant_steps": 0, "n_cost_steps": 0, "n_cost_not_converged": 0}
    cost = dict(gtol=1e-6, ftol=0.0, polish=0.0, method="auto", rtol=1e-6, t_max=1e8, max_steps=20_000)
    return RUN_AGF._TwoLayerEngine(model, data, p0, rho0, limit=False, threads=1, rtol=1e-10,
                                   cost=cost, deact_frac=0.1, stationary_tol=1e-9, loss_tol=1e-10,
                                   t_max=math.inf, rec=rec, stats=stats, progress=False)


class ForcedDeactivation:
    """Wraps the C++ cost minimization: the real flow runs, but while ``when(active)`` holds (at
    most ``times`` times) the result is reported as a deactivation of ``neuron``."""

    def __init__(self, neuron, when, times):
        self.real = RUN_AGF._core.agf_cost_min
        self.neuron, self.when, self.left = neuron, when, times
        self.forced = 0

    def __call__(self, model, X, Y, theta, active, *args):
        out = self.real(model, X, Y, theta, active, *args)
        if self.left > 0 and active[self.neuron] and self.when(active):
            self.left -= 1
            self.forced += 1
            out = dict(out, status=1, deactivated=[self.neuron])
        return out


# ------------------------------------------------------------------ the closed-form problem itself
def test_orthogonal_problem_matches_closed_form_and_stops_at_loss_tol():
    """Reference run: jump times n c_i / |y_i|, levels sum_{j>k} y_j^2 / (2n); exact fit ->
    status "loss_tol" (neuron 3 still dormant, so not "no_dormant")."""
    data, p0 = orth_problem(POINTS, NEURONS)
    m = agf.TwoLayer(2, 1, 4, "relu")
    res = agf.run_agf(m, data, p0)
    n = 3
    c = np.log(1 / RHO)
    assert res.order == [0, 1, 2] and res.path == [0, 1, 2]
    np.testing.assert_allclose(res.thresholds, c, rtol=1e-14)
    np.testing.assert_allclose(res.jump_times, n * c[:3] / np.abs(Y3), rtol=1e-8)
    want = [0.5 * np.sum(Y3[k:] ** 2) / n for k in range(3)]
    np.testing.assert_allclose(res.levels[:3], want, rtol=1e-10)
    assert res.status == "loss_tol" and res.message == AGF_STATUS["loss_tol"]
    assert res.levels[-1] <= 1e-10 * res.levels[0]
    # the recorded levels are the loss of the recorded features (numpy reference)
    for k in range(3):
        lvl = np_loss(RELU, data, res.features[k])
        assert lvl == pytest.approx(res.levels[k + 1], rel=1e-9, abs=1e-15)
    assert res.stats["n_cost_not_converged"] == 0


def test_dormant_directions_are_recorded_at_the_jump():
    """dormant_directions[k] is the direction each dormant neuron has AT jump k (the direction
    the activating neuron enters along), not the one it had when the previous round ended.
    Neuron 0 starts off its basin at theta0 = (w, a) ~ (1, -0.5, 1) (it covers only e1):
    for kappa = 2 the dormant direction is the normalised linear flow phi' = K phi,
    K = (y1/n) [[0,0,1],[0,0,0],[1,0,0]] (U = (y1/n) a w1 is a quadratic form), and
    S(t) = log ||phi(t)|| (kappa U = d log ||phi|| / dt), so the jump is where ||phi|| = 1/rho0."""
    rho = 1e-3
    data, p0 = orth_problem(POINTS, [((1, -0.5), 1, rho), ((0, -1), 1, 1e-3)])
    m = agf.TwoLayer(2, 1, 2, "relu")
    res = agf.run_agf(m, data, p0, max_rounds=1)
    th0 = np.array([1.0, -0.5, 1.0]) / 1.5
    k = 1.0 / 3.0
    p, q = (th0[0] + th0[2]) / S2, (th0[0] - th0[2]) / S2   # e^{kt} and e^{-kt} modes; w2 constant

    def phi(t):
        P, Q = p * math.exp(k * t), q * math.exp(-k * t)
        return np.array([(P + Q) / S2, th0[1], (P - Q) / S2])

    from scipy.optimize import brentq

    t_star = brentq(lambda t: np.log(np.linalg.norm(phi(t))) - math.log(1 / rho), 0.0, 100.0,
                    xtol=1e-14)
    assert res.order == [0]
    assert res.jump_times[0] == pytest.approx(t_star, rel=1e-8)
    d = res.dormant_directions[0]
    got = np.concatenate([d["w"][0], d["a"][0]])
    want = phi(t_star) / np.linalg.norm(phi(t_star))
    np.testing.assert_allclose(got, want, atol=1e-7)
    assert abs(got[1]) < 1e-3 < abs(th0[1])      # the initial direction had w2 = -1/3
    assert res.dormant_S[0][0] == pytest.approx(res.thresholds[0], rel=1e-12)


# ------------------------------------------------------------------ rule 1: deactivation
def test_deactivation_on_invariant_line_then_rerun_without_the_neuron():
    """Linear two-layer network, whitened inputs (X^T X / n = I), targets y = b <v, x> + eps with
    eps orthogonal to the columns of X (irreducible part L* = |eps|^2 / (2n)). Active state:
    neuron 0 small and aligned (w0 = u v, a0 = u), neuron 1 at unit norm and anti-aligned
    (w1 = v/sqrt2, a1 = -1/sqrt2). The line through v is invariant; with E = exp(int (b - s)),
    s = a0 w0 + a1 w1 = u^2 E^2 - 1/(2 E^2) and ||theta_1|| = 1/E. The flow converges at s = b,
    i.e. E ~ 20 for u = 0.05, b = 1, so neuron 1 provably falls below 0.1 of its entry norm
    (at E = 10, s = 0.245 < b): it must be deactivated (frozen, S = c, direction kept) and the
    cost minimization re-run on neuron 0 alone, whose minimum is L*."""
    rng = np.random.default_rng(3)
    n, d = 8, 3
    Q, _ = np.linalg.qr(rng.normal(size=(n, n)))
    X = Q[:, :d] * math.sqrt(n)
    v = rng.normal(size=d)
    v /= np.linalg.norm(v)
    eps = 0.3 * Q[:, d:] @ rng.normal(size=n - d)
    b, u = 1.0, 0.05
    Y = (b * X @ v + eps)[:, None]
    data = agf.Dataset(X, Y)
    L_star = 0.5 * np.sum(eps ** 2) / n
    m = agf.TwoLayer(d, 1, 2, "linear")
    p0 = m.init(1e-3, seed=0)
    eng = make_engine(m, data, p0)
    W = np.array([u * v, v / S2])
    A = np.array([[u], [-1 / S2]])
    eng.theta = np.concatenate([W.ravel(), A.ravel()])
    eng.mode = [RUN_AGF.ACTIVE, RUN_AGF.ACTIVE]
    eng.t = 12.5
    deact, loss, note, spent = eng.cost_min(eng.L0)
    assert deact == [1] and note is None and spent > 0
    assert eng.mode == [RUN_AGF.ACTIVE, RUN_AGF.FROZEN]
    assert eng.S[1] == eng.c[1]
    assert eng.deact_count == {(1, 12.5): 1}
    th = m.from_vector(eng.theta)
    assert np.all(th["w"][1] == 0) and np.all(th["a"][1] == 0)
    # frozen direction: the neuron's direction at deactivation, still on the invariant line
    dirs = m.from_vector(eng.dirs)
    np.testing.assert_allclose(np.concatenate([dirs["w"][1], dirs["a"][1]]),
                               np.concatenate([v, [-1.0]]) / S2, atol=1e-6)
    # the re-run ends at the minimum over neuron 0 alone: scipy reference from a generic start
    def f0(z):
        Wz, Az = np.vstack([z[:d], np.zeros(d)]), np.array([[z[d]], [0.0]])
        return np_loss_grad(LIN, X, Y, Wz, Az)[0]

    ref = minimize(f0, np.r_[rng.normal(size=d), 0.7], method="BFGS", options=dict(gtol=1e-12))
    assert ref.fun == pytest.approx(L_star, rel=1e-10)
    assert loss == pytest.approx(ref.fun, rel=1e-8)
    assert f0(np.r_[th["w"][0], th["a"][0]]) == pytest.approx(loss, rel=1e-12)
    # the flow itself (scipy ODE solve of both neurons, numpy gradient): neuron 1 reaches 0.1 of
    # its entry norm at E = 10, i.e. s = 100 u^2 - 1/200 = 0.245, far from convergence (s = b)
    def rhs(_, z):
        Wz = z[:2 * d].reshape(2, d)
        Az = z[2 * d:].reshape(2, 1)
        _, dW, dA = np_loss_grad(LIN, X, Y, Wz, Az)
        return -np.concatenate([dW.ravel(), dA.ravel()])

    ev = lambda _, z: np.linalg.norm(np.r_[z[d:2 * d], z[2 * d + 1]]) - 0.1  # noqa: E731
    ev.terminal = True
    sol = solve_ivp(rhs, (0, 100), np.concatenate([W.ravel(), A.ravel()]), events=ev,
                    rtol=1e-10, atol=1e-12)
    assert sol.status == 1  # the event fired
    z = sol.y_events[0][0]
    s = z[:d] @ v * z[2 * d] + z[d:2 * d] @ v * z[2 * d + 1]
    assert s == pytest.approx(u * u * 100 - 1 / 200, rel=1e-6) and s < 0.5 * b


def test_linear_frame_deactivated_neuron_takes_the_top_pair_once():
    """Linear networks keep dormant neurons in a frame (j-th dormant neuron <-> j-th singular pair
    of M = E[r x^T]); a deactivated neuron goes to the front. Same invariant-line construction with
    two outputs, B = b1 u1 v1^T + b2 u2 v2^T: neuron 1 (activated this round, anti-aligned on the
    (u1, v1) line) deactivates, neuron 0 alone fits b1 u1 v1^T, so M = b2 u2 v2^T afterwards.
    The frozen neuron 1 (S = c) must enter the frame once, at the front, and re-activate at once
    along the top pair: a1 w1^T = u2 v2^T / 2; neuron 2 keeps S = 0."""
    rng = np.random.default_rng(5)
    n, d = 8, 3
    Q, _ = np.linalg.qr(rng.normal(size=(n, n)))
    X = Q[:, :d] * math.sqrt(n)
    V, _ = np.linalg.qr(rng.normal(size=(d, d)))
    U, _ = np.linalg.qr(rng.normal(size=(2, 2)))
    v1, v2, u1, u2 = V[:, 0], V[:, 1], U[:, 0], U[:, 1]
    b1, b2, u = 1.0, 0.5, 0.05
    B = b1 * np.outer(u1, v1) + b2 * np.outer(u2, v2)
    Y = X @ B.T + 0.3 * Q[:, d:d + 2]
    m = agf.TwoLayer(d, 2, 3, "linear")
    eng = make_engine(m, agf.Dataset(X, Y), m.init(1e-3, seed=0))
    W = np.array([u * v1, v1 / S2, np.zeros(d)])
    A = np.array([u * u1, -u1 / S2, np.zeros(2)])
    eng.theta = np.concatenate([W.ravel(), A.ravel()])
    eng.mode = [RUN_AGF.ACTIVE, RUN_AGF.ACTIVE, RUN_AGF.DORMANT]
    eng.frame = [1, 2]          # as left by the frame phase in which neuron 1 activated
    deact, loss, _, _ = eng.cost_min(eng.L0)
    assert deact == [1] and eng.mode[1] == RUN_AGF.FROZEN
    assert loss == pytest.approx(0.5 * b2 ** 2 + 0.5 * 0.09 * 2 / n, rel=1e-8)
    t = eng.t
    status, new = eng.frame_phase()
    assert status == "activation" and new == [1] and eng.t == t
    assert eng.S[1] == eng.c[1] and eng.S[2] == 0.0
    dirs = m.from_vector(eng.dirs)
    np.testing.assert_allclose(np.outer(dirs["a"][1], dirs["w"][1]), np.outer(u2, v2) / 2,
                               atol=1e-6)


def test_deactivation_is_recorded_and_the_neuron_reenters_frozen(monkeypatch):
    """Run level: when neuron 1 enters, the cost minimization reports neuron 0 deactivated (forced
    once). run_agf must record it in events / path (~0) in the same round, re-run the cost
    minimization without neuron 0 (level = (y1^2 + y3^2) / (2n): neuron 1 alone fits -e1), and keep
    neuron 0 frozen with S = c: its utility at the frozen direction is positive, so it re-enters at
    the same instant (S snapshot = c exactly), which is not a second deactivation."""
    data, p0 = orth_problem(POINTS, NEURONS)
    m = agf.TwoLayer(2, 1, 4, "relu")
    fake = ForcedDeactivation(0, lambda act: act[1] == 1, times=1)
    monkeypatch.setattr(RUN_AGF._core, "agf_cost_min", fake)
    res = agf.run_agf(m, data, p0)
    assert fake.forced == 1
    assert res.path == [0, 1, ~0, 0, 2]
    assert res.order == [0, 1, 0, 2]
    kinds = [(e["kind"], e["neurons"], e["round"]) for e in res.events]
    assert kinds == [("activate", (0,), 0), ("activate", (1,), 1), ("deactivate", (0,), 1),
                     ("activate", (0,), 2), ("activate", (2,), 3)]
    n = 3
    c = np.log(1 / RHO)
    t1 = n * c[1] / 0.7
    assert res.events[2]["time"] == res.events[1]["time"] == pytest.approx(t1, rel=1e-8)
    lvl1 = 0.5 * (Y3[0] ** 2 + Y3[2] ** 2) / n
    assert res.events[2]["level"] == res.levels[2] == pytest.approx(lvl1, rel=1e-9)
    assert res.events[2]["n_active"] == 1
    f1 = res.features[1]
    assert np.all(f1["w"][0] == 0) and np.all(f1["a"][0] == 0)
    assert np_loss(RELU, data, f1) == pytest.approx(lvl1, rel=1e-9)
    # frozen: S_0 = c_0 kept, immediate re-entry at the same time, then the closed-form rest
    assert res.dormant_S[2][0] == res.thresholds[0]
    assert res.jump_times[2] == res.jump_times[1]
    np.testing.assert_allclose(res.levels[3], 0.5 * Y3[2] ** 2 / n, rtol=1e-9)
    assert res.jump_times[3] == pytest.approx(n * c[2] / 0.5, rel=1e-8)
    assert res.status == "loss_tol"


# ------------------------------------------------------------------ rule 2: anti-cycling
def test_neuron_deactivated_twice_at_one_instant_is_retired(monkeypatch):
    """Neuron 0's cost minimization always reports it deactivated. Frozen with S = c and a
    positive utility, it re-enters at the same instant and is deactivated again: the guard must
    retire it (RuntimeWarning) instead of cycling forever. The rest of the run is unaffected
    (closed-form jump times of neurons 1 and 2) and it stops "stationary" with e1 unfit
    (level y1^2 / (2n)): neuron 3 sees no data and neuron 0 never comes back."""
    data, p0 = orth_problem(POINTS, NEURONS)
    m = agf.TwoLayer(2, 1, 4, "relu")
    fake = ForcedDeactivation(0, lambda act: True, times=10**9)
    monkeypatch.setattr(RUN_AGF._core, "agf_cost_min", fake)
    with pytest.warns(RuntimeWarning, match="retired") as rec:
        res = agf.run_agf(m, data, p0, max_rounds=50)
    assert sum(issubclass(w.category, RuntimeWarning) for w in rec) == 1
    assert fake.forced == 2
    assert res.path == [0, ~0, 0, ~0, 1, 2]
    assert res.jump_times[0] == res.jump_times[1]
    last = max(k for k, e in enumerate(res.events) if e["neurons"] == (0,))
    assert res.events[last]["kind"] == "deactivate"
    assert all(e["neurons"] != (0,) for e in res.events[last + 1:])
    assert np.all(res.final_params["w"][0] == 0) and np.all(res.final_params["a"][0] == 0)
    assert res.status == "stationary" and res.n_jumps == 4
    n = 3
    c = np.log(1 / RHO)
    np.testing.assert_allclose(res.jump_times[2:], n * c[1:3] / np.abs(Y3[1:]), rtol=1e-8)
    assert res.levels[-1] == pytest.approx(0.5 * Y3[0] ** 2 / n, rel=1e-9)


def test_deactivations_at_different_instants_do_not_retire(monkeypatch):
    """The guard counts deactivations per (neuron, instant): neuron 0 deactivated once when
    neuron 1 enters (t1) and once when neuron 2 enters (t2 != t1) re-enters both times, without
    a warning (pytest turns warnings into errors), and the run ends with the exact fit."""
    data, p0 = orth_problem(POINTS, NEURONS)
    m = agf.TwoLayer(2, 1, 4, "relu")
    patterns = {(1, 1, 0, 0), (1, 1, 1, 0)}

    def when(active):
        key = tuple(active)
        if key in patterns:
            patterns.discard(key)  # each pattern once: the re-entry at the same instant is kept
            return True
        return False

    fake = ForcedDeactivation(0, when, times=2)
    monkeypatch.setattr(RUN_AGF._core, "agf_cost_min", fake)
    res = agf.run_agf(m, data, p0)
    assert fake.forced == 2
    assert res.path == [0, 1, ~0, 0, 2, ~0, 0]
    t = res.jump_times
    assert t[1] == t[2] and t[3] == t[4] and t[3] > t[1]
    assert res.status == "loss_tol" and res.levels[-1] <= 1e-10 * res.levels[0]


# ------------------------------------------------------------------ rule 3: basin warning
def test_basin_warning_once_for_neurons_converging_to_one_basin():
    """Neurons 4 and 5 start in the basin of neuron 0 (e1, a > 0) at cosine 0.94 / 0.99 with it;
    by the first jump the dormant flow has brought all three within cosine 0.999: one
    AGFBasinWarning. After neuron 0 fits e1 the residual there is ~0, so 4 and 5 stay parallel
    at every later jump (checked below from the recorded directions) and must not warn again."""
    neurons = NEURONS + [((1, -0.5), 1, 1e-3), ((1, -0.2), 1, 1e-3)]
    data, p0 = orth_problem(POINTS, neurons)
    m = agf.TwoLayer(2, 1, 6, "relu")
    with pytest.warns(agf.AGFBasinWarning) as rec:
        res = agf.run_agf(m, data, p0)
    assert sum(issubclass(w.category, agf.AGFBasinWarning) for w in rec) == 1
    assert res.order[:3] == [0, 1, 2] and res.status == "loss_tol"

    def unit(dirs, i):
        r = np.concatenate([dirs["w"][i], dirs["a"][i]])
        return r / np.linalg.norm(r)

    th0 = [unit(p0, i) for i in (0, 4, 5)]
    assert th0[0] @ th0[1] < 0.95 and th0[0] @ th0[2] < 0.995
    d0 = res.dormant_directions[0]
    assert unit(d0, 0) @ unit(d0, 4) > 0.999 and unit(d0, 0) @ unit(d0, 5) > 0.999
    for k in (1, 2):
        dk = res.dormant_directions[k]
        assert unit(dk, 4) @ unit(dk, 5) > 0.999


def test_no_basin_warning_for_distinct_basins():
    """One neuron per basin, including the antiparallel pair 2 / 3 (cosine -1): no warning."""
    data, p0 = orth_problem(POINTS, NEURONS)
    m = agf.TwoLayer(2, 1, 4, "relu")
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        res = agf.run_agf(m, data, p0)
    assert [w.category for w in rec] == []
    assert res.n_jumps == 3


# ------------------------------------------------------------------ rule 4: termination
def test_stationary_after_fitting_everything_reachable():
    """e1 twice with targets 1 +- delta: its mean is fitted, the +-delta residual cancels in every
    utility; neuron 3 sees no data. The run stops "stationary" at L* = delta^2 / n (n = 4)."""
    delta = 0.1
    pts = [((1, 0), 1 + delta), ((1, 0), 1 - delta), ((-1, 0), 0.7), ((0, 1), -0.5)]
    data, p0 = orth_problem(pts, NEURONS)
    m = agf.TwoLayer(2, 1, 4, "relu")
    res = agf.run_agf(m, data, p0)
    assert res.status == "stationary" and res.message == AGF_STATUS["stationary"]
    assert res.order == [0, 1, 2]
    assert res.levels[-1] == pytest.approx(delta ** 2 / 4, rel=1e-8)
    c = np.log(1 / RHO)
    np.testing.assert_allclose(res.jump_times, 4 * c[:3] / np.array([2.0, 0.7, 0.5]), rtol=1e-8)
    assert res.stats["n_dormant_steps"] < 1000


def test_stationary_without_any_jump_relu():
    """Every input appears twice with opposite targets: U = 0 for every direction, L0 > 0."""
    X = np.array([[1.0, 0.3], [1.0, 0.3], [-0.2, 1.0], [-0.2, 1.0]])
    Y = np.array([1.0, -1.0, 0.5, -0.5])
    m = agf.TwoLayer(2, 1, 3, "relu")
    res = agf.run_agf(m, agf.Dataset(X, Y), m.init(1e-3, seed=0))
    assert res.status == "stationary" and res.n_jumps == 0
    np.testing.assert_allclose(res.levels, [0.5 * np.mean(Y ** 2)], rtol=1e-14)


def test_stationary_without_any_jump_linear_frame():
    """Linear network (dormant frame): targets orthogonal to the columns of X, so
    M = E[r x^T] = 0."""
    rng = np.random.default_rng(1)
    Q, _ = np.linalg.qr(rng.normal(size=(10, 10)))
    X, Y = Q[:, :3], Q[:, 3:5]
    m = agf.TwoLayer(3, 2, 3, "linear")
    res = agf.run_agf(m, agf.Dataset(X, Y), m.init(1e-3, seed=0))
    assert res.status == "stationary" and res.n_jumps == 0
    assert res.levels[0] == pytest.approx(0.5 * np.sum(Y ** 2) / 10, rel=1e-14)


def test_zero_targets_stop_immediately():
    X = np.random.default_rng(0).normal(size=(5, 2))
    m = agf.TwoLayer(2, 1, 3, "relu")
    res = agf.run_agf(m, agf.Dataset(X, np.zeros(5)), m.init(1e-3, seed=0))
    assert res.status == "loss_tol" and res.n_jumps == 0 and res.levels.tolist() == [0.0]


# ------------------------------------------------------------------ rule 5: exports
@pytest.mark.parametrize("name", ["AGFBasinWarning", "AGFConvergenceWarning",
                                  "AGFApproximationWarning"])
def test_warning_classes_exported(name):
    cls = getattr(agf, name)
    assert name in agf.__all__
    assert cls is getattr(RUN_AGF, name)
    assert issubclass(cls, Warning) and issubclass(cls, UserWarning)


# ------------------------------------------------------------------ cost-minimization arguments
@pytest.mark.parametrize("kw", [
    dict(cost_method="newton"), dict(cost_method="AUTO"), dict(cost_method=None),
    dict(cost_ftol=-1e-3), dict(cost_ftol=float("nan")), dict(cost_ftol=1.0),
    dict(cost_polish=-1.0), dict(cost_polish=float("nan")), dict(cost_polish=float("inf")),
    dict(cost_max_steps=0), dict(cost_max_steps=-5),
    dict(cost_rtol=0.0), dict(cost_rtol=-1e-6),
], ids=lambda kw: f"{next(iter(kw))}={next(iter(kw.values()))}")
def test_cost_arguments_validated(kw):
    data, p0 = orth_problem(POINTS, NEURONS)
    m = agf.TwoLayer(2, 1, 4, "relu")
    with pytest.raises(agf.ConfigError):
        agf.run_agf(m, data, p0, **kw)


@pytest.mark.parametrize("method", ["explicit", "implicit", "rosw"])
def test_cost_methods_reach_the_same_levels(method):
    data, p0 = orth_problem(POINTS, NEURONS)
    m = agf.TwoLayer(2, 1, 4, "relu")
    res = agf.run_agf(m, data, p0, cost_method=method)
    want = [0.5 * np.sum(Y3[k:] ** 2) / 3 for k in range(3)]
    np.testing.assert_allclose(res.levels[:3], want, rtol=1e-9)
    assert res.status == "loss_tol"


def test_cost_max_steps_hit_is_noted_and_warned():
    """One step per cost minimization: every round is recorded as not converged (note, warning,
    counter) and its level is the loss of its recorded features, above the converged level."""
    data, p0 = orth_problem(POINTS, NEURONS)
    m = agf.TwoLayer(2, 1, 4, "relu")
    with pytest.warns(agf.AGFConvergenceWarning) as rec:
        res = agf.run_agf(m, data, p0, cost_max_steps=1, max_rounds=2)
    n_warn = sum(issubclass(w.category, agf.AGFConvergenceWarning) for w in rec)
    acts = [e for e in res.events if e["kind"] == "activate"]
    assert len(acts) == 2 == n_warn == res.stats["n_cost_not_converged"]
    assert all(e.get("note") == "cost minimization not converged" for e in acts)
    assert res.stats["n_cost_steps"] == 2
    converged = [0.5 * np.sum(Y3[k:] ** 2) / 3 for k in (1, 2)]
    for k in range(2):
        lvl = np_loss(RELU, data, res.features[k])
        assert res.levels[k + 1] == pytest.approx(lvl, rel=1e-12)
        assert lvl > converged[k] * (1 + 1e-3)
    # the converged run has no note
    res2 = agf.run_agf(m, data, p0, max_rounds=2)
    assert all("note" not in e for e in res2.events)
