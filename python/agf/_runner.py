"""Shared plumbing of the run functions (internal): batches of initial conditions in parallel
threads (the C++ calls release the GIL), progress, Ctrl-C, and status codes."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor, wait, FIRST_COMPLETED

from agf.errors import ConfigError, NumericalError

STATUS = {0: "success", 1: "event", 2: "max_steps", 3: "step_underflow", 4: "diverged", 5: "interrupted"}
FAILED = {"max_steps", "step_underflow", "diverged"}


def is_batch(params0) -> bool:
    """A list or tuple of initial conditions (Params, mappings or flat vectors) is a batch."""
    return isinstance(params0, (list, tuple))


def batch_starts(model, params0, threads: int):
    """The start(s) of one run or a batch: (batch, starts as Params, kernel threads, parameter
    blocks). In a batch of several runs each run's kernels get one thread (the runs share the
    threads out instead)."""
    batch = is_batch(params0)
    starts = [model.as_params(p) for p in (params0 if batch else [params0])]
    if batch and not starts:
        raise ConfigError("params0 is an empty list")
    kernel_threads = 1 if (batch and len(starts) > 1) else threads
    blocks = [(name, (model.width, *shape)) for name, shape in model.blocks]
    return batch, starts, kernel_threads, blocks


def run_many(jobs, n_threads: int, meter):
    """Run callables ``job(cancel_event, report)`` in ``n_threads`` threads, in order of results.

    ``report(fraction)`` lets a job report its progress; the meter shows the sum. Ctrl-C in the
    main thread sets the cancel event and re-raises KeyboardInterrupt once the jobs stopped.
    """
    cancel = threading.Event()
    done_frac = [0.0] * len(jobs)

    serial = len(jobs) == 1 or n_threads == 1

    def reporter(k):
        def report(frac: float) -> bool:
            done_frac[k] = frac
            if serial:  # called from the calling thread: update the meter directly
                meter.update_to(sum(done_frac))
            return not cancel.is_set()
        return report

    if serial:
        results = []
        try:
            for k, job in enumerate(jobs):
                results.append(job(reporter(k)))
                done_frac[k] = 1.0
                meter.update_to(sum(done_frac))
        finally:
            meter.close()
        return results

    with ThreadPoolExecutor(max_workers=n_threads) as pool:
        futures = [pool.submit(job, reporter(k)) for k, job in enumerate(jobs)]
        try:
            pending = set(futures)
            while pending:
                _, pending = wait(pending, timeout=0.2, return_when=FIRST_COMPLETED)
                meter.update_to(sum(1.0 if f.done() else done_frac[k] for k, f in enumerate(futures)))
        except KeyboardInterrupt:
            cancel.set()
            wait(futures)
            raise
        finally:
            meter.close()
        return [f.result() for f in futures]


def raise_on_failure(trajectories, batch: bool):
    """Raise KeyboardInterrupt for an interrupted run, NumericalError for a failed one."""
    for k, tr in enumerate(trajectories):
        if tr.status == "interrupted":
            raise KeyboardInterrupt(tr.message)
    for k, tr in enumerate(trajectories):
        if tr.status in FAILED:
            where = f" (run {k} of the batch)" if batch else ""
            raise NumericalError(f"{tr.kind}: {tr.message}{where}; the trajectory so far is in .partial",
                                 partial=trajectories if batch else tr)


class Clock:
    def __init__(self):
        self.start = time.perf_counter()

    def elapsed(self) -> float:
        return time.perf_counter() - self.start
