"""Neuron families: each a sum of homogeneous neurons with kernels in the C++ core."""
from agf.models.attention import LinearAttention
from agf.models.base import Model
from agf.models.diagonal import DiagonalLinear
from agf.models.two_layer import ACTIVATIONS, TwoLayer

__all__ = ["Model", "TwoLayer", "DiagonalLinear", "LinearAttention", "ACTIVATIONS"]
