"""The frequency cap: at most so many marketing messages to one number in any rolling period,
whatever team sends them. Times are whole seconds since the epoch (UTC)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta


def epoch_seconds(moment: datetime) -> int:
    return int(moment.timestamp())


@dataclass(frozen=True)
class FrequencyCap:
    """At most `messages` marketing messages to a number in any `period`; 0 messages: no cap."""

    messages: int
    period: timedelta

    def __post_init__(self) -> None:
        if self.messages < 0 or self.period <= timedelta(0):
            raise ValueError("a cap counts 0 or more messages in a positive period")

    @property
    def enabled(self) -> bool:
        return self.messages > 0

    def counted(self, times: Iterable[int], at: datetime) -> list[int]:
        """The sends that count against a send at `at`: those of the period that ends then.

        A time after `at` (a worker whose clock runs ahead) counts too: it will be inside the
        period of every later send for as long as it matters.
        """
        since = epoch_seconds(at - self.period)
        return sorted(moment for moment in times if moment > since)

    def allows(self, times: Iterable[int], at: datetime) -> bool:
        """Whether one more marketing message may go at `at`."""
        return not self.enabled or len(self.counted(times, at)) < self.messages

    def admit(self, times: Iterable[int], at: datetime) -> list[int] | None:
        """The times to keep once a send at `at` is counted, or None when it is one too many.

        Only the times inside the period are kept: never more than `messages` of them.
        """
        if not self.allows(times, at):
            return None
        return [*self.counted(times, at), epoch_seconds(at)]

    def expires_at(self, kept: Iterable[int]) -> int:
        """When the last of `kept` stops counting: the item holding them may go then."""
        return max(kept, default=0) + int(self.period.total_seconds())
