"""agf.experiments end to end at small sizes: AGF and gradient flow against theory."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import agf
import agf.experiments as E


def _check_agf_vs_theory(res, level_rtol=1e-4, time_rtol=None):
    t = res.tables["agf"]
    assert list(t["label"]) == list(res.theory.order)
    assert (t["status"] == "matched").all(), t
    np.testing.assert_allclose(t["observed_level"], t["predicted_level"], rtol=level_rtol,
                               atol=level_rtol * res.theory.levels[0])
    if time_rtol is not None:
        np.testing.assert_allclose(t["observed_time"], t["predicted_time"], rtol=time_rtol)


def test_diagonal_2d(tmp_path):
    res = E.diagonal_2d(alpha=1e-8)
    assert res.agf.path == [0, 1, ~0, 0]
    _check_agf_vs_theory(res, time_rtol=1e-6)
    gf = res.tables["gf"]
    assert (gf["status"] == "matched").all()
    np.testing.assert_allclose(gf["observed_level"], res.theory.levels[1:], rtol=0.01, atol=1e-4)
    assert gf["time_rel_error"].max() < 0.05  # finite alpha: O(1/log(1/alpha))
    assert res.info["support"] == [0, 1]
    paths = res.plot(tmp_path)
    assert [p.rsplit("/", 1)[-1] for p in paths] == ["diagonal_2d_loss.png", "diagonal_2d_features.png"]
    assert all((tmp_path / p.rsplit("/", 1)[-1]).stat().st_size > 10_000 for p in paths)
    text = res.summary()
    assert "gf_level" in text and "agf_time" in text


def test_diagonal_5d_order_levels():
    res = E.diagonal_5d(alpha=1e-10)
    assert res.agf.order == [1, 2, 3, 0, 4] == res.theory.order
    _check_agf_vs_theory(res, time_rtol=1e-6)
    gf = res.tables["gf"]
    ok = gf["status"] == "matched"
    assert ok.sum() >= 4
    np.testing.assert_allclose(gf.loc[ok, "observed_level"], gf.loc[ok, "predicted_level"], rtol=0.01, atol=1e-3)


def test_linear_commuting_with_gd():
    res = E.linear(alpha=1e-6, d=3, gd=True)
    _check_agf_vs_theory(res)
    for key in ("gf", "gd"):
        t = res.tables[key]
        assert (t["status"] == "matched").all(), (key, t)
        np.testing.assert_allclose(t["observed_level"], t["predicted_level"], rtol=0.01, atol=1e-4)
    assert res.gd is not None and res.info["gd"]["lr"] == 0.01
    assert set(res.table.columns) >= {"gd_time", "gd_level_err", "agf_level", "gf_status"}


def test_modular_small():
    res = E.modular()
    assert res.theory.order == [1, 3, 5]
    t = res.tables["agf"]
    assert list(t["status"].isin(["matched", "substeps"])) == [True] * 3, t
    # AGF's level after each frequency against the theory's: within 1e-3 relative (the cost
    # minimizations stop on loss stagnation at cost_ftol = 5e-4; measured 4e-5 and 6.4e-4) and 0
    # at the end (the run stops at loss_tol = 1e-6 L(0))
    L0 = res.agf.levels[0]
    np.testing.assert_allclose(t["observed_level"], t["predicted_level"], rtol=1e-3, atol=1e-6 * L0)
    g = res.tables["gf"]
    assert g["status"].isin(["matched", "substeps"]).all(), g
    np.testing.assert_allclose(g["observed_level"], g["predicted_level"], rtol=0.01, atol=1e-2)
    # the observed times respect the theory's lower bounds
    assert (g["observed_time"] >= 0.99 * g["predicted_time"]).all()
    # every neuron that grew sits on one of the template's frequencies
    grown = np.asarray(res.info["dominant_fraction"]) > 0.9
    assert set(np.asarray(res.info["dominant_frequencies"])[grown]) <= {1, 3, 5}


def test_bad_arguments():
    with pytest.raises(agf.ConfigError):
        E.diagonal_2d(alpha=2.0)
    with pytest.raises(agf.ConfigError):
        E.modular(alpha="x")
    assert set(E.SETTINGS) == {"diagonal-2d", "diagonal-5d", "linear", "linear-noncommuting", "attention",
                               "modular", "relu"}


# --- method 6.4: linear attention -------------------------------------------------------------

# reference numbers of method 6.4 (canonical loss = 1/2 MSE), given to 4 digits
ATTENTION_LEVELS = [1.0, 0.5622, 0.3555, 0.2251, 0.1322]
ATTENTION_SINGULAR_VALUES = [0.0297, 0.0561, 0.0796, 0.1008]  # in the order learned


def _plateau_params(res):
    """Gradient-flow parameters at the middle of each detected plateau (plateau 0 = before the
    first drop), with the staircase they come from."""
    from agf.analysis import detect_staircase

    st = detect_staircase(res.gf, alpha=res.alpha)  # as compare() does for the "gf" table
    idx = [int(np.searchsorted(res.gf.t, 0.5 * (a + b))) for a, b in st.plateaus]
    return st, [res.gf.params[i] for i in idx]


def _check_attention_components(res, M, n_learned, rtol, atol):
    """M in the eigenbasis of Sigma (decreasing eigenvalue, the theory's indices): the components
    order[:n_learned] carry the predicted singular values (to rtol), every other entry (components
    not learned yet, off-diagonal couplings) is below atol."""
    _, V = np.linalg.eigh(res.task.info["Sigma"])
    V = V[:, ::-1]
    C = V.T @ M @ V
    learned = list(res.theory.order[:n_learned])
    sv = np.asarray(res.theory.extras["singular_values"])[:n_learned]
    np.testing.assert_allclose(np.diag(C)[learned], sv, rtol=rtol)
    rest = C.copy()
    rest[learned, learned] = 0.0
    assert np.abs(rest).max() < atol, (n_learned, C)


def test_attention():
    res = E.attention(n_threads=1)  # alpha = 1e-3, D = 4, N = 32, 5 heads, exact population loss
    assert (res.info["D"], res.info["N"], res.info["heads"], res.alpha) == (4, 32, 5, 1e-3)
    lam = np.array([1, 1 / 2, 1 / 3, 1 / 4])
    np.testing.assert_allclose(res.task.info["eigenvalues"], 2 * lam / lam.sum(), rtol=1e-12)
    th = res.theory
    sv = np.asarray(th.extras["singular_values"])

    # theory against the method's reference numbers (rtol 1e-3: they are rounded to 4 digits,
    # 0.0561 vs 0.056054 is the largest rounding, 8e-4)
    assert th.order == [0, 1, 2, 3]  # decreasing eigenvalue
    np.testing.assert_allclose(th.levels, ATTENTION_LEVELS, rtol=1e-3)
    np.testing.assert_allclose(sv, ATTENTION_SINGULAR_VALUES, rtol=1e-3)

    # AGF against theory: one jump per principal component (4 of the 5 heads), levels to 1e-3.
    # AGF's order lists heads, so the order of the components is read off its features: after
    # jump k the learned map holds exactly components order[:k+1], with the theory's singular
    # values. Measured: worst component 2.7e-5 relative (after the last jump, the cost
    # minimization's stopping rule), others <= 2e-10; off-diagonal entries <= 3e-7 (1e-5 of
    # the smallest singular value) -> rtol 1e-4 and atol 1e-4 * min(sv).
    _check_agf_vs_theory(res, level_rtol=1e-3)
    np.testing.assert_allclose(res.agf.levels, th.levels, rtol=1e-3)  # measured 5e-10
    assert res.agf.n_jumps == 4 and len(set(res.agf.order)) == 4
    for k, f in enumerate(res.agf.features):
        _check_attention_components(res, res.model.matrix(f), k + 1, rtol=1e-4,
                                    atol=1e-4 * sv.min())
    agf_sv = np.linalg.svd(res.model.matrix(res.agf.final_params), compute_uv=False)
    np.testing.assert_allclose(agf_sv[:4], np.sort(sv)[::-1], rtol=1e-4)

    # gradient flow against theory: four drops, one per predicted drop and in sequence, plateau
    # levels within 1% (measured <= 1.3e-7)
    g = res.tables["gf"]
    assert (g["status"] == "matched").all() and len(g) == 4, g
    assert np.all(np.diff(g["observed_time"]) > 0)
    np.testing.assert_allclose(g["observed_level"], th.levels[1:], rtol=0.01)
    # ... and the drops come in the predicted order: in the middle of the plateau after drop k
    # gradient flow holds components order[:k+1] at the theory's singular values. Measured:
    # learned components within 2e-10 relative, the others and the off-diagonal entries <= 1e-8
    # (still growing from alpha) -> rtol 1e-6; "not learned" = below 1e-3 of the smallest value.
    st, mids = _plateau_params(res)
    assert len(st.levels) == len(th.levels)
    for k, p in enumerate(mids):
        _check_attention_components(res, res.model.matrix(p), k, rtol=1e-6, atol=1e-3 * sv.min())
    # learned singular values at the end of gradient flow (measured: equal to theory to 4e-16)
    gf_sv = np.sort(res.info["learned_singular_values"])
    np.testing.assert_allclose(gf_sv, np.sort(sv), rtol=1e-6)
    np.testing.assert_allclose(gf_sv, np.sort(ATTENTION_SINGULAR_VALUES), rtol=1e-3)

    # times: the theory only bounds the first jump from below (41.5; AGF and gradient flow jump
    # at ~170); AGF's jump times predict gradient flow's (measured within 0.34%)
    for key in ("agf", "gf"):
        t = res.tables[key]
        assert t["observed_time"].iloc[0] >= t["predicted_time"].iloc[0] > 0
    gf_t, agf_t = (res.tables[key]["observed_time"] for key in ("gf", "agf"))
    np.testing.assert_allclose(gf_t, agf_t, rtol=0.02)


# --- method 6.3, non-commuting: the jump-time recursion of method 5b ---------------------------

def _linear_recursion_error(res):
    """AGF's rescaled jump times t / log(1/alpha) against the recursion of method 5b, computed
    independently by agf.theory.linear(Sxx, Syx): relative errors, and the recursion."""
    info = res.task.info
    th = agf.theory.linear(info["Sxx"], info["Syx"])
    rec = np.asarray(th.rescaled_times)
    return (res.agf.jump_times / np.log(1 / res.alpha) - rec) / rec, th


def test_linear_noncommuting():
    # The recursion is the alpha -> 0 limit of the rescaled times; at finite alpha AGF's jump
    # times differ from recursion * log(1/alpha) by an O(1) time (the directions of the dormant
    # neurons first have to align), i.e. by O(1/log(1/alpha)) in rescaled time. Measured (seed 0,
    # d = 5) max relative error 0.525 / log(1/alpha) for alpha = 1e-6 ... 1e-30: 3.8% at the
    # default alpha = 1e-6, 1.9% at 1e-12, 1.5% at 1e-15. The 2% requirement is checked at
    # alpha = 1e-15 (test_linear_noncommuting_finite_alpha covers the default alpha).
    res = E.linear_noncommuting(alpha=1e-15, n_threads=1)
    assert res.info["d"] == 5 and not res.task.info["commuting"]
    err, th = _linear_recursion_error(res)
    assert not th.extras["commuting"]
    rec = np.asarray(th.rescaled_times)
    np.testing.assert_allclose(rec, th.extras["recursion_times"])
    # the data really are non-commuting: the recursion is not the closed form 1/sigma_k(Syx)
    # (3.98 vs 5.64 and 7.10 vs 11.45 at jumps 2 and 3), so the check below tells them apart
    closed = 1 / np.linalg.svd(res.task.info["Syx"], compute_uv=False)
    assert np.abs(rec / closed - 1).max() > 0.2
    np.testing.assert_allclose(th.levels, res.theory.levels, rtol=1e-10, atol=1e-12)

    # AGF against theory: order, levels to 1e-4 relative (measured 1e-7), rescaled times within 2%
    # of the recursion (measured <= 1.52%), both in the comparison table and against the
    # independent theory above
    _check_agf_vs_theory(res, level_rtol=1e-4, time_rtol=0.02)
    # (the helper's atol is 1e-4 L(0), loose for the small last levels 3.3e-3 and 0)
    np.testing.assert_allclose(res.agf.levels, th.levels, rtol=1e-4, atol=1e-8 * th.levels[0])
    t = res.tables["agf"]
    np.testing.assert_allclose(t["predicted_rescaled_time"], rec, rtol=1e-12)
    np.testing.assert_allclose(t["observed_rescaled_time"], rec, rtol=0.02)
    assert np.abs(err).max() < 0.02, err
    # AGF's order, read off its features: after jump k the learned map A W is the k-th saddle of
    # the theory, beta(k+1) (reduced-rank regression; measured within 1e-5 relative)
    sad = th.extras["saddles"]
    from agf.analysis.features import linear_map

    assert res.agf.n_jumps == len(th.order) == 5
    for k, f in enumerate(res.agf.features):
        M = linear_map(f)
        assert np.linalg.norm(M - sad[k + 1]) <= 1e-4 * np.linalg.norm(sad[k + 1]), k

    # gradient flow: one drop per predicted drop, in sequence, plateau levels within 1% of the
    # theory (measured <= 6.4e-4 at this alpha; 3.3% at alpha = 1e-6, see below)
    g = res.tables["gf"]
    assert (g["status"] == "matched").all() and len(g) == 5, g
    assert np.all(np.diff(g["observed_time"]) > 0)
    np.testing.assert_allclose(g["observed_level"], g["predicted_level"], rtol=0.01,
                               atol=1e-6 * th.levels[0])  # the last level is 0
    # ... in the predicted order: in the middle of plateau k gradient flow's A W is nearest to
    # the saddle beta(k). Non-commuting gradient flow passes near, not through, the saddles:
    # measured relative distances <= 0.025 (the next saddle is >= 0.079 away: the last mode is
    # small), so 0.05.
    st, mids = _plateau_params(res)
    assert len(st.levels) == len(sad)
    for k, p in enumerate(mids):
        M = linear_map(p)
        scale = [max(np.linalg.norm(s), np.linalg.norm(sad[-1])) for s in sad]  # beta(0) = 0
        dist = [np.linalg.norm(M - s) / c for s, c in zip(sad, scale)]
        assert int(np.argmin(dist)) == k and dist[k] < 0.05, (k, dist)


def test_linear_noncommuting_finite_alpha():
    """At the experiment's default alpha = 1e-6 the requirements 'AGF within 2% of the recursion'
    and 'gradient-flow levels within 1%' are not met (measured 3.8% and 3.3%); what holds there,
    and that AGF's deviation is a finite-alpha correction: an O(1) offset in time, so that the
    rescaled error shrinks like 1/log(1/alpha)."""
    res = E.linear_noncommuting(n_threads=1)
    assert res.alpha == 1e-6
    _check_agf_vs_theory(res, level_rtol=1e-4, time_rtol=0.04)  # measured 3.8% (last jump)
    g = res.tables["gf"]
    assert (g["status"] == "matched").all(), g
    # measured 3.3e-3, 7.7e-3, 3.3e-2 (plateau 2), 4e-7, 3e-6: gradient flow at alpha = 1e-6 stays
    # visibly above the third saddle
    np.testing.assert_allclose(g["observed_level"], g["predicted_level"], rtol=0.04,
                               atol=1e-6 * res.theory.levels[0])
    err6, th = _linear_recursion_error(res)
    err15, _ = _linear_recursion_error(E.linear_noncommuting(alpha=1e-15, n_threads=1))
    # the same O(1) time offset at both alphas: err * log(1/alpha) agrees (measured to 1e-4)
    np.testing.assert_allclose(err6 * np.log(1e6), err15 * np.log(1e15), rtol=0.05, atol=1e-3)


def test_relu_small():
    """The ReLU teacher-student (no theory; AGF is the prediction): the first two drops of
    gradient flow match AGF's within 5% in time and 1% in level (measured 2.6% / 3.0% and
    5e-4 / 2e-3); AGF's third jump fits the teacher (loss ~1e-10) while gradient flow settles at
    ~0.011 (its third neuron grows late and lands elsewhere, measured 0.0109 at t = 350). The
    cost minimization that ends on a kink stops on the stagnation rule: no convergence warning."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", agf.AGFBasinWarning)  # the width-3 student's neurons share a basin
        res = E.relu()
    assert res.theory is None and res.agf.n_jumps == 3
    assert res.agf.stats["n_cost_not_converged"] == 0 and res.agf.levels[-1] < 1e-9
    t = res.tables["gf"]
    assert list(t["status"]) == ["matched", "matched", "missing", "extra"], t
    assert t["time_rel_error"].iloc[:2].max() < 0.05 and t["level_rel_error"].iloc[:2].max() < 0.01
    # gradient flow's own third drop, unmatched: later than AGF's and to a plateau near 0.011
    extra = t.iloc[3]
    assert extra["observed_time"] > res.agf.jump_times[2] and 5e-3 < extra["observed_level"] < 2e-2
    assert 5e-3 < res.gf.loss_canonical[-1] < 2e-2 and res.gf.t[-1] == pytest.approx(3 * res.agf.jump_times[-1])
