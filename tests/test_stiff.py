"""The stiff integrators ("implicit": RODAS4 with the exact Hessian; "auto": Dormand-Prince /
RODAS4 switching) against the explicit method and SciPy's DOP853, and on method section 6.5."""

import numpy as np
import pytest
from scipy.integrate import solve_ivp

import agf


def small_problem(act="tanh", seed=0, n=12, d=3, c=2, H=4, alpha=0.5):
    rng = np.random.default_rng(seed)
    model = agf.TwoLayer(d, c, H, act)
    data = agf.Dataset(rng.normal(size=(n, d)), rng.normal(size=(n, c)))
    return model, data, model.init(alpha, seed=seed)


def scipy_reference(model, data, p0, t_eval, rtol=1e-12):
    def f(t, y):
        return -model._core.loss_grad(data.X, data.Y, np.ascontiguousarray(y))[1]
    sol = solve_ivp(f, (0, t_eval[-1]), p0.to_vector(), method="DOP853", t_eval=t_eval, rtol=rtol, atol=1e-14)
    return np.array([model._core.loss_grad(data.X, data.Y, np.ascontiguousarray(y))[0] for y in sol.y.T])


@pytest.mark.parametrize("act", ["tanh", "square", "linear"])
@pytest.mark.parametrize("method", ["implicit", "auto"])
def test_stiff_methods_match_explicit_and_dop853(act, method):
    model, data, p0 = small_problem(act)
    T = 20.0
    save = np.linspace(0, T, 41)
    ref = scipy_reference(model, data, p0, save)
    for rtol in (1e-6, 1e-9):
        imp = agf.gradient_flow(model, data, p0, T, save_at=save, rtol=rtol, method=method)
        exp = agf.gradient_flow(model, data, p0, T, save_at=save, rtol=rtol, method="explicit")
        # Global error ~ (a few) x rtol relative on the loss along the whole curve.
        np.testing.assert_allclose(imp.loss, ref, rtol=50 * rtol, atol=1e-14)
        np.testing.assert_allclose(imp.loss, exp.loss, rtol=50 * rtol, atol=1e-14)
        assert imp.stats["method"] == method
        assert imp.stats["n_grad"] > 0
    if method == "implicit":
        assert imp.stats["n_hessian"] == imp.stats["steps_implicit"] > 0
        assert imp.stats["n_factorizations"] >= imp.stats["n_hessian"]


def test_stiff_events_at_the_same_times():
    model, data, p0 = small_problem("square", seed=3, alpha=0.3)
    L0 = model.loss(data, p0)
    ev = [agf.LossBelow(0.5 * L0, terminal=False), agf.NormCrosses(neuron=0, value=0.5, terminal=False)]
    runs = {m: agf.gradient_flow(model, data, p0, 30.0, rtol=1e-10, events=ev, method=m)
            for m in ("explicit", "implicit", "auto")}
    ref = [(e.event, e.t) for e in runs["explicit"].events]
    assert ref
    for m in ("implicit", "auto"):
        got = [(e.event, e.t) for e in runs[m].events]
        assert [g[0] for g in got] == [r[0] for r in ref]
        np.testing.assert_allclose([g[1] for g in got], [r[1] for r in ref], rtol=1e-7)


def test_stiff_keeps_tiny_neurons_relatively_accurate():
    # A neuron at norm 1e-12 must keep its relative accuracy (per-neuron error norm), also
    # through the linear solves of the implicit method.
    model, data, p0 = small_problem("square", seed=5, alpha=0.5)
    v = p0.to_vector().copy()
    blocks = model.from_vector(v)
    w, a = blocks["w"].copy(), blocks["a"].copy()
    w[1] *= 1e-12
    a[1] *= 1e-12
    p = model.params(w=w, a=a)
    save = np.linspace(0, 5.0, 11)
    ref = agf.gradient_flow(model, data, p, 5.0, save_at=save, rtol=1e-11, method="explicit")
    imp = agf.gradient_flow(model, data, p, 5.0, save_at=save, rtol=1e-8, method="implicit")
    np.testing.assert_allclose(imp.norms[:, 1], ref.norms[:, 1], rtol=1e-6)
    assert ref.norms[-1, 1] < 1e-9


def test_unknown_method():
    model, data, p0 = small_problem()
    with pytest.raises(agf.ConfigError):
        agf.gradient_flow(model, data, p0, 1.0, method="bdf")


# --- method section 6.5 ---------------------------------------------------------------------
def modular_addition_data(p=20):
    # Built inline (same construction as agf.tasks.modular_addition(p, "paper")).
    xh = np.zeros(p, complex)
    for xi, amp in [(1, 10.0), (3, 5.0), (5, 2.5)]:
        xh[xi] = xh[p - xi] = amp
    x = np.real(np.fft.ifft(xh))
    x -= x.mean()
    shifts = np.stack([np.roll(x, k) for k in range(p)])
    a, b = np.divmod(np.arange(p * p), p)
    return agf.Dataset(np.hstack([shifts[a], shifts[b]]), shifts[(a + b) % p])


# Drop times (canonical t at which the MSELoss crosses the midpoints between its levels) of a
# tight-tolerance reference: the explicit method (Dormand-Prince) at rtol=1e-9 over the whole
# horizon, seed 0. Too slow for a unit test (about 7e5 stability-limited steps, ~10 minutes);
# regenerate with `python bench/bench_stiff.py --reference` (2,639,528 gradient evaluations,
# 379,796 steps; levels 0.65625, 0.15627, 0.03125 at t = 5, 100, 600, final 9.58e-7).
REFERENCE_DROPS = [22.009566285794296, 207.58224881997296, 1452.7551169797066]


def test_modular_addition_staircase_auto():
    p = 20
    data = modular_addition_data(p)
    model = agf.TwoLayer(2 * p, p, 18, "square")
    p0 = model.init(1e-2, seed=0)
    s = 2.0 / p
    mids = (0.40625, 0.09375, 0.015625)
    ev = [agf.LossBelow(v, terminal=False) for v in mids]
    tr = agf.gradient_flow(model, data, p0, 2000.0, rtol=1e-6, loss_scale=s, method="auto", events=ev,
                           save_at=np.array([5.0, 100.0, 600.0, 2000.0]))
    # Plateau levels (MSELoss): before the first drop, between drops, and the final loss.
    np.testing.assert_allclose(tr.loss[:3], [0.65625, 0.15625, 0.03125], rtol=2e-3)
    assert tr.loss[-1] < 1e-4
    drops = [e.t for e in tr.events]
    assert len(drops) == 3
    np.testing.assert_allclose(drops, REFERENCE_DROPS, rtol=1e-2)
    # The issue's budget: fewer than 20,000 gradient evaluations over t' in [0, 2e4].
    print("section 6.5 auto:", tr.stats)
    assert tr.stats["n_grad"] < 20_000
    assert tr.stats["steps_implicit"] > 0 and tr.stats["steps_explicit"] > 0


# --- linear solvers, Rosenbrock-W ------------------------------------------------------------
@pytest.mark.parametrize("act", ["tanh", "square"])
@pytest.mark.parametrize("method", ["implicit", "auto", "rosw"])
def test_krylov_solver_matches_dense(act, method):
    # Conjugate gradients on Hessian-vector products against the dense Cholesky path and
    # DOP853: same loss curve to the tolerance, no dense Hessian formed.
    model, data, p0 = small_problem(act, seed=1)
    T = 20.0
    save = np.linspace(0, T, 41)
    ref = scipy_reference(model, data, p0, save)
    rtol = 1e-8
    dense = agf.gradient_flow(model, data, p0, T, save_at=save, rtol=rtol, method=method, linear_solver="dense")
    kry = agf.gradient_flow(model, data, p0, T, save_at=save, rtol=rtol, method=method, linear_solver="krylov")
    np.testing.assert_allclose(kry.loss, ref, rtol=50 * rtol, atol=1e-14)
    np.testing.assert_allclose(kry.loss, dense.loss, rtol=50 * rtol, atol=1e-14)
    assert kry.stats["n_hessian"] == 0 and kry.stats["n_factorizations"] == 0
    assert kry.stats["n_hvp"] > 0
    if method != "auto":
        assert dense.stats["n_hessian"] > 0


def test_krylov_keeps_tiny_neurons_relatively_accurate():
    model, data, p0 = small_problem("tanh", seed=5, alpha=0.5)
    w, a = model.from_vector(p0.to_vector())["w"].copy(), model.from_vector(p0.to_vector())["a"].copy()
    w[1] *= 1e-12
    a[1] *= 1e-12
    p = model.params(w=w, a=a)
    save = np.linspace(0, 5.0, 11)
    ref = agf.gradient_flow(model, data, p, 5.0, save_at=save, rtol=1e-11, method="explicit")
    kry = agf.gradient_flow(model, data, p, 5.0, save_at=save, rtol=1e-8, method="implicit", linear_solver="krylov")
    np.testing.assert_allclose(kry.norms[:, 1], ref.norms[:, 1], rtol=1e-6)


def test_rosw_reuses_hessians_and_factorizations():
    model, data, p0 = small_problem("tanh")
    save = np.linspace(0, 20.0, 41)
    ref = scipy_reference(model, data, p0, save)
    tr = agf.gradient_flow(model, data, p0, 20.0, save_at=save, rtol=1e-7, method="rosw")
    np.testing.assert_allclose(tr.loss, ref, rtol=50e-7, atol=1e-14)
    assert 0 < tr.stats["n_hessian"] < tr.stats["steps_implicit"]
    assert tr.stats["n_hessian"] <= tr.stats["n_factorizations"] < tr.stats["steps_implicit"]


def test_unknown_linear_solver():
    model, data, p0 = small_problem()
    with pytest.raises(agf.ConfigError):
        agf.gradient_flow(model, data, p0, 1.0, method="implicit", linear_solver="lu")


# --- mixed-precision linear solves (systems of >= 256 parameters) ----------------------------
def test_mixed_precision_solves_match_dop853_and_keep_tiny_neurons():
    # P = 12 * (20 + 8) = 336 >= 256: Cholesky in single precision, refined in double. The loss
    # curve must match DOP853 to the tolerance, and a neuron at norm 1e-12 keep its relative
    # accuracy, exactly as with double-precision solves.
    model, data, p0 = small_problem("tanh", seed=2, n=60, d=20, c=8, H=12, alpha=0.5)
    assert model.n_params >= 256
    T = 10.0
    save = np.linspace(0, T, 21)
    ref = scipy_reference(model, data, p0, save)
    for rtol in (1e-6, 1e-9):
        tr = agf.gradient_flow(model, data, p0, T, save_at=save, rtol=rtol, method="implicit")
        np.testing.assert_allclose(tr.loss, ref, rtol=50 * rtol, atol=1e-14)
        assert tr.stats["n_refine"] >= 6 * tr.stats["steps_implicit"] > 0  # every stage refined
        assert tr.stats["n_lu"] == 0
    blocks = model.from_vector(p0.to_vector())
    w, a = blocks["w"].copy(), blocks["a"].copy()
    w[3] *= 1e-12
    a[3] *= 1e-12
    p = model.params(w=w, a=a)
    ref = agf.gradient_flow(model, data, p, 5.0, save_at=save / 2, rtol=1e-11, method="explicit")
    imp = agf.gradient_flow(model, data, p, 5.0, save_at=save / 2, rtol=1e-8, method="implicit")
    assert imp.stats["n_refine"] > 0
    np.testing.assert_allclose(imp.norms[:, 3], ref.norms[:, 3], rtol=1e-6)
    np.testing.assert_allclose(imp.loss, ref.loss, rtol=1e-6)


def test_parallel_factorization_is_thread_independent():
    # The blocked Cholesky shares fixed pieces out to the threads: bitwise the same trajectory on
    # 1 and 2 threads (P = 336: single precision with refinement, 3 trailing pieces per block).
    model, data, p0 = small_problem("square", seed=4, n=60, d=20, c=8, H=12, alpha=0.5)
    runs = [agf.gradient_flow(model, data, p0, 5.0, rtol=1e-8, method="implicit", n_threads=k) for k in (1, 2)]
    assert runs[0].stats["n_refine"] > 0
    np.testing.assert_array_equal(runs[0].loss, runs[1].loss)
    np.testing.assert_array_equal(runs[0].final_params.to_vector(), runs[1].final_params.to_vector())
