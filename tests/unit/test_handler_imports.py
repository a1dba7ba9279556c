"""What each handler loads at import and what waits for first use, in fresh interpreters.

Cold starts are paid per execution environment: a heavy package goes only where it is used
(`bench/imports.py` measures what each costs).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

FUNCTIONS = Path(__file__).resolve().parents[2] / "functions"
HANDLERS = sorted(
    f"cloison.handlers.{path.stem}"
    for path in (FUNCTIONS / "cloison" / "handlers").glob("*.py")
    if path.stem != "__init__"
)
KEY_ARN = "arn:aws:kms:eu-west-3:123456789012:key/k"
ROUTE_MODULES = ("audit", "campaigns", "privacy", "registry", "replies", "signup")


def loaded_after(code: str, *packages: str) -> dict[str, bool]:
    """Which of `packages` are in `sys.modules` after running `code` in a fresh interpreter."""
    probe = f"{code}\nimport json, sys\nprint(json.dumps({{p: p in sys.modules for p in {packages!r}}}))"
    answer = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=FUNCTIONS,
        env={
            "PATH": "/usr/bin:/bin",
            "PYTHONPATH": ".",
            "AWS_DEFAULT_REGION": "eu-west-3",
            # Nothing here may reach AWS, nor look for credentials on the network.
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_EC2_METADATA_DISABLED": "true",
        },
        capture_output=True,
        text=True,
        check=True,
    )
    return dict(json.loads(answer.stdout.strip().splitlines()[-1]))


def test_every_handler_is_probed() -> None:
    assert "cloison.handlers.api" in HANDLERS
    assert "cloison.handlers.inbound" in HANDLERS
    assert len(HANDLERS) >= 7


@pytest.mark.parametrize("handler", HANDLERS)
def test_no_handler_imports_the_encryption_sdk_or_holidays(handler: str) -> None:
    # Given a handler module imported, as Lambda does at a cold start
    found = loaded_after(f"import {handler}", "aws_encryption_sdk", "holidays")

    # Then neither heavy package is loaded yet
    assert found == {"aws_encryption_sdk": False, "holidays": False}


def test_the_encryption_sdk_comes_with_the_first_seal_not_with_the_sealers() -> None:
    # Given sealers built as the API's services build them (a reader role's cache included)
    build = (
        "from cloison.adapters.envelope import EnvelopeSealer\n"
        "from cloison.adapters.reader_roles import ReaderRoles\n"
        f"sealer = EnvelopeSealer({KEY_ARN!r})\n"
        f"ReaderRoles('arn:aws:iam::123456789012:role/reader-', {KEY_ARN!r})\n"
    )

    # Then the SDK is not loaded: the API's routes that touch no sealed data never pay for it
    assert loaded_after(build, "aws_encryption_sdk") == {"aws_encryption_sdk": False}
    # And what the first seal or open builds first loads it (no call made to KMS)
    first_use = build + "sealer._client_and_materials()\n"
    assert loaded_after(first_use, "aws_encryption_sdk") == {"aws_encryption_sdk": True}


def test_holidays_come_with_the_first_calendar_not_with_a_number() -> None:
    # Given a number normalized, as the inbound path and the reconciliation do
    normalized = (
        "from cloison.compliance.phone import normalize_phone\nnormalize_phone('+33612345678')\n"
    )

    # Then holidays are not loaded; the first holiday calendar loads them
    assert loaded_after(normalized, "holidays") == {"holidays": False}
    calendar = normalized + (
        "from cloison.compliance.territories import FRENCH_NATIONAL, holiday_dates\n"
        "holiday_dates(FRENCH_NATIONAL, 2026)\n"
    )
    assert loaded_after(calendar, "holidays") == {"holidays": True}


def test_the_inbound_function_imports_none_of_the_apis_models_or_routing() -> None:
    found = loaded_after(
        "import cloison.handlers.inbound",
        "cloison.models.api",
        "cloison.services.inbox",
        "aws_lambda_powertools.event_handler",
    )

    assert not any(found.values()), found


@pytest.mark.parametrize(
    "handler",
    [
        "cloison.handlers.anchor_audit",
        "cloison.handlers.delivery_events",
        "cloison.handlers.launch_campaign",
        "cloison.handlers.message_counts",
        "cloison.handlers.reconcile_opt_outs",
    ],
)
def test_a_function_that_reads_no_number_as_written_loads_no_numbering_plan(handler: str) -> None:
    # Given a function whose numbers all come in E.164 already, or not at all (it only masks
    # them for its logs)
    found = loaded_after(f"import {handler}", "phonenumbers", "cloison.compliance.window")

    # Then neither phonenumbers nor the sending rules are loaded
    assert found == {"phonenumbers": False, "cloison.compliance.window": False}


def test_the_anchoring_function_loads_only_the_audit_models_of_the_api() -> None:
    found = loaded_after(
        "import cloison.handlers.anchor_audit",
        "cloison.models.api.audit",
        "cloison.models.api.campaigns",
        "cloison.models.api.privacy",
        "aws_lambda_powertools.event_handler",
    )

    assert found == {
        "cloison.models.api.audit": True,
        "cloison.models.api.campaigns": False,
        "cloison.models.api.privacy": False,
        "aws_lambda_powertools.event_handler": False,
    }


def test_the_api_loads_a_resource_s_routes_at_its_first_call_only() -> None:
    # Given the API's handler imported, as at a cold start
    routes = tuple(f"cloison.http.routes.{name}" for name in ROUTE_MODULES)
    assert loaded_after("import cloison.handlers.api", *routes) == dict.fromkeys(routes, False)

    # When a request for the replies comes (its routes registered, as the handler does first)
    found = loaded_after(
        "from cloison.http.app import include_routes_for\n"
        "include_routes_for({'resource': '/replies/{reply_id}', 'path': '/replies/r-1'})\n",
        *routes,
        "cloison.services.campaigns",
    )

    # Then the replies' routes are loaded, and no other resource's, nor the campaigns' service
    assert found == {
        **dict.fromkeys(routes, False),
        "cloison.http.routes.replies": True,
        "cloison.services.campaigns": False,
    }
