"""The API against its own OpenAPI document: schemathesis generates requests, valid and invalid,
one operation at a time and as sequences that follow the links it infers between operations. No
answer is a 5xx, every answer matches the document, and every error is a problem document.

`CLOISON_FUZZ_EXAMPLES` (fuzzed cases per operation, default 25) and `CLOISON_FUZZ_SCENARIOS`
(stateful scenarios, default 40) scale the run; `CLOISON_FUZZ_SEED=<int>` draws other cases
(without it, the run is derandomized: the same cases every time).
"""

from __future__ import annotations

import json
import logging
import os
from collections import Counter
from typing import Any

import hypothesis
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase
from schemathesis import Case, CheckContext, Response
from schemathesis.checks import CheckFunction
from schemathesis.specs.openapi.checks import positive_data_acceptance, unsupported_method

from cloison.http.app import openapi_document
from cloison.http.problems import CONTENT_TYPE as PROBLEM
from cloison.http.problems import Problem
from cloison_local.stack import LocalStack

FUZZ_EXAMPLES = int(os.environ.get("CLOISON_FUZZ_EXAMPLES", "25"))
FUZZ_SCENARIOS = int(os.environ.get("CLOISON_FUZZ_SCENARIOS", "40"))
FUZZ_SEED = os.environ.get("CLOISON_FUZZ_SEED")

# The document the API function serves at /openapi.json (a test below checks they are equal).
DOCUMENT: dict[str, Any] = json.loads(openapi_document())
# No requests with methods the document does not list: API Gateway, not Cloison, answers those,
# before any function runs (403 MissingAuthenticationToken; the local gateway answers TRACE
# with a 501 of its own).
CONFIG = schemathesis.Config.from_dict(
    {"phases": {"coverage": {"unexpected-methods": []}}, "cache": {"enabled": False}}
)
schema = schemathesis.openapi.from_dict(DOCUMENT, config=CONFIG)

# The scenarios leave out what answers by the state earlier scenarios left: a team's notice, and
# its sign-up page, are a 404 until one is put, and an answer that changes between two runs of
# one scenario makes Hypothesis draw it differently (FlakyStrategyDefinition). They are fuzzed
# alone, by test_each_operation_answers_as_documented.
SCENARIO_SCHEMA = schema.exclude(method="GET", path=["/teams/{team}/notice", "/signup/{team}"])

# Who calls each part of the API: a user with the route's role, so that the code behind the
# role check runs too (a member of team sales elsewhere).
CALLERS = {"/audit": "aurele", "/privacy": "priya", "/teams": "ada"}

sent: Counter[str] = Counter()


def caller_for(path: str) -> str:
    return next((user for prefix, user in CALLERS.items() if path.startswith(prefix)), "alice")


@schemathesis.check
def problem_documents(ctx: CheckContext, response: Response, case: Case) -> bool | None:
    """Every 4xx is an RFC 9457 problem document whose `status` is the response's."""
    if response.status_code < 400:
        return None
    content_type = response.headers.get("content-type", [""])[0]
    assert content_type.startswith(PROBLEM), (
        f"a {response.status_code} answered as {content_type!r}, not {PROBLEM}"
    )
    problem = Problem.model_validate_json(response.content)
    assert problem.status == response.status_code, "`status` is not the response's status"
    return True


@schemathesis.check
def rules_refuse_valid_shapes(ctx: CheckContext, response: Response, case: Case) -> bool | None:
    """Input of the documented shape is accepted, or refused for what a schema cannot say.

    Stands in for schemathesis' `positive_data_acceptance`, which takes any 422 as a refusal of
    well-formed input. Numbers, sender profiles and time zones are checked against data, and
    such a refusal is a 422 `rule-violation` naming the field; a 422 `invalid-request` would
    mean that the document allows what the models refuse."""
    meta = case.meta
    if meta is None or not meta.generation.mode.is_positive or response.status_code != 422:
        return None
    problem = Problem.model_validate_json(response.content)
    assert problem.type.endswith("/rule-violation"), (
        f"input of the documented shape refused as {problem.type}: {problem.errors}"
    )
    return True


# Checks not run, and why:
# - unsupported_method expects a 405 for a method the document does not list: see CONFIG.
# - positive_data_acceptance: replaced by `rules_refuse_valid_shapes` above.
EXCLUDED: list[CheckFunction] = [unsupported_method, positive_data_acceptance]
ADDED: list[CheckFunction] = [problem_documents, rules_refuse_valid_shapes]


def fuzz_settings(**overrides: Any) -> hypothesis.settings:
    return hypothesis.settings(
        deadline=None,
        database=None,
        derandomize=FUZZ_SEED is None,
        # Calls through the local stack are slow by a unit test's measure, and that is fine.
        suppress_health_check=list(HealthCheck),
        phases=[Phase.explicit, Phase.generate],
        print_blob=FUZZ_SEED is not None,
        **overrides,
    )


def test_the_served_document_is_the_generated_one(stack: LocalStack) -> None:
    # The API function's first call imports it: slow on a busy machine.
    served = requests.get(stack.api_url + "/openapi.json", timeout=120)
    assert served.status_code == 200
    assert served.json() == DOCUMENT


@schema.parametrize()
@hypothesis.settings(fuzz_settings(max_examples=FUZZ_EXAMPLES))
def test_each_operation_answers_as_documented(
    case: Case, stack: LocalStack, tokens: dict[str, str]
) -> None:
    sent[case.operation.label] += 1
    case.call_and_validate(
        base_url=stack.api_url,
        headers={"Authorization": tokens[caller_for(case.path)]},
        excluded_checks=EXCLUDED,
        additional_checks=ADDED,
    )


def test_sequences_of_operations_answer_as_documented(
    stack: LocalStack, tokens: dict[str, str]
) -> None:
    class Scenarios(SCENARIO_SCHEMA.as_state_machine()):  # type: ignore[misc]
        def get_call_kwargs(self, case: Case) -> dict[str, Any]:
            return {
                "base_url": stack.api_url,
                "headers": {"Authorization": tokens[caller_for(case.path)]},
            }

        def validate_response(
            self,
            response: Response,
            case: Case,
            additional_checks: list[CheckFunction] | None = None,
            **kwargs: Any,
        ) -> None:
            sent["stateful"] += 1
            case.validate_response(
                response,
                additional_checks=ADDED,
                excluded_checks=EXCLUDED,
                transport_kwargs=kwargs or None,
                recorder=self.recorder,
            )

    Scenarios.run(settings=fuzz_settings(max_examples=FUZZ_SCENARIOS, stateful_step_count=8))
    assert sent["stateful"] > FUZZ_SCENARIOS, "the scenarios did not chain operations"


def test_enough_cases_were_sent() -> None:
    """Runs after the tests above (pytest keeps the file's order): they sent 1,000 requests or
    more, unless the environment asked for fewer."""
    if not sent:
        pytest.skip("the generated tests did not run")
    if "CLOISON_FUZZ_EXAMPLES" in os.environ or "CLOISON_FUZZ_SCENARIOS" in os.environ:
        pytest.skip("the case counts were set by hand")
    total = sum(sent.values())
    logging.getLogger(__name__).info("%d generated requests: %s", total, dict(sent))
    assert total >= 1000, dict(sent)
