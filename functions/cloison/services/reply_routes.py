"""Which team owns the number a reply reached, as the inbound function remembers it."""

import time
from dataclasses import dataclass, field
from typing import Protocol

from cloison.models.records import RouteRecord

# A number no team owns is looked up again after this long: a team that claims it (its own
# pool named by a sender profile) gets its replies within a minute. An owned number never
# changes team, and is kept.
UNROUTED_SECONDS = 60.0


class RouteStore(Protocol):
    def route_of(self, number: str) -> RouteRecord | None: ...


@dataclass
class RouteCache:
    """Routes read once per container and minute at most while no team owns the number, once
    for good when one does: a read per reply would double the inbound path's AWS calls."""

    store: RouteStore
    _known: dict[str, tuple[RouteRecord | None, float]] = field(default_factory=dict)

    def of(self, number: str) -> RouteRecord | None:
        cached = self._known.get(number)
        if cached is not None and (cached[0] is not None or time.monotonic() < cached[1]):
            return cached[0]
        route = self.store.route_of(number)
        self._known[number] = (route, time.monotonic() + UNROUTED_SECONDS)
        return route
