"""The soak runs only when asked for (`make soak` sets SOAK_SECONDS): it takes minutes.

As in the integration tests, every call its functions made was decided against their execution
roles: the soak fails if one was refused, and adds what the roles were asked for to
.local/iam-usage.json, which the grant report reads.
"""

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from cloison_local.grants import settle_session
from cloison_local.stack import LocalStack


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "soak: long run on the local stack under faults")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        item.add_marker(pytest.mark.soak)
        if "SOAK_SECONDS" not in os.environ:
            item.add_marker(pytest.mark.skip(reason="set SOAK_SECONDS (make soak) to run the soak"))


@pytest.fixture(scope="session", autouse=True)
def least_privilege() -> Iterator[None]:
    yield
    if LocalStack.finished:
        denied = settle_session(Path(".local/iam-usage.json"), LocalStack.finished)
        assert denied == {}, "calls the execution roles refuse (template.yaml, the roles)"
