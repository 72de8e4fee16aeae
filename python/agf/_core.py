"""The C++ core, in the best variant this CPU supports (internal).

The build makes ``_core_generic`` (baseline instruction set) and, on x86-64, ``_core_avx2``
(AVX2 + FMA) from the same sources; this module re-exports the fastest one that runs here.
``isa`` says which was chosen; ``use("generic")`` switches (for tests and benchmarks), and
results of the two agree to rounding (FMA contracts some products).
"""

from __future__ import annotations

import importlib

from agf import _core_generic

_VARIANTS = {"generic": _core_generic}
try:
    if _core_generic.cpu_supports_avx2_fma():
        _VARIANTS["avx2"] = importlib.import_module("agf._core_avx2")
except ImportError:  # built without the AVX2 variant (non-x86 or AGF_DISPATCH_AVX2=OFF)
    pass

available = tuple(_VARIANTS)


def use(isa: str) -> None:
    """Select the core variant ``isa`` (one of :data:`available`) for objects created afterwards."""
    if isa not in _VARIANTS:
        raise ValueError(f"core variant {isa!r} is not available here; choose one of {available}")
    module = _VARIANTS[isa]
    globals()["__version__"] = module.__version__
    for name in dir(module):  # every public name the bindings export
        if not name.startswith("_"):
            globals()[name] = getattr(module, name)


use("avx2" if "avx2" in _VARIANTS else "generic")
