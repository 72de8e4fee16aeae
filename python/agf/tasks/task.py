"""A task: data plus the loss convention of the experiment it comes from."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from agf.data import Dataset

__all__ = ["Task"]


@dataclass(frozen=True)
class Task:
    """Training data of a setting with its loss convention.

    ``loss_scale`` is the factor s between the experiment's loss and agf's canonical
    ``L = (1/2n) sum ||y - f||^2`` (PyTorch ``MSELoss``: ``2/d_out``); pass it to
    :func:`agf.gradient_flow` / :func:`agf.gradient_descent` to report losses in that convention.
    ``info`` holds setting-specific metadata (template, spectrum, ...).
    """

    name: str
    data: Dataset
    loss_scale: float = 1.0
    info: dict[str, Any] = field(default_factory=dict)
