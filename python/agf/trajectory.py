"""The result of a gradient-flow or gradient-descent run."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np

from agf.errors import ConfigError
from agf.events import LocatedEvent
from agf.params import Params

__all__ = ["Trajectory"]


def _params_from_vector(blocks, vec) -> Params:
    out, k = {}, 0
    for name, shape in blocks:
        size = int(np.prod(shape, dtype=int))
        out[name] = vec[k:k + size].reshape(shape)
        k += size
    return Params(out)


@dataclass
class Trajectory:
    """Saved states of one run.

    Attributes
    ----------
    kind : ``"gradient_flow"`` or ``"gradient_descent"``.
    t : (n_saved,) canonical gradient-flow time of every saved state (for gradient descent,
        ``steps * agf.units.gd_time_per_step(...)``).
    loss : (n_saved,) the loss in the run's convention, ``loss_scale * L`` (L canonical).
    loss_scale : the factor s of the run's loss convention (1 = canonical).
    norms : (n_saved, H) parameter norm of each neuron.
    param_vectors : (n_saved, P) flat parameter snapshots, or None if not saved
        (:attr:`params` gives them as :class:`Params`).
    events : located events (:class:`agf.events.LocatedEvent`), in time order.
    stats : counters: ``n_steps``, ``n_rejected``, ``n_grad`` (gradient evaluations), ``method``,
        ``wall_time`` (s).
    status : ``"success"``, ``"event"`` (a terminal event ended the run), or the failure.
    steps : (n_saved,) gradient-descent step numbers (None for gradient flow).
    final_params : parameters at the end of the run.
    """

    kind: str
    t: np.ndarray
    loss: np.ndarray
    loss_scale: float
    norms: np.ndarray
    param_vectors: np.ndarray | None
    events: list[LocatedEvent]
    stats: dict[str, Any]
    status: str
    message: str
    final_params: Params
    blocks: Sequence[tuple[str, tuple[int, ...]]]
    steps: np.ndarray | None = None
    info: dict[str, Any] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.t)

    @property
    def loss_canonical(self) -> np.ndarray:
        """The canonical loss L at the saved times."""
        return self.loss / self.loss_scale

    @property
    def t_scaled(self) -> np.ndarray:
        """Time in the units of the run's loss convention, ``t / loss_scale``."""
        return self.t / self.loss_scale

    @property
    def params(self) -> list[Params] | None:
        """Parameter snapshots at the saved times (``save_params=True``), else None."""
        if self.param_vectors is None:
            return None
        return [_params_from_vector(self.blocks, v) for v in self.param_vectors]

    @property
    def event_times(self) -> np.ndarray:
        return np.array([e.t for e in self.events])

    def loss_at(self, t) -> np.ndarray:
        """Loss interpolated linearly between saved times (use ``save_at`` for exact values)."""
        t = np.asarray(t, dtype=float)
        if np.any(t < self.t[0]) or np.any(t > self.t[-1]):
            raise ConfigError(f"times must lie in [{self.t[0]}, {self.t[-1]}]")
        return np.interp(t, self.t, self.loss)

    def to_dataframe(self):
        """A pandas DataFrame with columns t, loss and norm_i (needs pandas)."""
        import pandas as pd

        df = pd.DataFrame({"t": self.t, "loss": self.loss})
        if self.steps is not None:
            df.insert(0, "step", self.steps)
        for i in range(self.norms.shape[1]):
            df[f"norm_{i}"] = self.norms[:, i]
        return df

    # -- persistence --------------------------------------------------------------------
    def save(self, path) -> None:
        """Save to a ``.npz`` file (events are saved as times, losses and descriptions)."""
        meta = {
            "kind": self.kind, "loss_scale": self.loss_scale, "stats": self.stats,
            "status": self.status, "message": self.message,
            "blocks": [[n, list(s)] for n, s in self.blocks],
            "events": [{"event": repr(e.event), "t": e.t, "loss": e.loss, "direction": e.direction}
                       for e in self.events],
            "info": self.info,
        }
        arrays = {"t": self.t, "loss": self.loss, "norms": self.norms,
                  "final": self.final_params.to_vector(), "meta": np.array(json.dumps(meta, default=float))}
        if self.param_vectors is not None:
            arrays["param_vectors"] = self.param_vectors
        if self.steps is not None:
            arrays["steps"] = self.steps
        np.savez_compressed(path, **arrays)

    @classmethod
    def load(cls, path) -> "Trajectory":
        """Load a trajectory written by :meth:`save` (events come back with ``event`` as text)."""
        with np.load(path, allow_pickle=False) as z:
            meta = json.loads(str(z["meta"]))
            blocks = [(n, tuple(s)) for n, s in meta["blocks"]]
            return cls(
                kind=meta["kind"], t=z["t"], loss=z["loss"], loss_scale=meta["loss_scale"], norms=z["norms"],
                param_vectors=z["param_vectors"] if "param_vectors" in z else None,
                events=[LocatedEvent(e["event"], e["t"], e["loss"], e["direction"]) for e in meta["events"]],
                stats=meta["stats"], status=meta["status"], message=meta["message"],
                final_params=_params_from_vector(blocks, z["final"]), blocks=blocks,
                steps=z["steps"] if "steps" in z else None, info=meta.get("info", {}),
            )

    def __repr__(self) -> str:
        if len(self) == 0:  # e.g. save_at=[]: nothing saved
            return f"Trajectory(kind={self.kind!r}, n_saved=0, status={self.status!r})"
        return (f"Trajectory(kind={self.kind!r}, n_saved={len(self)}, t=[{self.t[0]:.4g}, {self.t[-1]:.4g}], "
                f"loss {self.loss[0]:.4g} -> {self.loss[-1]:.4g}, status={self.status!r})")
