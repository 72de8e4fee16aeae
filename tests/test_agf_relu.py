"""AGF on a ReLU network (method 5e, synthetic teacher-student): the dormant phase crosses ReLU
kinks (forced steps at the dormant integrator's h_min) and the run matches gradient flow."""

import warnings

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
