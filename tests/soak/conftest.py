"""The soak runs only when asked for (`make soak` sets SOAK_SECONDS): it takes minutes."""

import os

import pytest


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "soak: long run on the local stack under faults")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        item.add_marker(pytest.mark.soak)
        if "SOAK_SECONDS" not in os.environ:
            item.add_marker(pytest.mark.skip(reason="set SOAK_SECONDS (make soak) to run the soak"))
