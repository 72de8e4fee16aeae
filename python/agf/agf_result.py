"""The result of an AGF run (:func:`agf.run_agf`).

Conventions follow :class:`agf.theory.TheoryResult` so the two compare entry by entry:
jump ``k`` (0-based) happens at ``jump_times[k]`` (``rescaled_times[k]``), is described by
``order[k]`` and is followed by the plateau ``levels[k + 1]``; ``levels[0]`` is the loss before
the first jump. A jump is one activation instant: the neuron(s) that activated then (an int, or
a tuple when several activate together), with any deactivations caused by the cost minimization
of that jump recorded in :attr:`events` and :attr:`path` (``~i`` = "neuron i deactivated", as in
``TheoryResult.extras["path"]``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import numpy as np

from agf.params import Params

__all__ = ["AGFResult", "AGF_STATUS"]

#: Why a run stopped.
AGF_STATUS = {
    "loss_tol": "the loss fell below loss_tol",
    "stationary": "no dormant neuron can ever reach its threshold (all at directions with U <= 0)",
    "no_dormant": "no dormant neurons remain",
    "max_rounds": "max_rounds jumps were taken",
    "t_max": "the time limit was reached",
    "failed": "an integration failed (see message)",
}


@dataclass
class AGFResult:
    """Outcome of :func:`agf.run_agf`.

    Attributes
    ----------
    events : list of dict
        One row per event, in time order. Keys: ``round`` (jump index k, 0-based), ``kind``
        (``"activate"``, ``"deactivate"`` or ``"release"``: a frozen neuron whose S fell back to
        0 and whose direction was released), ``time`` (canonical gradient-flow time),
        ``rescaled_time`` (``time / log(1/alpha)``; in limit mode the native clock), ``neurons``
        (tuple of neuron ids), ``level`` (canonical loss after the cost minimization of that
        jump), ``n_active``, ``sign`` (diagonal: sign of beta of the neuron), and on activations
        of the two-layer engine ``cost_time``: the gradient-flow time the jump's cost
        minimization ran (summed over its re-runs after deactivations; AGF's clock does not
        advance during it). AGF assumes it is short against the gap to the next jump; where it
        is not (on method 6.5 several rounds run 10-600 times longer), gradient flow moves on
        before the active neurons settle and the two can part (see run_agf's ``cost_ftol``).
    order : list
        Per jump, the neuron id that activated (a tuple if several activated together).
    path : list of int
        All activations and deactivations in event order; ``~i`` (= ``-i-1``) marks a
        deactivation of neuron i.
    jump_times : numpy.ndarray or None
        Jump times in canonical gradient-flow time (None in limit mode without ``alpha``).
    rescaled_times : numpy.ndarray or None
        ``jump_times / log(1/alpha)`` for kappa = 2 models (None for kappa > 2, as in the theory
        module); in limit mode the native rescaled clock.
    levels : numpy.ndarray
        Canonical loss ``(1/2n) sum ||y - f||^2`` before the first jump and after each jump.
    levels_scaled : numpy.ndarray
        ``levels * loss_scale`` (the user's convention given to run_agf).
    levels_mse : numpy.ndarray
        ``levels * 2 / d_out``: PyTorch ``MSELoss`` (as ``TheoryResult.levels_mse``).
    features : list of Params
        Active parameters after each jump (dormant neurons set to 0); ``features[k]`` follows
        jump k.
    dormant_S : numpy.ndarray, shape (n_jumps, H)
        Accumulated utilities S_i of all neurons at each jump, just before activation (NaN for
        active neurons). In limit mode the rescaled S~.
    dormant_directions : list of Params
        Unit directions of the dormant neurons at each jump (rows of non-dormant neurons are 0).
    thresholds : numpy.ndarray, shape (H,)
        The activation thresholds c_i (1 in limit mode).
    alpha : float or None
        The initialization scale used for rescaling (given, or inferred from params0; see
        :func:`agf.run_agf`).
    kappa : int
    status, message : str
        Why the run stopped (a key of :data:`AGF_STATUS`) and details.
    final_params : Params
        Active parameters at the end.
    stats : dict
        Counters: dormant ODE steps, cost-minimization steps, wall time, non-converged cost
        minimizations, ...
    limit : bool
        Whether the run was in limit mode.
    """

    events: list
    order: list
    path: list
    jump_times: np.ndarray | None
    rescaled_times: np.ndarray | None
    levels: np.ndarray
    loss_scale: float
    d_out: int
    features: list
    dormant_S: np.ndarray
    dormant_directions: list
    thresholds: np.ndarray
    alpha: float | None
    kappa: int
    status: str
    message: str
    final_params: Params | None
    stats: dict = field(default_factory=dict)
    limit: bool = False

    @property
    def levels_scaled(self) -> np.ndarray:
        return self.levels * self.loss_scale

    @property
    def levels_mse(self) -> np.ndarray:
        return self.levels * 2.0 / self.d_out

    @property
    def n_jumps(self) -> int:
        return len(self.order)

    def _clock(self):
        return self.rescaled_times if self.limit else self.jump_times

    def loss(self, t, *, scaled: bool = False) -> np.ndarray:
        """The piecewise-constant AGF loss at time(s) ``t`` (canonical time; in limit mode the
        rescaled clock): ``levels[k]`` on ``[jump_times[k-1], jump_times[k])``. ``scaled=True``
        returns it in the ``loss_scale`` convention."""
        t = np.asarray(t, dtype=float)
        times = self._clock()
        k = np.searchsorted(times, t, side="right") if times is not None and len(times) else np.zeros(t.shape, int)
        out = self.levels[k]
        return out * self.loss_scale if scaled else out

    def to_dataframe(self):
        """The events table as a pandas DataFrame (one row per event)."""
        import pandas as pd

        rows = []
        for e in self.events:
            r = dict(e)
            r["neurons"] = tuple(r["neurons"])
            r["level_scaled"] = r["level"] * self.loss_scale
            rows.append(r)
        return pd.DataFrame(rows)

    # -- persistence --------------------------------------------------------------------
    def save(self, path) -> None:
        """Save to a ``.npz`` file (numpy arrays and one JSON header, no pickle);
        :meth:`load` gives the result back."""
        blocks = _block_shapes(self)
        meta = {
            "events": self.events, "order": self.order, "path": self.path, "loss_scale": self.loss_scale,
            "d_out": self.d_out, "alpha": self.alpha, "kappa": self.kappa, "status": self.status,
            "message": self.message, "stats": self.stats, "limit": self.limit, "blocks": blocks,
            # which entries of the two Params lists are present (the diagonal engine has no
            # dormant directions: None)
            "features": [p is not None for p in self.features],
            "dormant_directions": [p is not None for p in self.dormant_directions],
            "has_final": self.final_params is not None,
        }
        arrays = {"levels": self.levels, "dormant_S": self.dormant_S, "thresholds": self.thresholds,
                  "meta": np.array(json.dumps(meta, default=_json_default))}
        for name in ("jump_times", "rescaled_times"):
            if getattr(self, name) is not None:
                arrays[name] = np.asarray(getattr(self, name), float)
        for key, plist in (("features", self.features), ("dormant_directions", self.dormant_directions)):
            present = [p for p in plist if p is not None]
            if present:
                for name, _ in blocks:
                    arrays[f"{key}.{name}"] = np.stack([p[name] for p in present])
        if self.final_params is not None:
            for name, _ in blocks:
                arrays[f"final_params.{name}"] = self.final_params[name]
        np.savez_compressed(path, **arrays)

    @classmethod
    def load(cls, path) -> "AGFResult":
        """Load a result written by :meth:`save`."""
        with np.load(path, allow_pickle=False) as z:
            meta = json.loads(str(z["meta"]))
            names = [b[0] for b in meta["blocks"]]

            def plist(key):
                out, j = [], 0
                for present in meta[key]:
                    out.append(Params({b: z[f"{key}.{b}"][j] for b in names}) if present else None)
                    j += bool(present)
                return out

            events = []
            for e in meta["events"]:
                e = dict(e)
                for k in ("neurons", "sign"):
                    if k in e:
                        e[k] = tuple(e[k])
                events.append(e)
            return cls(
                events=events, order=[tuple(o) if isinstance(o, list) else o for o in meta["order"]],
                path=list(meta["path"]),
                jump_times=z["jump_times"] if "jump_times" in z else None,
                rescaled_times=z["rescaled_times"] if "rescaled_times" in z else None,
                levels=z["levels"], loss_scale=meta["loss_scale"], d_out=meta["d_out"],
                features=plist("features"), dormant_S=z["dormant_S"],
                dormant_directions=plist("dormant_directions"),
                thresholds=z["thresholds"], alpha=meta["alpha"], kappa=meta["kappa"], status=meta["status"],
                message=meta["message"],
                final_params=Params({b: z[f"final_params.{b}"] for b in names}) if meta["has_final"] else None,
                stats=meta["stats"], limit=meta["limit"],
            )

    def __repr__(self) -> str:
        def fmt(a):
            return None if a is None else np.array2string(np.asarray(a), precision=5)

        return (f"AGFResult(order={self.order!r}, rescaled_times={fmt(self.rescaled_times)}, "
                f"levels={fmt(self.levels)}, status={self.status!r})")


def _block_shapes(res: AGFResult) -> list:
    """Names and shapes of the parameter blocks (from any Params the result holds)."""
    for p in [res.final_params, *res.features, *res.dormant_directions]:
        if p is not None:
            return [[name, list(p[name].shape)] for name in p]
    return []


def _json_default(x):
    if isinstance(x, np.integer):
        return int(x)
    if isinstance(x, np.floating):
        return float(x)
    if isinstance(x, np.ndarray):
        return x.tolist()
    raise TypeError(f"cannot save {type(x).__name__} in an AGFResult header")
