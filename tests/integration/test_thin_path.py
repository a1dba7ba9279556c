"""The thin path through every flow, through the local stack: send, deliver, reply, STOP."""

from pathlib import Path

import pytest

from cloison_local.demo import GUADELOUPE, LEA, MARC, NO_CONSENT, Report, run_scenario
from cloison_local.stack import LocalStack

REPLY_BODY = "Super, je passe samedi"


@pytest.fixture(scope="module")
def scenario(stack: LocalStack, tokens: dict[str, str]) -> Report:
    """The demo scenario, run once: create, launch, deliver, reply, STOP, launch again."""
    report = run_scenario(stack, tokens)
    stack.wait_idle(timeout=30)
    return report


def test_the_demo_scenario_passes_every_step(scenario: Report) -> None:
    # Given the seeded stack and the scenario run on it
    # Then every step held
    failed = [label for label, passed in scenario.checks if not passed]
    assert failed == []
    assert scenario.figures["suppressions"] == 1
    assert scenario.figures["replies stored"] == 2
    assert scenario.figures["messages sent"] == 4


def test_function_logs_hold_no_phone_number_and_no_reply_body(
    scenario: Report, log_dir: Path
) -> None:
    # Given the scenario has run
    # When every line every function logged is read
    text = "\n".join(path.read_text(errors="replace") for path in log_dir.glob("*.log"))

    # Then the functions did log, but no number (E.164 or national form) and no reply body
    assert "reply stored" in text
    international = [LEA, MARC, NO_CONSENT, "+590690001234"]
    national = ["0" + number[3:] for number in (LEA, MARC, NO_CONSENT)] + [GUADELOUPE, "690001234"]
    leaked = [
        index
        for index, value in enumerate([*international, *national, REPLY_BODY])
        if value in text
    ]
    assert leaked == []
