"""agf.analysis: staircase detection on synthetic curves, compare(), feature read-outs."""

from __future__ import annotations

import math

import numpy as np
import pytest

import agf
from agf.analysis import Staircase, compare, detect_staircase
from agf.analysis import features as F
from agf.theory import TheoryResult


def synth(times, levels, widths, t, noise=0.0, seed=0):
    """Sum of logistic drops: the midpoint between consecutive levels is crossed at times[k]."""
    L = np.full_like(t, float(levels[-1]))
    for k, (tk, w) in enumerate(zip(times, widths)):
        with np.errstate(over="ignore"):
            L += (levels[k] - levels[k + 1]) / (1.0 + np.exp((t - tk) / w))
    if noise:
        L = L * (1.0 + noise * np.random.default_rng(seed).normal(size=t.size))
    return L


T = np.linspace(0.0, 1000.0, 5001)
TIMES = [50.0, 200.0, 206.0, 600.0]
LEVELS = [10.0, 4.0, 3.0, 1.0, 0.0]
WIDTHS = [1.0, 0.5, 0.5, 2.0]


@pytest.mark.parametrize("noise,seed", [(0.0, 0), (0.01, 0), (0.01, 1), (0.02, 2), (0.03, 3)])
def test_staircase_keeps_substeps(noise, seed):
    st = detect_staircase((T, synth(TIMES, LEVELS, WIDTHS, T, noise, seed)))
    assert st.n_jumps == len(TIMES), st  # no spurious drops, none missing
    np.testing.assert_allclose(st.jump_times, TIMES, rtol=0.01)
    np.testing.assert_allclose(st.levels[:-1], LEVELS[:-1], rtol=0.02)
    assert st.levels[-1] < 1e-3 * LEVELS[0]
    assert st.converged


@pytest.mark.parametrize("noise", [0.0, 0.02])
def test_staircase_merges_substeps(noise):
    st = detect_staircase((T, synth(TIMES, LEVELS, WIDTHS, T, noise, 5)), merge=0.1)
    assert st.n_jumps == 3, st
    # the merged drop 4 -> 1 crosses its midpoint 2.5 between the two sub-steps
    assert 200.0 < st.jump_times[1] < 206.0
    np.testing.assert_allclose(st.jump_times[[0, 2]], [50.0, 600.0], rtol=0.01)
    np.testing.assert_allclose(st.levels[:-1], [10.0, 4.0, 1.0], rtol=0.02)


def test_staircase_geometric_times_nonuniform_sampling():
    # plateaus growing 1:8:64 (modular addition), log-spaced samples, final level not 0
    t = np.unique(np.concatenate([np.linspace(0, 900, 3000), np.geomspace(1e-2, 900, 2000)]))
    times, levels = [8.0, 64.0, 512.0], [0.65, 0.16, 0.031, 0.002]
    st = detect_staircase((t, synth(times, levels, [0.3, 1.0, 4.0], t, 0.01)), alpha=1e-2)
    np.testing.assert_allclose(st.jump_times, times, rtol=0.01)
    np.testing.assert_allclose(st.levels, levels, rtol=0.03)
    np.testing.assert_allclose(st.rescaled_times, st.jump_times / math.log(100.0))


def test_staircase_still_falling_and_errors():
    t = np.linspace(0, 100, 1001)
    L = synth([20.0], [5.0, 1.0], [0.5], t) * np.where(t > 60, np.exp(-(t - 60) / 5), 1.0)
    st = detect_staircase((t, L))
    assert st.n_jumps == 2 and not st.converged
    with pytest.raises(agf.ConfigError):
        detect_staircase((t, L[:-1]))
    with pytest.raises(agf.ConfigError):
        detect_staircase((t, L), merge=-1)
    with pytest.raises(agf.DataError):
        detect_staircase((t, -L))
    with pytest.raises(agf.ConfigError):
        detect_staircase("curve")


# ----------------------------------------------------------------------------- compare
def _theory(levels, rescaled, alpha):
    lv = np.asarray(levels, float)
    rs = np.asarray(rescaled, float)
    return TheoryResult(setting="diagonal", order=list(range(rs.size)), levels=lv, rescaled_times=rs, alpha=alpha,
                        _time_fn=lambda a: rs * math.log(1 / a))


def test_compare_theory_vs_agf_like_with_substeps():
    alpha = 1e-4
    L = math.log(1 / alpha)
    th = _theory([10.0, 4.0, 1.0, 0.0], [1.0, 3.0, 5.0], alpha)
    # AGF-like: drop 1 in two sub-steps, drop 2 exact, drop 3 with a tiny later extra step
    agf_like = Staircase(levels=np.array([10.0, 4.0, 2.5, 1.0, 0.0]),
                         jump_times=np.array([1.0, 3.0, 3.05, 5.0]) * L, rescaled_times=None,
                         order=[0, 1, 2, 3], plateaus=np.zeros((5, 2)), converged=True, alpha=alpha)
    df = compare(th, agf_like)
    assert list(df["status"]) == ["matched", "substeps", "matched"]
    assert df.loc[1, "n_observed_jumps"] == 2
    np.testing.assert_allclose(df["observed_level"], [4.0, 1.0, 0.0])
    np.testing.assert_allclose(df["observed_time"], np.array([1.0, 3.05, 5.0]) * L)  # crossing of 2.5
    df2 = compare(th, agf_like, time="first")
    np.testing.assert_allclose(df2["observed_time"], np.array([1.0, 3.0, 5.0]) * L)
    np.testing.assert_allclose(df2["observed_rescaled_time"], [1.0, 3.0, 5.0])
    assert df2["time_rel_error"].max() < 1e-12 and df2.attrs["max_level_rel_error"] < 1e-12


def test_compare_missing_merged_and_extra():
    th = _theory([10.0, 4.0, 1.0, 0.5], [1.0, 3.0, 5.0], 1e-4)
    # observed: drops 1 and 2 at once, never reaches 0.5 ... then an extra drop below nothing
    obs = Staircase(levels=np.array([10.0, 1.0]), jump_times=np.array([9.0]), rescaled_times=None, order=[0],
                    plateaus=np.zeros((2, 2)), converged=True)
    df = compare(th, obs)
    assert list(df["status"]) == ["merged", "merged", "missing"]
    assert np.isnan(df.loc[2, "observed_time"])
    obs2 = Staircase(levels=np.array([10.0, 4.0, 1.0, 0.5, 0.1]), jump_times=np.array([9.0, 20.0, 30.0, 40.0]),
                     rescaled_times=None, order=[0, 1, 2, 3], plateaus=np.zeros((5, 2)), converged=True)
    df = compare(th, obs2)
    assert list(df["status"]) == ["matched", "matched", "matched", "extra"]
    assert np.isnan(df.loc[3, "predicted_time"]) and df.loc[3, "observed_level"] == 0.1


def test_compare_theory_vs_gradient_flow_curve():
    alpha = 1e-6
    L = math.log(1 / alpha)
    th = _theory([10.0, 4.0, 1.0, 0.0], [0.5, 2.0, 6.0], alpha)
    t = np.linspace(0, 8 * L, 6001)
    curve = (t, synth(np.array([0.5, 2.0, 6.0]) * L * 1.01, [10.0, 4.0, 1.0, 0.0], [1.0, 1.0, 1.0], t, 0.005))
    df = compare(th, curve, alpha=alpha)
    assert list(df["status"]) == ["matched"] * 3
    np.testing.assert_allclose(df["time_rel_error"], 0.01, atol=3e-3)
    assert df.loc[:1, "level_rel_error"].max() < 0.01
    np.testing.assert_allclose(df["observed_rescaled_time"], np.array([0.5, 2.0, 6.0]) * 1.01, rtol=3e-3)
    with pytest.raises(agf.ConfigError):
        compare(th, curve, time="middle")
    with pytest.raises(agf.ConfigError):
        compare(th, object())


def test_compare_real_runs_diagonal_2d():
    import agf.theory

    task = agf.tasks.diagonal_2d()
    model = agf.DiagonalLinear(2)
    alpha = 1e-8
    p0 = model.init(alpha)
    th = agf.theory.diagonal(task.data.X, task.data.Y[:, 0], alpha=alpha)
    res = agf.run_agf(model, task.data, p0)
    df = compare(th, res)
    assert (df["status"] == "matched").all()
    assert df["time_rel_error"].max() < 1e-6 and df["level_rel_error"].max() < 1e-6
    gf = agf.gradient_flow(model, task.data, p0, 1.2 * th.jump_times[-1], method="auto",
                           save_at=np.linspace(0, 1.2 * th.jump_times[-1], 3001))
    df = compare(res, gf)
    assert (df["status"] == "matched").all()
    assert df["time_rel_error"].max() < 0.05
    assert df["level_rel_error"].max() < 0.01


# ----------------------------------------------------------------------------- features
def test_fourier_readout_known_frequencies():
    p, H = 13, 4
    n = np.arange(p)
    rng = np.random.default_rng(0)
    freqs = [1, 3, 6, 3]
    w = np.zeros((H, 2 * p))
    a = np.zeros((H, p))
    ph = rng.uniform(-np.pi, np.pi, size=(H, 3))
    for i, xi in enumerate(freqs):
        w[i, :p] = np.cos(2 * np.pi * xi * n / p + ph[i, 0])
        w[i, p:] = 2 * np.cos(2 * np.pi * xi * n / p + ph[i, 1])
        a[i] = np.cos(2 * np.pi * xi * n / p + ph[i, 2])
    a[3] += 0.1 * np.cos(2 * np.pi * 5 * n / p)  # a little power elsewhere
    ff = F.fourier({"w": w, "a": a})
    assert ff.dominant.tolist() == freqs
    np.testing.assert_allclose(ff.fraction[:3], 1.0, atol=1e-12)
    assert 0.99 < ff.fraction[3] < 1.0
    np.testing.assert_allclose(np.cos(ff.phases - ph), 1.0, atol=1e-10)  # phases at the dominant xi
    P = F.frequency_power({"w": w, "a": a})
    assert P.shape == (p // 2 + 1,) and np.argmax(P) == 3
    assert ff.to_dataframe().shape == (H, 7)
    with pytest.raises(agf.ConfigError):
        F.fourier({"w": w, "a": a}, p=7)


def test_svd_alignment_and_maps():
    rng = np.random.default_rng(1)
    U, _ = np.linalg.qr(rng.normal(size=(5, 5)))
    V, _ = np.linalg.qr(rng.normal(size=(4, 4)))
    s = np.array([4.0, 2.0, 1.0, 0.5])
    T = U[:, :4] * s @ V.T
    M = U[:, :2] * s[:2] @ V[:, :2].T  # the first two modes learned
    al = F.svd_alignment(M, T)
    np.testing.assert_allclose(al.singular_values[:2], s[:2])
    np.testing.assert_allclose(al.singular_values[2:], 0, atol=1e-12)
    np.testing.assert_allclose(al.left_cosines[:2], 1.0)
    np.testing.assert_allclose(al.right_cosines[:2], 1.0)
    np.testing.assert_allclose(al.target_singular_values, s)
    # linear map A W of a two-layer net and the attention matrix
    W = rng.normal(size=(3, 4))
    A = rng.normal(size=(3, 5))
    np.testing.assert_allclose(F.linear_map({"w": W, "a": A}), A.T @ W)
    v, k, q = rng.normal(size=3), rng.normal(size=(3, 4)), rng.normal(size=(3, 4))
    np.testing.assert_allclose(F.attention_matrix({"v": v, "k": k, "q": q}),
                               sum(v[i] * np.outer(k[i], q[i]) for i in range(3)))
    with pytest.raises(agf.ConfigError):
        F.svd_alignment(M, T[:4])


def test_support_and_signs():
    beta, supp, signs = F.support({"u": np.array([1.0, 2.0, 1e-9, -1.0]), "v": np.array([1.0, -1.0, 1.0, 0.5])})
    np.testing.assert_allclose(beta, [1.0, -2.0, 1e-9, -0.5])
    assert supp.tolist() == [0, 1, 3]
    assert signs.tolist() == [1, -1, 0, -1]
    _, supp, signs = F.support(np.zeros(3))
    assert supp.size == 0 and signs.tolist() == [0, 0, 0]
