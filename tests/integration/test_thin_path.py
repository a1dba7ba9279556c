"""The thin path through every flow, through the local stack: send, deliver, reply, STOP."""

import ast
import re
from pathlib import Path

import phonenumbers
import pytest
from local_api import carrier

from cloison.compliance.errors import InvalidPhoneNumber
from cloison.compliance.masking import mask_phone
from cloison.compliance.phone import normalize_phone
from cloison.compliance.replies import ReplyClass, classify_reply
from cloison_local import demo, seed
from cloison_local.demo import Report, run_scenario
from cloison_local.stack import LocalStack

REPLY_BODY = "Super, je passe samedi"
# Anything written like an E.164 number: never in a log, whoever's it is.
E164 = re.compile(r"(?<![0-9A-Za-z+])[+][1-9][0-9]{7,14}(?![0-9])")
# A string constant that may be a phone number, as the tests and the demo write them.
PHONE_CONSTANT = re.compile(r"[+]?[0-9][0-9 .]{6,}[0-9]")
# Replies that are a keyword and nothing else (STOP, START, AIDE): no personal content.
KEYWORD_CLASSES = frozenset({ReplyClass.OPT_OUT, ReplyClass.OPT_IN, ReplyClass.HELP})


def written_numbers() -> set[str]:
    """Every phone number written as a constant in the integration tests and the demo data,
    in E.164 (numbers built at run time, in E.164, are caught by `E164`)."""
    sources = [*Path(__file__).parent.glob("*.py"), Path(demo.__file__), Path(seed.__file__)]
    numbers: set[str] = set()
    for source in sources:
        for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.Constant) and isinstance(node.value, str)):
                continue
            if not PHONE_CONSTANT.fullmatch(node.value):
                continue
            try:
                numbers.add(normalize_phone(node.value).e164)
            except InvalidPhoneNumber:
                continue
    return numbers


def written_forms(e164: str) -> list[re.Pattern[str]]:
    """The ways a number may be written: E.164 with and without its +, national (with its
    trunk prefix, spaced or not) and its national significant number, each on its own."""
    parsed = phonenumbers.parse(e164)
    national = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.NATIONAL)
    digit_runs = {
        e164[1:],
        phonenumbers.national_significant_number(parsed),
        re.sub(r"[^0-9]", "", national),
    }
    return [
        re.compile(re.escape(e164)),
        re.compile(re.escape(national)),
        *(re.compile(rf"(?<![0-9]){run}(?![0-9])") for run in digit_runs),
    ]


@pytest.fixture(scope="session")
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


@pytest.mark.after_every_test
def test_function_logs_hold_no_phone_number_and_no_reply_body(
    scenario: Report, stack: LocalStack, tmp_path_factory: pytest.TempPathFactory
) -> None:
    # Given the scenario, and every integration test before this one (it runs last): the logs
    # of every stack they started are under this session's temporary directory
    logs = sorted(tmp_path_factory.getbasetemp().rglob("*.log"))
    text = "\n".join(path.read_text(errors="replace") for path in logs)
    assert "reply stored" in text

    # When every line is searched for anything written like an E.164 number, for every number
    # the tests write or the carrier saw (in E.164 and national forms), and for every reply
    # body the carrier delivered that is more than a keyword
    looks_e164 = [mask_phone(found) for found in E164.findall(text)]
    numbers = written_numbers() | {
        message.destination for message in carrier(stack).sent_messages()
    }
    numbers |= {person for person, _ in carrier(stack).injected_replies()}
    leaked_numbers = [
        mask_phone(number)
        for number in sorted(numbers)
        if any(form.search(text) for form in written_forms(number))
    ]
    bodies = {
        body
        for _, body in carrier(stack).injected_replies()
        if classify_reply(body) not in KEYWORD_CLASSES
    }
    leaked_bodies = sum(1 for body in bodies if body in text)

    # Then there is none (masked numbers show two digits, never more)
    assert len(logs) > 1
    assert len(numbers) > 20
    assert REPLY_BODY in {body.rstrip(" !") for body in bodies}
    assert looks_e164 == []
    assert leaked_numbers == []
    assert leaked_bodies == 0
