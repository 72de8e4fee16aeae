"""The agf command: version, list, reproduce (figures and table), argument errors (exit 2)."""

from __future__ import annotations

import subprocess
import sys

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
    assert (tmp_path / "diagonal_2d_loss.png").stat().st_size > 10_000
    assert (tmp_path / "diagonal_2d_features.png").stat().st_size > 10_000


@pytest.mark.parametrize("argv", [
    ["reproduce", "nope"],
    ["reproduce", "diagonal-2d", "--alpha", "2"],
    ["reproduce", "diagonal-2d", "--alpha", "abc"],
    ["reproduce", "diagonal-2d", "--seed", "-1"],
    ["reproduce"],
    ["frobnicate"],
    [],
])
def test_bad_arguments_exit_2(argv, capsys):
    with pytest.raises(SystemExit) as exc:
        code = main(argv)
        raise SystemExit(code)
    assert exc.value.code == 2
