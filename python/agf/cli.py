"""The ``agf`` command.

    agf --version
    agf list
    agf reproduce <setting> [--alpha A] [--seed S] [--out DIR] [--full] [--gd] [--threads N]

``reproduce`` runs gradient flow, AGF and theory for one of the paper's settings from one
initialization (:mod:`agf.experiments`), prints the comparison table and writes the figures
(``<setting>_loss.png``, ``<setting>_features.png``) and the data (``<setting>_table.csv``,
``<setting>_agf.npz``, ``<setting>_gf.npz``: :meth:`agf.AGFResult.load`,
:meth:`agf.Trajectory.load`) into ``--out`` (default ``out``); ``--no-plot`` prints only.
Bad arguments exit with status 2; an agf error during the run with status 1.
"""

from __future__ import annotations

import argparse
import math
import sys

__all__ = ["main"]


def _settings():
    from agf.experiments import SETTINGS

    return SETTINGS


SETTING_NAMES = ("diagonal-2d", "diagonal-5d", "linear", "linear-noncommuting", "attention", "modular", "relu")


def _alpha(text: str) -> float:
    try:
        a = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not (math.isfinite(a) and 0 < a < 1):
        raise argparse.ArgumentTypeError(f"alpha must be in (0, 1), got {text}")
    return a


def _positive_int(text: str) -> int:
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if v < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {v}")
    return v


def _nonneg_int(text: str) -> int:
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if v < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {v}")
    return v


def _parser() -> argparse.ArgumentParser:
    from agf import __version__

    ap = argparse.ArgumentParser(prog="agf", description="Alternating Gradient Flows: reproduce the paper's settings.")
    ap.add_argument("--version", action="version", version=f"agf {__version__}")
    sub = ap.add_subparsers(dest="command", metavar="{reproduce,list}")
    sub.add_parser("list", help="list the settings of 'agf reproduce'")
    rp = sub.add_parser("reproduce", help="gradient flow vs AGF vs theory for one setting: table and figures")
    rp.add_argument("setting", choices=SETTING_NAMES, metavar="setting",
                    help="one of: " + ", ".join(SETTING_NAMES))
    rp.add_argument("--alpha", type=_alpha, default=None, help="initialization scale in (0, 1) (default: per setting)")
    rp.add_argument("--seed", type=_nonneg_int, default=0, help="random seed (default 0)")
    rp.add_argument("--out", default="out", help="folder for the figures and data (default: out)")
    rp.add_argument("--full", action="store_true", help="the paper's sizes (slower)")
    rp.add_argument("--gd", action="store_true", help="also run gradient descent with the paper's optimizer")
    rp.add_argument("--threads", type=_positive_int, default=2, help="kernel threads (default 2)")
    rp.add_argument("--no-plot", action="store_true", help="print the table only (no figures, no data files)")
    return ap


def main(argv=None) -> int:
    ap = _parser()
    args = ap.parse_args(argv)
    if args.command is None:
        ap.print_help()
        return 2
    if args.command == "list":
        for name, (_, desc) in _settings().items():
            print(f"{name:22s} {desc}")
        return 0
    from agf.errors import AGFError

    fn = _settings()[args.setting][0]
    kw = dict(seed=args.seed, full=args.full, gd=args.gd, n_threads=args.threads)
    if args.alpha is not None:
        kw["alpha"] = args.alpha
    try:
        res = fn(**kw)
    except AGFError as exc:
        print(f"agf reproduce {args.setting}: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    print(res.summary())
    extra = res.table.attrs.get("extra_jumps", {})
    if any(extra.values()):
        print("jumps beyond the prediction: " + ", ".join(f"{k} {v}" for k, v in extra.items() if v))
    ends = [f"agf {res.agf.levels[-1]:.5g}"] + [
        f"{name} {tr.loss_canonical[-1]:.5g} at t = {tr.t[-1]:.5g}" for name, tr in (("gf", res.gf), ("gd", res.gd))
        if tr is not None]
    print("final loss (canonical): " + ", ".join(ends))
    walls = ", ".join(f"{k.split('_')[0]} {v:.1f} s" for k, v in res.info.items() if k.endswith("wall_time"))
    print(f"wall time: {walls}")
    if not args.no_plot:
        for p in res.save(args.out):
            print(f"wrote {p}")
        try:
            paths = res.plot(args.out)
        except ImportError:
            print("matplotlib is not installed: no figures (pip install 'agf[plot]')")
            return 0
        for p in paths:
            print(f"wrote {p}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
