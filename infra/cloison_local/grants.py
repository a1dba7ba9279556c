"""The grant report: per function, what its execution role grants and what the code used.

The integration tests (and the soak) record, for every stack they start, which statement of
each role allowed each call (cloison_local.iam_check); this module merges those records and
writes, from each role as the expanded template has it, every grant with the calls that used
it. A grant no call used is either narrowed away in template.yaml or left with its reason,
below: the calls Lambda itself makes with the role (logs, traces, polling a queue or a stream,
sending a failed event to its destination) do not pass through the function's code, so no test
sees them.
"""

from __future__ import annotations

import fnmatch
import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from cloison_local.expand import aws_managed_policies, expanded_template, placeholder_resources
from cloison_local.model import RoleUsage

# The parts of each role template.yaml writes that Lambda, not the code, uses: why they stay.
PLATFORM_POLICIES: dict[str, str] = {
    "lambda": "Lambda writes the function's log group and its traces with the role",
    "source": (
        "Lambda uses the role for the function's event source or failure destination: "
        "polling its queue or stream, decrypting its queue, sending a failed event"
    ),
}
# Code grants the integration tests do not reach, kept because the code can call them.
CODE_REASONS: dict[tuple[str, str], str] = {
    ("SendWorkerFunction", "dynamodb:Query"): (
        "a retried pass of a parked chunk reads the chunk's parked entries "
        "(CampaignStore.parked_by_pass)"
    ),
    ("SendWorkerFunction", "dynamodb:BatchWriteItem"): (
        "parked recipients released when their window opens during the pass (CampaignStore.unpark)"
    ),
    ("ReconcileOptOutsFunction", "sms-voice:DeleteOptedOutNumber"): (
        "takes off the list a number whose opt-out was lifted in Cloison after review "
        "(ReconcileOptOuts._take_off)"
    ),
    ("ReconcileOptOutsFunction", "dynamodb:PutItem"): (
        "saves a run's place in the list when it stops early (save_reconciliation_cursor)"
    ),
    ("LaunchCampaignFunction", "dynamodb:UpdateItem"): (
        "expires the records still open after the time to live, with every-step delivery "
        "events (MessageStore.advance)"
    ),
    ("InboundFunction", "dynamodb:UpdateItem"): (
        "a reply renews its number's consent, at most once a day (ConsentStore.touch)"
    ),
    ("SendWorkerFunction", "sms-voice:SendTextMessage"): (
        "End User Messaging authorizes the pool, the number it sends from and the "
        "configuration set; a send names the pool only"
    ),
    ("AnchorAuditFunction", "kms:GenerateDataKey"): (
        "S3 asks DataKey for a data key under the writer's credentials when the anchor is "
        "written (the audit bucket's SSE-KMS); the local stack's S3 makes no such call"
    ),
    ("InboundFunction", "sms-voice:SendTextMessage"): (
        "End User Messaging authorizes the pool, the number it sends from and the "
        "configuration set; an answer names the pool only"
    ),
}


def merge_usage(stacks: Iterable[Mapping[str, RoleUsage]]) -> dict[str, RoleUsage]:
    """The usage of several stacks' functions, function by function."""
    merged: dict[str, RoleUsage] = {}
    for usage in stacks:
        for function, calls in usage.items():
            into = merged.setdefault(function, RoleUsage([], [], []))
            grants = {
                (str(name), int(index), str(action))
                for name, index, action in [*into.grants, *calls.grants]
            }
            into.denied = sorted({*into.denied, *calls.denied})
            into.grants = [list(grant) for grant in sorted(grants)]
            into.unevaluated = sorted({*into.unevaluated, *calls.unevaluated})
    return merged


def write_usage(path: Path, usage: Mapping[str, RoleUsage]) -> None:
    """Adds `usage` to what `path` holds (one file across test sessions, e.g. tests and soak)."""
    previous = read_usage(path) if path.exists() else {}
    merged = merge_usage([previous, usage])
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        json.dumps({name: vars(calls) for name, calls in sorted(merged.items())}, indent=1) + "\n",
        encoding="utf-8",
    )


def settle_session(path: Path, stacks: Iterable[Mapping[str, RoleUsage]]) -> dict[str, list[str]]:
    """At the end of a test session: adds what its stacks' roles were asked for to `path`
    and returns the calls they refused, by function (none, if least privilege holds)."""
    usage = merge_usage(stacks)
    write_usage(path, usage)
    return {function: calls.denied for function, calls in usage.items() if calls.denied}


def read_usage(path: Path) -> dict[str, RoleUsage]:
    return {
        name: RoleUsage(**calls)
        for name, calls in json.loads(path.read_text(encoding="utf-8")).items()
    }


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def grant_rows(function: str, usage: RoleUsage, stage: str = "dev") -> list[dict[str, Any]]:
    """Every (statement, action) of the function's role: its resources, use and reason."""
    resources = placeholder_resources(expanded_template(stage))
    role = str(resources[function]["Properties"]["Role"]).removesuffix(".Arn")
    properties = resources[role]["Properties"]
    policies = [
        (policy["PolicyName"], policy["PolicyDocument"]) for policy in properties["Policies"]
    ]
    policies += [
        (arn, aws_managed_policies()[arn]) for arn in properties.get("ManagedPolicyArns", [])
    ]
    used: dict[tuple[str, int], set[str]] = {}
    for name, index, action in usage.grants:
        used.setdefault((str(name), int(index)), set()).add(str(action))
    rows = []
    for name, document in policies:
        for index, statement in enumerate(_listed(document["Statement"])):
            for pattern in _listed(statement.get("Action", [])):
                calls = sorted(
                    action
                    for action in used.get((name, index), set())
                    if fnmatch.fnmatchcase(action.lower(), pattern.lower())
                )
                reason = PLATFORM_POLICIES.get(name) or (
                    None if calls else CODE_REASONS.get((function, pattern))
                )
                rows.append(
                    {
                        "policy": name,
                        "statement": index,
                        "action": pattern,
                        "resources": [
                            str(item) for item in _listed(statement.get("Resource", "*"))
                        ],
                        "condition": statement.get("Condition"),
                        "used": calls,
                        "reason": reason,
                    }
                )
    return rows


def report(usage: Mapping[str, RoleUsage], stage: str = "dev") -> str:
    """docs/iam-grants.md: per function, each grant, used or not, and why it stays."""
    lines = [
        "# What each function's role grants, and what the code used",
        "",
        "Generated by `make grants` from the calls the integration tests made "
        "(`.local/iam-usage.json`), held against each role as AWS's SAM translator expands "
        f"template.yaml (stage {stage}; `X` stands for resource X, `X.Arn` for its ARN).",
        "A grant no call used stays only with its reason: Lambda's own use of the role.",
        "",
    ]
    unjustified = 0
    for function in sorted(usage):
        rows = grant_rows(function, usage[function], stage)
        lines += [
            f"## {function}",
            "",
            "| grant | on | used by the code | why it stays |",
            "|---|---|---|---|",
        ]
        for row in rows:
            on = ", ".join(f"`{resource}`" for resource in row["resources"])
            if row["condition"]:
                on += f" when `{json.dumps(row['condition'], sort_keys=True)}`"
            used = ", ".join(row["used"]) or "no"
            why = row["reason"] or ("" if row["used"] else "**none: narrow it**")
            unjustified += not row["used"] and not row["reason"]
            lines.append(f"| `{row['action']}` ({row['policy']}) | {on} | {used} | {why} |")
        if usage[function].unevaluated:
            lines += ["", "Conditions not checked locally (the call did not carry their key):", ""]
            lines += [f"- `{condition}`" for condition in usage[function].unevaluated]
        lines.append("")
    lines.insert(5, f"Grants left without use or reason: **{unjustified}**.\n")
    return "\n".join(lines)
