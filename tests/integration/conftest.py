"""One local stack for the integration tests: started once, seeded with the demo data.

Every call each function made, in every stack the session started, was decided against its
execution role as SAM expands it: the session fails if one was refused, naming the function,
the action and the resource, and leaves what the roles were asked for in .local/iam-usage.json
(`cloison-local grants` turns it into docs/iam-grants.md).
"""

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from cloison_local.demo import demo_clock
from cloison_local.grants import settle_session
from cloison_local.seed import seed
from cloison_local.stack import CREDENTIALS, REGION, LocalStack, MotoServer

USAGE = Path(".local/iam-usage.json")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "after_every_test: runs once the session's other tests have run (it reads what they left)",
    )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        item.add_marker(pytest.mark.integration)
    # Stable: the others keep their order, the marked ones come last.
    items.sort(key=lambda item: item.get_closest_marker("after_every_test") is not None)


@pytest.fixture(scope="session", autouse=True)
def least_privilege() -> Iterator[None]:
    """After the session: no function called what its role does not allow."""
    yield
    denied = settle_session(USAGE, LocalStack.finished)
    assert denied == {}, "calls the execution roles refuse (template.yaml, the roles)"


@pytest.fixture(scope="session")
def log_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("function-logs")


@pytest.fixture(scope="session")
def stack(log_dir: Path) -> Iterator[LocalStack]:
    """The template running on moto, its clock inside the sending window of the demo recipients."""
    with LocalStack(
        api_port=0,
        clock_start=demo_clock(datetime.now(UTC)),
        retry_after_seconds=1,
        log_dir=log_dir,
    ) as running:
        yield running


@pytest.fixture(scope="session")
def tokens(stack: LocalStack) -> dict[str, str]:
    """Access tokens of the demo users (alice: team sales, bruno: team support, ada: admin)."""
    return seed(stack.client("cognito-idp"), stack.outputs, stack.api_url)


@pytest.fixture(scope="module")
def moto_url() -> Iterator[str]:
    """A moto server of the module's own, for tests that build an account or a template by hand
    rather than start the whole stack."""
    with pytest.MonkeyPatch.context() as env:
        for name, value in {**CREDENTIALS, "AWS_DEFAULT_REGION": REGION}.items():
            env.setenv(name, value)
        server = MotoServer("127.0.0.1")
        server.start()
        yield server.url
        server.stop()
