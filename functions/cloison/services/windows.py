"""Sending-window policies by the preset name a sender profile stores."""

from functools import lru_cache

from cloison.compliance.window import SendWindowPolicy
from cloison.errors import RuleViolation


@lru_cache(maxsize=16)
def window_policy(name: str) -> SendWindowPolicy:
    try:
        return SendWindowPolicy.preset(name)
    except ValueError as exc:
        raise RuleViolation("window", str(exc)) from exc
