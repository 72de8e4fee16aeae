"""Events of a gradient-flow run, located on the integrator's dense output.

Pass a list of events to :func:`agf.gradient_flow`; each located crossing is reported in
``Trajectory.events`` with its time (to the accuracy of the dense output, not of the step that
passed it) and the loss there. A ``terminal`` event ends the run at its time.
"""

from __future__ import annotations

from dataclasses import dataclass

from agf._validate import integer, positive
from agf.errors import ConfigError

__all__ = ["Event", "NormCrosses", "LossBelow", "LocatedEvent"]

_DIRECTIONS = {"any": 0, "up": 1, "down": -1}


@dataclass(frozen=True)
class Event:
    """Base class of events."""

    def _spec(self, model, loss_scale: float, loss_offset: float = 0.0) -> tuple:  # pragma: no cover
        raise NotImplementedError


@dataclass(frozen=True)
class NormCrosses(Event):
    """Neuron ``neuron``'s parameter norm crosses ``value`` (``direction`` "up", "down" or "any")."""

    neuron: int
    value: float
    direction: str = "up"
    terminal: bool = False

    def _spec(self, model, loss_scale: float, loss_offset: float = 0.0) -> tuple:
        i = integer("NormCrosses.neuron", self.neuron)
        if i >= model.width:
            raise ConfigError(f"NormCrosses.neuron={i} but the model has {model.width} neurons")
        if self.direction not in _DIRECTIONS:
            raise ConfigError(f"direction must be one of {list(_DIRECTIONS)}, got {self.direction!r}")
        return (0, i, positive("NormCrosses.value", self.value), _DIRECTIONS[self.direction], bool(self.terminal))


@dataclass(frozen=True)
class LossBelow(Event):
    """The loss (in the run's ``loss_scale`` convention, including the data's ``loss_offset``)
    falls below ``value``."""

    value: float
    terminal: bool = True

    def _spec(self, model, loss_scale: float, loss_offset: float = 0.0) -> tuple:
        v = positive("LossBelow.value", self.value)
        core_value = v / loss_scale - loss_offset  # the core sees the dataset's own loss
        if core_value <= 0:
            raise ConfigError(f"LossBelow({v}) is at or below the irreducible loss {loss_offset * loss_scale} "
                              "of these data: it can never be crossed")
        return (1, 0, core_value, -1, bool(self.terminal))


@dataclass(frozen=True)
class LocatedEvent:
    """An event crossing found in a run: canonical time ``t`` and ``loss`` (run's convention)."""

    event: Event
    t: float
    loss: float
    direction: int
