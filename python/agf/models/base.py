"""The model interface shared by every neuron family."""

from __future__ import annotations

from typing import Sequence

import numpy as np

from agf._validate import float_array, positive
from agf.data import Dataset
from agf.errors import ConfigError, DataError
from agf.params import Params

__all__ = ["Model"]


class Model:
    """A two-layer network written as a sum of ``width`` neurons, each positively homogeneous of
    degree :attr:`kappa` in its own parameters (method section 1).

    Subclasses set ``_core`` (the C++ family object) and ``blocks``: the ordered
    ``(name, per-neuron shape)`` of the parameter blocks.
    """

    _core = None
    blocks: Sequence[tuple[str, tuple[int, ...]]] = ()

    # -- shape and degree -------------------------------------------------------------
    @property
    def width(self) -> int:
        """Number of neurons H."""
        return self._core.n_neurons

    @property
    def d_in(self) -> int:
        return self._core.d_in

    @property
    def d_out(self) -> int:
        return self._core.d_out

    @property
    def n_params(self) -> int:
        return self._core.n_params

    @property
    def kappa(self) -> int:
        """Degree of homogeneity of one neuron in its parameters (for non-homogeneous
        activations, of their small-argument behaviour)."""
        return self._core.kappa

    @property
    def homogeneous(self) -> bool:
        return self._core.homogeneous

    # -- parameters ---------------------------------------------------------------------
    def params(self, **blocks) -> Params:
        """Build :class:`Params` from user-supplied blocks, checking names and shapes."""
        names = [n for n, _ in self.blocks]
        if sorted(blocks) != sorted(names):
            raise ConfigError(f"{type(self).__name__} parameters are {names}, got {sorted(blocks)}")
        out = {}
        for name, shape in self.blocks:
            arr = float_array(f"params[{name!r}]", blocks[name], error=ConfigError)
            want = (self.width, *shape)
            if arr.shape != want:
                raise ConfigError(f"params[{name!r}] must have shape {want}, got {arr.shape}")
            out[name] = arr
        return Params(out)

    def as_params(self, value) -> Params:
        """Accept Params, a mapping of blocks, or a flat vector; return checked Params."""
        if isinstance(value, Params) or isinstance(value, dict):
            return self.params(**dict(value))
        vec = float_array("params", value, error=ConfigError)
        if vec.ndim != 1 or vec.size != self.n_params:
            raise ConfigError(f"a flat parameter vector must have {self.n_params} entries, got shape {vec.shape}")
        return self.from_vector(vec)

    def from_vector(self, vector) -> Params:
        """Params from the flat layout of the C++ core."""
        v = np.asarray(vector, dtype=np.float64).ravel()
        if v.size != self.n_params:
            raise ConfigError(f"expected {self.n_params} parameters, got {v.size}")
        out, k = {}, 0
        for name, shape in self.blocks:
            size = self.width * int(np.prod(shape, dtype=int))
            out[name] = v[k:k + size].reshape((self.width, *shape))
            k += size
        return Params(out)

    def init(self, alpha: float, seed=None, *, scheme: str = "paper") -> Params:  # pragma: no cover
        raise NotImplementedError

    # -- kernels ------------------------------------------------------------------------
    def check_data(self, data: Dataset) -> Dataset:
        if not isinstance(data, Dataset):
            raise DataError(f"data must be an agf.Dataset, got {type(data).__name__}")
        if data.d_in != self.d_in:
            raise DataError(f"data has {data.d_in} input features, the model expects {self.d_in}")
        if data.d_out != self.d_out:
            raise DataError(f"data has {data.d_out} outputs, the model expects {self.d_out}")
        return data

    def forward(self, X, params) -> np.ndarray:
        """Network output f(X), shape (n, d_out)."""
        X = float_array("X", X, ndim=2)
        if X.shape[1] != self.d_in:
            raise DataError(f"X has {X.shape[1]} features, the model expects {self.d_in}")
        return self._core.forward(X, self.as_params(params).to_vector())

    def loss(self, data: Dataset, params, *, loss_scale: float = 1.0) -> float:
        """``loss_scale * L`` with L the canonical loss ``(1/2n) sum ||y - f||^2 + data.loss_offset``
        (the offset is the irreducible part of a population loss, e.g. :class:`agf.Moments`)."""
        s = positive("loss_scale", loss_scale)
        self.check_data(data)
        loss, _ = self._core.loss_grad(data.X, data.Y, self.as_params(params).to_vector())
        return s * (loss + data.loss_offset)

    def gradient(self, data: Dataset, params, *, n_threads: int = 1) -> tuple[float, Params]:
        """Canonical loss L (including ``data.loss_offset``) and its gradient dL/dtheta as Params."""
        self.check_data(data)
        loss, g = self._core.loss_grad(data.X, data.Y, self.as_params(params).to_vector(), n_threads)
        return loss + data.loss_offset, self.from_vector(g)

    def utilities(self, data: Dataset, params, residual, *, n_threads: int = 1) -> tuple[np.ndarray, Params]:
        """Utilities ``U_i = E_n <f_i(x_n; theta_i), r_n>`` of every neuron against ``residual``
        (n, d_out), and their gradients ``dU_i/dtheta_i`` as Params (method section 2)."""
        self.check_data(data)
        R = float_array("residual", residual)
        if R.ndim == 1:
            R = np.ascontiguousarray(R[:, None])
        if R.shape != data.Y.shape:
            raise DataError(f"residual must have shape {data.Y.shape}, got {R.shape}")
        U, gU = self._core.utilities(data.X, R, self.as_params(params).to_vector(), n_threads)
        return U, self.from_vector(gU)

    def hessian(self, data: Dataset, params) -> np.ndarray:
        """Exact Hessian ``d2L/dtheta2`` of the canonical loss at ``params``, shape
        (n_params, n_params), in the flat layout of :meth:`Params.to_vector` (blocks in the order
        of :attr:`blocks`, each row-major over neurons). Computed from the family's block structure
        (for the two-layer family: Gauss-Newton blocks plus residual-weighted second derivatives),
        not by finite differences. Memory is ``8 n_params^2`` bytes; use :meth:`hvp` for large
        models."""
        self.check_data(data)
        return self._core.hessian(data.X, data.Y, self.as_params(params).to_vector())

    def hvp(self, data: Dataset, params, vector) -> np.ndarray:
        """Hessian-vector product ``(d2L/dtheta2) v`` of the canonical loss without forming the
        Hessian (a few products of the kernel's sizes). ``vector`` is flat (n_params,) or Params;
        returns a flat array."""
        self.check_data(data)
        v = vector.to_vector() if isinstance(vector, Params) else float_array("vector", vector, ndim=1, error=ConfigError)
        if v.shape != (self.n_params,):
            raise ConfigError(f"vector must have {self.n_params} entries, got shape {v.shape}")
        return self._core.hvp(data.X, data.Y, self.as_params(params).to_vector(), np.ascontiguousarray(v))

    def residual(self, data: Dataset, params) -> np.ndarray:
        """``Y - f(X)``, shape (n, d_out)."""
        self.check_data(data)
        return data.Y - self.forward(data.X, params)

    def neuron_norms(self, params) -> np.ndarray:
        """Norm of each neuron's parameters, shape (H,)."""
        return self._core.neuron_norms(self.as_params(params).to_vector())
