"""The ``agf`` command.

    agf --version
    agf list
    agf reproduce <setting> [--alpha A] [--seed S] [--out DIR] [--full] [--gd] [--threads N]
    agf sweep <setting> [--alpha A ...] [--seed S ...] [--backend B] [--workers N]
              [--scheduler ADDRESS] [--out FILE.csv] [--full]

``reproduce`` runs gradient flow, AGF and theory for one of the paper's settings from one
initialization (:mod:`agf.experiments`), prints the comparison table and writes the figures
(``<setting>_loss.png``, ``<setting>_features.png``) and the data (``<setting>_table.csv``,
``<setting>_agf.npz``, ``<setting>_gf.npz``: :meth:`agf.AGFResult.load`,
:meth:`agf.Trajectory.load`) into ``--out`` (default ``out``); ``--no-plot`` prints only.
``sweep`` runs ``reproduce``'s experiment for every combination of the given alphas and seeds
(:mod:`agf.sweep`: serially, in local processes, or on a dask cluster given by its scheduler
address), prints the main columns and writes the whole table (one row per point) as CSV.
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
    sub = ap.add_subparsers(dest="command", metavar="{reproduce,sweep,list}")
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
    sp = sub.add_parser("sweep", help="one setting over several alphas and seeds: one table row per run")
    sp.add_argument("setting", choices=SETTING_NAMES, metavar="setting", help="one of: " + ", ".join(SETTING_NAMES))
    sp.add_argument("--alpha", type=_alpha, nargs="+", default=None,
                    help="initialization scales in (0, 1) (default: the setting's)")
    sp.add_argument("--seed", type=_nonneg_int, nargs="+", default=[0], help="random seeds (default 0)")
    sp.add_argument("--backend", choices=("serial", "processes", "dask"), default="processes",
                    help="where the runs go (default: local processes)")
    sp.add_argument("--workers", type=_positive_int, default=None, help="processes (default: the CPU count)")
    sp.add_argument("--scheduler", default=None,
                    help="address of a dask scheduler (tcp://host:port) for --backend dask")
    sp.add_argument("--out", default=None, help="CSV file for the table (default: sweep_<setting>.csv)")
    sp.add_argument("--full", action="store_true", help="the paper's sizes (slower)")
    return ap


def _sweep(args) -> int:
    import functools

    from agf.errors import AGFError
    from agf.sweep import grid, run_setting, sweep

    if args.scheduler is not None and args.backend != "dask":
        print("agf sweep: --scheduler needs --backend dask", file=sys.stderr)
        return 2
    axes = {"seed": args.seed} if args.alpha is None else {"alpha": args.alpha, "seed": args.seed}
    fn = functools.partial(run_setting, args.setting, full=args.full)
    client = None
    try:
        if args.scheduler is not None:
            try:
                from distributed import Client
            except ImportError:
                print("agf sweep: --scheduler needs dask: pip install 'agf[dask]'", file=sys.stderr)
                return 2
            client = Client(args.scheduler)
        table = sweep(fn, grid(**axes), backend=args.backend, n_workers=args.workers, client=client,
                      errors="record")
    except AGFError as exc:
        print(f"agf sweep {args.setting}: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    finally:
        if client is not None:
            client.close()
    cols = [c for c in ("alpha", "seed", "agf_n_jumps", "agf_final_level", "gf_final_loss", "error") if c in table]
    cols += [c for c in table.columns if c.startswith(("agf_time_err_", "agf_level_err_", "gf_time_err_",
                                                       "gf_level_err_"))]
    import pandas as pd

    with pd.option_context("display.width", 200, "display.max_columns", 40, "display.float_format",
                           lambda x: f"{x:.4g}"):
        print(table[cols].to_string(index=False))
    out = args.out or f"sweep_{args.setting.replace('-', '_')}.csv"
    table.to_csv(out, index=False)
    print(f"wrote {out} ({len(table)} runs, {len(table.columns)} columns)")
    return 1 if "error" in table and table["error"].notna().any() else 0


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
    if args.command == "sweep":
        return _sweep(args)
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
