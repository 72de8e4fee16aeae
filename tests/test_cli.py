"""The agf command: version, list, reproduce (figures and table), argument errors (exit 2)."""

from __future__ import annotations

import re
import subprocess
import sys

import numpy as np
import pytest

import agf
from agf.cli import main


def test_version_subprocess():
    out = subprocess.run([sys.executable, "-m", "agf.cli", "--version"], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == f"agf {agf.__version__}"


def test_list(capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    for name in ("diagonal-2d", "diagonal-5d", "linear", "attention", "modular", "relu"):
        assert name in out


def test_reproduce_writes_figures_and_table(tmp_path, capsys):
    assert main(["reproduce", "diagonal-2d", "--alpha", "1e-6", "--out", str(tmp_path), "--threads", "1"]) == 0
    out = capsys.readouterr().out
    assert "predicted_level" in out and "gf_level" in out and "matched" in out
    # where each run ends: AGF's last level is exactly 0 (beta* reached), gradient flow's loss
    # is tiny at its horizon (1.25 x the last predicted jump, 47.765 at alpha 1e-6)
    end = re.search(r"final loss \(canonical\): agf (\S+), gf (\S+) at t = (\S+)", out)
    assert end is not None, out
    assert float(end[1]) == 0.0 and 0 <= float(end[2]) < 1e-8 and float(end[3]) > 47.765
    assert (tmp_path / "diagonal_2d_loss.png").stat().st_size > 10_000
    assert (tmp_path / "diagonal_2d_features.png").stat().st_size > 10_000
    # the data behind them: the table as CSV, AGF's result and the gradient-flow trajectory
    import pandas as pd

    table = pd.read_csv(tmp_path / "diagonal_2d_table.csv")
    assert list(table["gf_status"]) == ["matched"] * 3
    res = agf.AGFResult.load(tmp_path / "diagonal_2d_agf.npz")
    np.testing.assert_allclose(res.rescaled_times, table["predicted_rescaled_time"], rtol=1e-3)
    gf = agf.Trajectory.load(tmp_path / "diagonal_2d_gf.npz")
    assert gf.t[-1] == pytest.approx(float(end[3]), rel=1e-4)
    assert gf.loss_canonical[-1] == pytest.approx(float(end[2]), rel=1e-4, abs=0)


@pytest.mark.parametrize("argv", [
    ["reproduce", "nope"],
    ["reproduce", "diagonal-2d", "--alpha", "2"],
    ["reproduce", "diagonal-2d", "--alpha", "abc"],
    ["reproduce", "diagonal-2d", "--seed", "-1"],
    ["reproduce"],
    ["sweep", "diagonal-2d", "--alpha", "0"],
    ["sweep", "diagonal-2d", "--seed"],
    ["sweep", "diagonal-2d", "--backend", "mpi"],
    ["sweep", "diagonal-2d", "--scheduler", "tcp://127.0.0.1:1"],
    ["frobnicate"],
    [],
])
def test_bad_arguments_exit_2(argv, capsys):
    with pytest.raises(SystemExit) as exc:
        code = main(argv)
        raise SystemExit(code)
    assert exc.value.code == 2


def test_sweep_writes_one_row_per_run(tmp_path, capsys):
    """agf sweep over two alphas and two seeds in two local processes: 4 rows in the CSV, and
    gradient flow's drop times approach the theory's as alpha shrinks (method 6.1: AGF is the
    alpha -> 0 limit)."""
    import pandas as pd

    out = tmp_path / "s.csv"
    argv = ["sweep", "diagonal-2d", "--alpha", "1e-2", "1e-6", "--seed", "0", "1", "--workers", "2", "--out", str(out)]
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert "gf_time_err_0" in printed and f"wrote {out} (4 runs" in printed
    t = pd.read_csv(out)
    assert list(t["alpha"]) == [1e-2, 1e-2, 1e-6, 1e-6] and list(t["seed"]) == [0, 1, 0, 1]
    assert (t["agf_n_jumps"] == 3).all() and "error" not in t
    for k in range(3):
        assert t[f"gf_time_err_{k}"].iloc[2] < t[f"gf_time_err_{k}"].iloc[0] < 0.2
        assert t[f"agf_time_err_{k}"].max() < 1e-6  # AGF against the theory: exact on 6.1
