"""agf.experiments end to end at small sizes: AGF and gradient flow against theory."""

from __future__ import annotations

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
    # minimizations stop on loss stagnation at cost_ftol = 5e-4; measured 5e-5 and 6e-4) and 0 at
    # the end (the run stops at loss_tol = 1e-6 L(0))
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
