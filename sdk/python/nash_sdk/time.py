"""Helpers for the contract's times (CONTRACT.md section 2a): a window from a start and a length in hours, and a
deferral (a swap of a resource for the same resource in a later window). Times are ISO-8601 strings in UTC, to the
millisecond, as the service writes them."""

from __future__ import annotations

import datetime as _dt
from typing import Any, Union

Instant = Union[_dt.datetime, str, int, float]
"""A datetime (naive ones are UTC), an ISO-8601 string, or ms since the epoch."""


def _ms(at: Instant) -> int:
    if isinstance(at, (int, float)) and not isinstance(at, bool):
        return int(at)
    if isinstance(at, str):
        at = _dt.datetime.fromisoformat(at.replace("Z", "+00:00"))
    if isinstance(at, _dt.datetime):
        if at.tzinfo is None:
            at = at.replace(tzinfo=_dt.timezone.utc)
        return round(at.timestamp() * 1000)
    raise TypeError(f"not a time: {at!r}")


def iso_time(at: Instant) -> str:
    """`at` as the contract writes it: `2026-06-01T08:00:00.000Z`."""
    ms = _ms(at)
    t = _dt.datetime.fromtimestamp(ms // 1000, tz=_dt.timezone.utc)
    return t.strftime("%Y-%m-%dT%H:%M:%S") + f".{ms % 1000:03d}Z"


def window(start: Instant, hours: float) -> dict[str, str]:
    """The window of `hours` hours (> 0) from `start`: `window(datetime.now(timezone.utc), 2)`, the next two hours."""
    if not hours > 0:
        raise ValueError(f"hours must be positive, got {hours}")
    ms = _ms(start)
    return {"start": iso_time(ms), "end": iso_time(ms + round(hours * 3_600_000))}


def later(w: dict[str, str], hours: float) -> dict[str, str]:
    """`w` moved later by `hours` (a deferral's later slot)."""
    by = round(hours * 3_600_000)
    return {"start": iso_time(_ms(w["start"]) + by), "end": iso_time(_ms(w["end"]) + by)}


def deferral(resource: str, held: dict[str, str], hours: float, min_rebate: float) -> dict[str, Any]:
    """A deferral of `held` by `hours`: a swap giving `resource` over `held` and taking it back `hours` later, for at
    least `min_rebate` per unit. Add quantity and region: `{**deferral("gpu-h100-hr", held, 4, 0.3), "quantity": 200,
    "region": "eu-central"}`."""
    return {"side": "sell", "kind": "swap", "resource": resource, "limitPrice": min_rebate, "window": held, "swapFor": {"resource": resource, "window": later(held, hours)}}
