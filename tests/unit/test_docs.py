"""The commands the README and docs/ tell people to run exist: each `make` target in the
Makefile, each `cloison-local` command in its parser, each template parameter they name."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from cloison_local.__main__ import main
from cloison_local.expand import expanded_template
from cloison_local.grants import grant_rows
from cloison_local.model import RoleUsage
from cloison_local.template import load_template

ROOT = Path(__file__).resolve().parents[2]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def _targets() -> set[str]:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    return set(re.findall(r"^([a-z][a-z0-9-]*):", makefile, flags=re.MULTILINE))


def _commands(pattern: str) -> set[tuple[str, str]]:
    return {
        (path.name, match)
        for path in DOCS
        for match in re.findall(pattern, path.read_text(encoding="utf-8"))
    }


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
