"""Progress meters: off by default, tqdm imported lazily when asked for."""

from __future__ import annotations

from agf.errors import ConfigError


class _NullMeter:
    def update_to(self, value: float) -> None:
        pass

    def close(self) -> None:
        pass


class _TqdmMeter:
    def __init__(self, total: float, desc: str, unit: str):
        try:
            from tqdm.auto import tqdm
        except ImportError:  # pragma: no cover - depends on the environment
            raise ConfigError("progress=True needs tqdm: pip install 'agf[progress]'") from None
        self._bar = tqdm(total=total, desc=desc, unit=unit, leave=False)

    def update_to(self, value: float) -> None:
        self._bar.n = min(value, self._bar.total)
        self._bar.refresh()

    def close(self) -> None:
        self._bar.close()


def make_meter(progress, total: float, desc: str, unit: str = ""):
    """A meter with ``update_to(value)`` and ``close()``: tqdm if ``progress`` is True, an
    object with those methods if given one, else a silent meter."""
    if progress is True:
        return _TqdmMeter(total, desc, unit)
    if progress in (False, None):
        return _NullMeter()
    if hasattr(progress, "update_to") and hasattr(progress, "close"):
        return progress
    raise ConfigError("progress must be True, False, or an object with update_to(value) and close()")
