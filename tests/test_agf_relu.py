"""AGF on a ReLU network (method 5e, synthetic teacher-student): the dormant phase crosses ReLU
kinks (forced steps at the dormant integrator's h_min) and the run matches gradient flow."""

import warnings

import sys

import numpy as np

import agf
from agf.tasks import teacher_student


def test_relu_teacher_student_agf_matches_gradient_flow():
    task = teacher_student(d=10, n=500, teacher_width=3, seed=0)
    model = agf.TwoLayer(10, task.data.d_out, 3, "relu")
    p0 = model.init(1e-3, seed=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # basin / convergence notes are not the subject here
        res = agf.run_agf(model, task.data, p0)
    assert len(res.jump_times) == 3 and sorted(res.order) == [0, 1, 2]
    assert np.all(np.diff(res.levels) < 0) and res.levels[-1] < 1e-8 * res.levels[0]
    gf = agf.gradient_flow(model, task.data, p0, 1.2 * res.jump_times[-1], h_min=1e-3,
                           save_at=np.linspace(0, 1.2 * res.jump_times[-1], 2001))
    table = agf.compare(res, gf)
    assert (table["status"] == "matched").all(), table
    # independent reference: gradient flow from the same initialization (alpha = 1e-3, so the
    # AGF approximation error is O(1/log(1/alpha)); measured 4.6%, 7.2%, 3.9%)
    assert table["time_rel_error"].max() < 0.10, table
    np.testing.assert_allclose(table["observed_level"].iloc[0], table["predicted_level"].iloc[0], rtol=0.02)


def test_relu_dormant_step_floor_is_relative_and_accurate(monkeypatch):
    """ReLU utilities have kinks along which a dormant direction slides; the dormant integrator
    accepts steps of 1e-3 of the time the fastest S needs to move by 1 there. On a random
    regression problem (n = 29, d = 5, c = 2, width 4, alpha 1e-3) that keeps a phase to a few
    thousand steps, and the jump times and levels agree with a 10x finer floor to 2e-4 (jump
    times) and 2e-5 (levels: the cost minimizations end on their step limit), with 5x fewer steps. (An absolute floor of 1e-3 took 1.4 million
    steps on a problem whose utilities are small.) Cost minimization on such non-realizable
    targets ends on its step limit (the gradient does not vanish at a minimum on a kink), which
    run_agf reports with AGFConvergenceWarning: ignored here."""
    warnings.simplefilter("ignore", agf.AGFConvergenceWarning)
    rng = np.random.default_rng(8)
    X, Y = rng.normal(size=(29, 5)), rng.normal(size=(29, 2))
    m = agf.TwoLayer(5, 2, 4, "relu")
    data, p0 = agf.Dataset(X, Y), m.init(1e-3, 8)
    default = agf.run_agf(m, data, p0, max_rounds=2)
    run_agf_module = sys.modules["agf.run_agf"]
    real = run_agf_module._core.agf_dormant
    monkeypatch.setattr(run_agf_module._core, "agf_dormant", lambda *a: real(*a[:-1], a[-1] * 0.1))
    finer = agf.run_agf(m, data, p0, max_rounds=2)
    assert default.n_jumps == finer.n_jumps == 2
    np.testing.assert_allclose(default.jump_times, finer.jump_times, rtol=2e-4)
    np.testing.assert_allclose(default.levels, finer.levels, rtol=2e-5)
    assert default.stats["n_dormant_steps"] < 20_000
    assert finer.stats["n_dormant_steps"] > 5 * default.stats["n_dormant_steps"]
