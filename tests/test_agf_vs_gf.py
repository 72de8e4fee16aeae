"""AGF against gradient flow from the same initial parameters on method section 6.2: jump times
in gradient flow are where the loss first crosses the midpoint between two AGF plateaus."""

import math

import numpy as np
import pytest

import agf


@pytest.fixture(scope="module")
def diag5d():
    rs = np.random.RandomState(10)
    X = rs.multivariate_normal(np.zeros(5), np.diag([1, 1 / 2, 1 / 3, 1 / 4, 1 / 5]), size=20)
    beta = 10 * rs.randn(5)
    return agf.Dataset(X, X @ beta)


def gap(data, alpha):
    m = agf.DiagonalLinear(5)
    p0 = m.init(alpha)
    res = agf.run_agf(m, data, p0)
    mids = 0.5 * (res.levels[:-1] + res.levels[1:])
    mids = mids[mids > 0]
    t_max = 1.3 * res.jump_times[-1]
    traj = agf.gradient_flow(m, data, p0, t_max, save_at=[0.0, t_max],
                             events=[agf.LossBelow(float(v), terminal=False) for v in mids], rtol=1e-10)
    t_gf = []
    for v in mids:
        hits = [e.t for e in traj.events if e.event.value == float(v) and e.direction < 0]
        t_gf.append(min(hits))
    t_gf = np.array(t_gf)
    L = math.log(1 / alpha)
    return float(np.max(np.abs(t_gf / L - res.rescaled_times[:len(t_gf)]) / res.rescaled_times[:len(t_gf)]))


def test_agf_converges_to_gradient_flow(diag5d):
    gaps = [gap(diag5d, a) for a in (1e-2, 1e-4, 1e-8, 1e-16)]
    assert all(b < a for a, b in zip(gaps, gaps[1:])), gaps
    assert gaps[2] < 0.10, gaps
    assert gaps[3] < 0.05, gaps
