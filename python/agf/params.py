"""Parameters of a model: named per-neuron blocks, neuron i in row i."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Iterator

import numpy as np

from agf.errors import ConfigError

__all__ = ["Params"]


class Params(Mapping):
    """An ordered mapping of named parameter blocks, each with neuron ``i`` in row ``i``.

    Two-layer models have ``"w"`` (H, d_in) and ``"a"`` (H, d_out); diagonal models ``"u"`` and
    ``"v"``, each (H,). The flat vector (:meth:`to_vector`) concatenates the blocks in order,
    each flattened row-major; this is the layout of the C++ core.
    """

    __slots__ = ("_blocks",)

    def __init__(self, blocks: Mapping[str, np.ndarray]):
        out = {}
        H = None
        for name, value in blocks.items():
            arr = np.array(value, dtype=np.float64, copy=True, order="C")
            if arr.ndim == 0:
                raise ConfigError(f"parameter block {name!r} must have one row per neuron")
            if H is None:
                H = arr.shape[0]
            elif arr.shape[0] != H:
                raise ConfigError(f"parameter block {name!r} has {arr.shape[0]} rows, expected {H}")
            out[name] = arr
        self._blocks = out

    def __getitem__(self, key: str) -> np.ndarray:
        return self._blocks[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._blocks)

    def __len__(self) -> int:
        return len(self._blocks)

    @property
    def n_neurons(self) -> int:
        return next(iter(self._blocks.values())).shape[0]

    @property
    def size(self) -> int:
        return sum(b.size for b in self._blocks.values())

    def to_vector(self) -> np.ndarray:
        """The flat float64 vector (blocks in order, each row-major)."""
        return np.concatenate([b.ravel() for b in self._blocks.values()])

    def like(self, vector) -> "Params":
        """Params of the same block shapes filled from a flat vector."""
        v = np.asarray(vector, dtype=np.float64).ravel()
        if v.size != self.size:
            raise ConfigError(f"vector has {v.size} entries, these parameters have {self.size}")
        out, k = {}, 0
        for name, b in self._blocks.items():
            out[name] = v[k:k + b.size].reshape(b.shape)
            k += b.size
        return Params(out)

    def neuron(self, i: int) -> dict[str, np.ndarray]:
        """Neuron ``i``'s parameters, one entry per block."""
        return {name: b[i].copy() for name, b in self._blocks.items()}

    def norms(self) -> np.ndarray:
        """Euclidean norm of every neuron's parameters, shape (H,)."""
        sq = sum(np.sum(b.reshape(b.shape[0], -1) ** 2, axis=1) for b in self._blocks.values())
        return np.sqrt(sq)

    def copy(self) -> "Params":
        return Params(self._blocks)

    def __eq__(self, other) -> bool:
        if not isinstance(other, Params) or list(self) != list(other):
            return NotImplemented if not isinstance(other, Mapping) else False
        return all(np.array_equal(self[k], other[k]) for k in self)

    __hash__ = None

    def __repr__(self) -> str:
        shapes = ", ".join(f"{k}={v.shape}" for k, v in self._blocks.items())
        return f"Params({shapes})"
