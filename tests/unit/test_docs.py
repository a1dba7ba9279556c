"""The README and docs/ hold: every link leads somewhere, the commands they tell people to run
exist (each `make` target in the Makefile, each `cloison-local` command in its parser, each
template parameter they name), the API map lists the API's routes, and the README stays short."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

# Imported while collecting, before sockets are blocked: the X-Ray SDK behind the shared tracer
# creates its UDP emitter socket when it is first imported.
from cloison.http.app import app, include_all_routes
from cloison_local.__main__ import main
from cloison_local.expand import expanded_template
from cloison_local.grants import grant_rows
from cloison_local.model import RoleUsage
from cloison_local.template import load_template

ROOT = Path(__file__).resolve().parents[2]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
README_MAX_LINES = 250
# A path parameter as the resolver writes it (`<campaign_id>`).
PATH_PARAMETER = re.compile(r"<(\w+)>")
DECISIONS = ROOT / "docs" / "decisions"
# [text](target): the target up to a space or the closing parenthesis.
LINK = re.compile(r"\[[^\]\n]*\]\(([^)\s]+)\)")


def _targets() -> set[str]:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    return set(re.findall(r"^([a-z][a-z0-9-]*):", makefile, flags=re.MULTILINE))


def _commands(pattern: str) -> set[tuple[str, str]]:
    return {
        (path.name, match)
        for path in DOCS
        for match in re.findall(pattern, path.read_text(encoding="utf-8"))
    }


def _anchors(document: Path) -> set[str]:
    """The anchors GitHub gives a document's headings."""
    headings = re.findall(r"^#+ (.+)$", document.read_text(encoding="utf-8"), flags=re.M)
    return {re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-") for heading in headings}


def _links() -> list[tuple[str, str]]:
    return sorted(
        (str(path.relative_to(ROOT)), target)
        for path in DOCS
        for target in LINK.findall(path.read_text(encoding="utf-8"))
        if not target.startswith(("http://", "https://", "mailto:"))
    )


def test_the_readme_is_short() -> None:
    lines = (ROOT / "README.md").read_text(encoding="utf-8").count("\n")
    assert lines <= README_MAX_LINES, f"README.md has {lines} lines: move detail to docs/"


@pytest.mark.parametrize(("document", "target"), _links())
def test_every_link_of_the_docs_leads_somewhere(document: str, target: str) -> None:
    # Given a link of a document, relative to it
    path, _, anchor = target.partition("#")
    destination = (ROOT / document).parent / path if path else ROOT / document

    # Then what it names exists, and so does the heading it points at
    assert destination.exists(), f"{document} links to {target}, which does not exist"
    if anchor:
        assert anchor in _anchors(destination), f"{document}: no heading for #{anchor}"


def test_the_api_map_lists_the_api_s_routes() -> None:
    # Given the routes the API's resolver serves (what its OpenAPI document lists)
    include_all_routes()
    served = {
        route.method.upper() + " " + PATH_PARAMETER.sub(r"{\1}", route.path)
        for route in (*app._static_routes, *app._dynamic_routes)
    }

    # Then docs/api.md lists exactly them
    mapped = set(
        re.findall(
            r"^\| `([A-Z]+ /[^`]*)` \|",
            (ROOT / "docs" / "api.md").read_text(encoding="utf-8"),
            flags=re.M,
        )
    )
    assert mapped == served


def test_each_decision_record_has_its_parts_and_its_line_in_the_index() -> None:
    index = (DECISIONS / "README.md").read_text(encoding="utf-8")
    records = sorted(path for path in DECISIONS.glob("[0-9][0-9][0-9]-*.md"))
    assert records
    for record in records:
        text = record.read_text(encoding="utf-8")
        assert text.startswith(f"# {record.name[:3]}. "), f"{record.name}: title"
        for part in ("## Context", "## Decision", "## Consequences"):
            assert f"\n{part}\n" in text, f"{record.name} has no {part}"
        assert f"({record.name})" in index, f"{record.name} is not in the index"


@pytest.mark.parametrize(("document", "target"), sorted(_commands(r"`make ([a-z][a-z0-9-]*)")))
def test_every_make_target_the_docs_name_exists(document: str, target: str) -> None:
    assert target in _targets(), f"{document} names `make {target}`, which the Makefile lacks"


@pytest.mark.parametrize(
    ("document", "command"), sorted(_commands(r"cloison-local ([a-z]+)(?=[ `\n])"))
)
def test_every_local_command_the_docs_name_exists(document: str, command: str) -> None:
    # When its help is asked for / Then it answers, as a known command does
    with pytest.raises(SystemExit) as exited:
        main([command, "--help"])
    assert exited.value.code == 0, f"{document} names `cloison-local {command}`"


def test_the_deploy_guide_names_the_templates_own_parameters() -> None:
    # Given the parameters docs/deploy.md tells people to set
    guide = (ROOT / "docs" / "deploy.md").read_text(encoding="utf-8")
    named = set(re.findall(r"`([A-Z][A-Za-z]+)`", guide))
    parameters = set(load_template(ROOT / "template.yaml")["Parameters"])

    # Then those that look like parameters are the template's
    assert {"OriginationIdentity", "AlarmTopicArn", "UserPoolTier"} <= named & parameters


def test_the_grant_report_lists_every_grant_of_the_current_roles() -> None:
    # Given the report in the repository (`make grants`) and the roles of the template now
    report = (ROOT / "docs" / "iam-grants.md").read_text(encoding="utf-8")
    sections = dict(
        re.findall(r"^## (\w+)\n(.*?)(?=^## |\Z)", report, flags=re.MULTILINE | re.DOTALL)
    )
    functions = [
        logical_id
        for logical_id, resource in expanded_template()["Resources"].items()
        if resource["Type"] == "AWS::Lambda::Function"
    ]

    # When each function's grants are read from both
    for function in functions:
        listed = re.findall(
            r"^\| `([^`]+)` \((\w+)\) \| (.*?) \|", sections.get(function, ""), re.M
        )
        current = [
            (row["action"], row["policy"]) for row in grant_rows(function, RoleUsage([], [], []))
        ]

        # Then the report lists exactly them (regenerate it after changing a role)
        assert [(action, policy) for action, policy, _ in listed] == current, function
    assert "Grants left without use or reason: **0**." in report
