"""The application's one source of the current time, so that rules can be run at any instant."""

from datetime import UTC, datetime


def now() -> datetime:
    """The current instant, timezone-aware (UTC)."""
    return datetime.now(UTC)
