"""agf.gradient_flow against independent references: SciPy's DOP853 at tight tolerances on the
numpy gradient of conftest.py, and the exact solution of a single dormant diagonal coordinate
over its plateau and drop (method section 5a)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings, strategies as st
from scipy.integrate import quad, solve_ivp
from scipy.special import expit

import agf

FAMILIES = [("linear", None), ("relu", None), ("square", None), ("tanh", None), ("gelu", None),
            ("monomial", 3), ("diagonal", None)]
IDS = [n if k is None else f"{n}{k}" for n, k in FAMILIES]


def scipy_flow(grad, theta0, T, t_eval=None, events=None):
    sol = solve_ivp(lambda t, y: -grad(y)[1], (0.0, T), theta0, method="DOP853", rtol=1e-12,
                    atol=1e-14, t_eval=t_eval, events=events)
    assert sol.status in (0, 1), sol.message
    return sol


def random_problem(ref, family, n, d, c, H, seed):
    """A small network at small-ish initialization on a noisy teacher (so the loss has a floor
    well above 0 and relative loss errors stay meaningful)."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    if family[0] == "diagonal":
        model = agf.DiagonalLinear(d)
        Y = X @ (2.0 * rng.normal(size=d)) + 0.3 * rng.normal(size=n)
        p0 = model.params(u=1e-2 * rng.normal(size=d), v=1e-2 * rng.normal(size=d))
        return model, agf.Dataset(X, Y), p0, ref.numpy_flat_grad(model, None, X, Y), 8.0
    model = agf.TwoLayer(d, c, H, family[0], degree=family[1])
    Y = ref.tl_forward(family, X, rng.normal(size=(2, d)) / np.sqrt(d), rng.normal(size=(2, c)))
    Y = 2.0 * Y / max(np.sqrt(np.mean(Y**2)), 1e-3) + 0.3 * rng.normal(size=(n, c))  # RMS 2 teacher
    alpha = {"square": 0.3, "monomial": 0.5, "relu": 0.5}.get(family[0], 1e-2)
    T = {"relu": 2.0, "square": 6.0, "monomial": 5.0}.get(family[0], 8.0)
    p0 = model.init(alpha, seed=seed)
    return model, agf.Dataset(X, Y), p0, ref.numpy_flat_grad(model, family, X, Y), T


def relu_horizon(model, data, p0, grad, T):
    """90% of the time of the first kink crossing (some w_i . x_n reaching 0) within [0, T]."""
    H, d = model.width, model.d_in
    events = []
    for j in range(data.n):
        for i in range(H):
            def ev(t, y, j=j, i=i):
                return data.X[j] @ y[i * d:(i + 1) * d]
            ev.terminal = True
            events.append(ev)
    sol = scipy_flow(grad, p0.to_vector(), T, events=events)
    return 0.9 * sol.t[-1] if sol.status == 1 else T


@pytest.mark.parametrize("family", FAMILIES, ids=IDS)
@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(shape=st.tuples(st.integers(4, 12), st.integers(1, 4), st.integers(1, 3), st.integers(1, 3)),
       seed=st.integers(0, 2**32 - 1))
def test_gradient_flow_matches_dop853(ref, family, shape, seed):
    model, data, p0, grad, T = random_problem(ref, family, *shape, seed)
    if family[0] == "relu":
        T = relu_horizon(model, data, p0, grad, T)
        assume(T > 0.05)
    grid = np.linspace(0.0, T, 41)
    sol = scipy_flow(grad, p0.to_vector(), T, t_eval=grid)
    tr = agf.gradient_flow(model, data, p0, T, rtol=1e-10, save_at=grid, save_params=True)

    assert tr.status == "success" and tr.kind == "gradient_flow"
    np.testing.assert_array_equal(tr.t, grid)  # saved at exactly the requested times
    loss_ref = np.array([grad(y)[0] for y in sol.y.T])
    norms_ref = np.array([model.neuron_norms(y) for y in sol.y.T])
    assert np.max(np.abs(tr.loss - loss_ref) / loss_ref) < 1e-6
    assert np.max(np.abs(tr.norms - norms_ref) / norms_ref) < 1e-6
    # parameters, neuron by neuron relative to the neuron's norm
    for k in range(len(grid)):
        err = model.neuron_norms(tr.param_vectors[k] - sol.y[:, k])
        assert np.all(err <= 1e-6 * norms_ref[k]), (k, err, norms_ref[k])
    np.testing.assert_array_equal(tr.final_params.to_vector(), tr.param_vectors[-1])
    assert tr.stats["n_steps"] > 0 and tr.stats["n_grad"] >= 6 * tr.stats["n_steps"]


def test_loss_scale_changes_reported_loss_not_time(ref):
    model, data, p0, grad, _ = random_problem(ref, ("tanh", None), 8, 3, 2, 3, 0)
    grid = np.linspace(0, 2.0, 11)
    a = agf.gradient_flow(model, data, p0, 2.0, save_at=grid)
    b = agf.gradient_flow(model, data, p0, 2.0, save_at=grid, loss_scale=agf.units.mse_loss_scale(2))
    np.testing.assert_array_equal(a.t, b.t)
    np.testing.assert_allclose(b.loss, a.loss * 1.0, rtol=1e-15)  # 2/c = 1 for c = 2
    c = agf.gradient_flow(model, data, p0, 2.0, save_at=grid, loss_scale=0.1)
    np.testing.assert_allclose(c.loss, 0.1 * a.loss, rtol=1e-14)
    np.testing.assert_allclose(c.loss_canonical, a.loss, rtol=1e-14)
    np.testing.assert_allclose(c.t_scaled, grid / 0.1)


# ------------------------------------------------------ one diagonal coordinate, exactly solved
class DormantCoordinate:
    """Exact gradient flow of L = (x u v - y)^2 / 2 (d = n = 1) from u = sqrt(2) alpha, v = 0.

    The balance delta = u^2 - v^2 = 2 alpha^2 is conserved, q = u^2 + v^2 = ||theta||^2 =
    sqrt(delta^2 + 4 beta^2) and d beta/dt = x (y - x beta) q. With beta = (delta/2) sinh(phi)
    this is d phi/dt = 2 x^2 (b - (delta/2) sinh phi), b = y/x, solved with z = e^phi:

        t(z) = [log((z - z-)/(z+ - z)) - log((1 - z-)/(z+ - 1))] / (x^2 S),
        S = sqrt(4 b^2 + delta^2),  z+- = (2b +- S)/delta,

    and inverted in closed form; q = (delta/2)(z + 1/z), beta = (delta/4)(z - 1/z).
    """

    def __init__(self, alpha, x, y):
        assert x > 0 and y > 0
        self.delta, self.k, self.b = 2 * alpha**2, x * x, y / x
        self.S = np.sqrt(4 * self.b**2 + self.delta**2)
        self.zp = (2 * self.b + self.S) / self.delta
        self.zm = -self.delta / (2 * self.b + self.S)  # (2b - S)/delta without cancellation
        self.c0 = (1 - self.zm) / (self.zp - 1)

    def z(self, t):
        log_c = self.k * self.S * np.asarray(t, float) + np.log(self.c0)  # z = (c z+ + z-)/(1 + c)
        return self.zp * expit(log_c) + self.zm * expit(-log_c)

    def q(self, t):
        z = self.z(t)
        return 0.5 * self.delta * (z + 1 / z)

    def beta(self, t):
        z = self.z(t)
        return 0.25 * self.delta * (z - 1 / z)

    def t_of_beta(self, beta):
        z = (2 * beta + np.sqrt(self.delta**2 + 4 * beta**2)) / self.delta
        return (np.log((z - self.zm) / (self.zp - z)) - np.log(self.c0)) / (self.k * self.S)

    def t_of_beta_quad(self, beta):
        """The same time by quadrature of d phi / (2 k (b - (delta/2) sinh phi))."""
        phi = np.arcsinh(2 * beta / self.delta)
        val, _ = quad(lambda f: 1.0 / (2 * self.k * (self.b - 0.5 * self.delta * np.sinh(f))), 0.0, phi,
                      epsabs=0.0, epsrel=1e-13, limit=200)
        return val


ALPHA, XV, YV = 1e-12, 1.3, 0.9


@pytest.mark.parametrize("alpha", [ALPHA, 1e-100])
def test_dormant_coordinate_reference_is_consistent(alpha):
    """The closed form agrees with quadrature, with the section 5a cosh law on the plateau, and
    solves the ODE (checked by differentiating it numerically)."""
    ex = DormantCoordinate(alpha, XV, YV)
    for beta in [1e-20, 1e-9, 0.1, 0.35, 0.6, 0.68]:
        assert abs(ex.t_of_beta(beta) - ex.t_of_beta_quad(beta)) <= 1e-11 * ex.t_of_beta_quad(beta)
        assert abs(ex.beta(ex.t_of_beta(beta)) - beta) <= 1e-9 * beta
    g = XV * YV  # |dL/dbeta| at beta = 0
    t = np.linspace(0, 12, 7)  # beta still < 1e-12 here
    np.testing.assert_allclose(ex.q(t), 2 * alpha**2 * np.cosh(2 * g * t), rtol=1e-9)
    t_half = ex.t_of_beta(YV / XV / 2)
    for t in t_half + np.array([-15.0, -1.75, 1.25, 3.25]):  # plateau, drop, end of the drop
        h = 1e-4
        dbeta = (ex.beta(t + h) - ex.beta(t - h)) / (2 * h)
        rhs = XV * (YV - XV * ex.beta(t)) * ex.q(t)
        assert abs(dbeta - rhs) <= 1e-7 * abs(rhs)


@pytest.mark.parametrize("alpha", [ALPHA, 1e-100])
def test_dormant_coordinate_plateau_and_drop(alpha):
    model = agf.DiagonalLinear(1)
    data = agf.Dataset([[XV]], [YV])
    p0 = model.init(alpha)
    np.testing.assert_array_equal(p0["u"], [np.sqrt(2) * alpha])
    np.testing.assert_array_equal(p0["v"], [0.0])
    ex = DormantCoordinate(alpha, XV, YV)
    b_star = YV / XV
    t_half = ex.t_of_beta(b_star / 2)  # middle of the drop, ~ log(1/alpha^2)/(2 x y)
    assert abs(t_half - np.log(1 / ex.delta) / (2 * XV * YV)) < 1.0
    T = 1.5 * t_half
    grid = np.linspace(0.0, T, 301)

    # norm crosses 1 (q = 1) in the middle of the drop; the loss falls below 1% of its start
    t_norm = ex.t_of_beta(np.sqrt(1 - ex.delta**2) / 2)
    loss0 = 0.5 * YV**2
    s = 2.0  # the LossBelow threshold is in the run's loss convention
    beta_loss = b_star - np.sqrt(2 * 0.01 * loss0) / XV
    t_loss = ex.t_of_beta(beta_loss)
    events = [agf.NormCrosses(0, 1.0), agf.LossBelow(s * 0.01 * loss0, terminal=False)]
    tr = agf.gradient_flow(model, data, p0, T, rtol=1e-10, save_at=grid, events=events,
                           save_params=True, loss_scale=s)

    q = ex.q(grid)
    assert np.max(np.abs(tr.norms[:, 0] ** 2 - q) / q) <= 1e-6
    beta = np.array([pp["u"][0] * pp["v"][0] for pp in tr.params])
    np.testing.assert_allclose(beta, ex.beta(grid), rtol=1e-6, atol=1e-6 * b_star)
    np.testing.assert_allclose(tr.loss_canonical, 0.5 * (XV * ex.beta(grid) - YV) ** 2, rtol=1e-6,
                               atol=1e-12)
    # the balance u^2 - v^2 is conserved over the whole run, to the plateau's relative accuracy
    bal = np.array([pp["u"][0] ** 2 - pp["v"][0] ** 2 for pp in tr.params])
    assert np.all(np.abs(bal - ex.delta) <= 1e-6 * ex.delta + 1e-15 * q)

    assert [type(e.event) for e in tr.events] == [agf.NormCrosses, agf.LossBelow]
    ev_norm, ev_loss = tr.events
    assert ev_norm.direction == 1 and ev_loss.direction == -1
    assert abs(ev_norm.t - t_norm) <= 1e-8 * t_norm, (ev_norm.t, t_norm)
    assert abs(ev_loss.t - t_loss) <= 1e-8 * t_loss, (ev_loss.t, t_loss)
    assert abs(ev_loss.loss - s * 0.01 * loss0) <= 1e-6 * s * 0.01 * loss0


def test_terminal_event_ends_the_run():
    model = agf.DiagonalLinear(1)
    data = agf.Dataset([[XV]], [YV])
    ex = DormantCoordinate(ALPHA, XV, YV)
    t_norm = ex.t_of_beta(np.sqrt(1 - ex.delta**2) / 2)
    grid = np.linspace(0, 40.0, 81)
    tr = agf.gradient_flow(model, data, model.init(ALPHA), 40.0, rtol=1e-10, save_at=grid,
                           events=[agf.NormCrosses(0, 1.0, terminal=True)])
    assert tr.status == "event"
    assert abs(tr.t[-1] - t_norm) <= 1e-8 * t_norm
    assert abs(tr.stats["t_final"] - t_norm) <= 1e-8 * t_norm
    np.testing.assert_array_equal(tr.t[:-1], grid[grid < tr.t[-1]])
    assert abs(tr.norms[-1, 0] - 1.0) <= 1e-8
    assert abs(model.neuron_norms(tr.final_params)[0] - 1.0) <= 1e-8


EVENT_FAMILIES = [("linear", None), ("square", None), ("tanh", None), ("gelu", None), ("diagonal", None)]


@pytest.mark.parametrize("family", EVENT_FAMILIES, ids=[f[0] for f in EVENT_FAMILIES])
@settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**32 - 1))
def test_events_match_scipy_event_location(ref, family, seed):
    """NormCrosses (up / down / any) and LossBelow located by agf agree with SciPy's event
    location on the DOP853 solution (both on dense output) to 1e-7 relative."""
    model, data, p0, grad, T = random_problem(ref, family, 10, 3, 2, 3, seed)
    sol = scipy_flow(grad, p0.to_vector(), T, t_eval=np.linspace(0, T, 201))
    loss = np.array([grad(y)[0] for y in sol.y.T])
    norms = np.array([model.neuron_norms(y) for y in sol.y.T])
    i = int(np.argmax(np.abs(np.log(norms[-1] / norms[0]))))  # the neuron that moved most
    level_n = np.sqrt(norms[0, i] * norms[-1, i])  # geometric midpoint of its norm
    level_l = 0.5 * (loss[0] + loss[-1])
    assume(abs(np.log(norms[-1, i] / norms[0, i])) > 0.1 and loss[-1] < 0.9 * loss[0])

    def ev_norm(t, y):
        return model.neuron_norms(y)[i] ** 2 / level_n**2 - 1

    def ev_loss(t, y):
        return grad(y)[0] / level_l - 1

    ref_sol = scipy_flow(grad, p0.to_vector(), T, events=[ev_norm, ev_loss])
    t_norm, t_loss = ref_sol.t_events
    assume(len(t_loss) == 1)
    s = 3.0
    events = [agf.NormCrosses(i, level_n, direction="any"), agf.LossBelow(s * level_l, terminal=False),
              agf.NormCrosses(i, level_n, direction="up"), agf.NormCrosses(i, level_n, direction="down")]
    tr = agf.gradient_flow(model, data, p0, T, rtol=1e-10, events=events, loss_scale=s, save_at=[0.0, T])
    by_kind = {k: [e for e in tr.events if e.event is events[k]] for k in range(4)}
    got_any = np.array([e.t for e in by_kind[0]])
    assert got_any.shape == t_norm.shape
    np.testing.assert_allclose(got_any, t_norm, rtol=1e-7)
    assert [e.t for e in by_kind[1]] == pytest.approx(list(t_loss), rel=1e-7)
    assert by_kind[1][0].loss == pytest.approx(s * level_l, rel=1e-7)
    ups = [e.t for e in by_kind[0] if e.direction == 1]
    downs = [e.t for e in by_kind[0] if e.direction == -1]
    assert [e.t for e in by_kind[2]] == ups and [e.t for e in by_kind[3]] == downs
    assert list(tr.event_times) == sorted(tr.event_times)  # reported in time order
