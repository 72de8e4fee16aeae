"""Closed-form and algorithmic theory predictions for the paper's settings (method §5).

Pure numpy/scipy, no compiled code. Every entry point returns a :class:`TheoryResult` whose
``order``, ``levels``, ``rescaled_times`` and ``jump_times`` line up with those of an AGF run:
jump ``k`` is ``order[k]`` at ``rescaled_times[k]``, followed by the plateau ``levels[k + 1]``
(``levels[0]`` is the initial loss). Losses are canonical, ``L = (1/2n) Σ ||y − f||²``.

- :func:`diagonal` (§5a): Pesme–Flammarion saddle-to-saddle algorithm, α → 0.
- :func:`linear` (§5b): reduced-rank-regression saddles and the jump-time recursion.
- :func:`attention` (§5c): linear attention heads on in-context regression.
- :func:`modular` (§5d): quadratic network on modular addition.

Note: ``agf.theory.modular`` (and ``.diagonal``, ...) name the functions; import helpers from
the submodules with ``from agf.theory.modular import jump_time_lower_bounds``.
"""

from agf.theory.result import TheoryResult
from agf.theory.diagonal import diagonal
from agf.theory.linear import jump_time_recursion, linear
from agf.theory.attention import attention
from agf.theory.modular import jump_time_lower_bounds as modular_jump_time_lower_bounds
from agf.theory.modular import modular

__all__ = [
    "TheoryResult",
    "attention",
    "diagonal",
    "jump_time_recursion",
    "linear",
    "modular",
    "modular_jump_time_lower_bounds",
]
