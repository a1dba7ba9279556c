"""What the integration tests share: calling the local API, waiting, reaching the carrier."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import requests

from cloison_local.carrier import CarrierSimulator
from cloison_local.stack import LocalStack


def api(
    stack: LocalStack, token: str | None, method: str, path: str, **kwargs: Any
) -> requests.Response:
    """One call to the local API, with the token as API Gateway expects it (none: anonymous)."""
    headers = {"Authorization": token} if token else {}
    headers.update(kwargs.pop("headers", {}))
    return requests.request(method, stack.api_url + path, headers=headers, timeout=60, **kwargs)


def wait_until(condition: Callable[[], bool], timeout: float = 30.0, every: float = 0.1) -> bool:
    """True as soon as `condition()` holds, False if it never did within `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(every)
    return False


def carrier(stack: LocalStack) -> CarrierSimulator:
    assert stack.carrier is not None
    return stack.carrier
