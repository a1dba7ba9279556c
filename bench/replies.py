"""Replies through the inbound function on the local stack, with the data-key cache and without.

Run `python bench/replies.py [--replies N]` (default 2,000, or `BENCH_REPLIES`); `main()`
returns the figures.

Each run gets a fresh local stack, a delivered campaign to `CAMPAIGN_RECIPIENTS` made-up French
mobiles (set-up, not measured), then N replies published by the carrier simulator with End User
Messaging's two-way payload: most from the campaign's recipients (matched to it), a fifth from
numbers never messaged (quarantine), one in ten a STOP. They are published progressively, so
that moto's queue stays shallow (its SQS slows down with depth; real SQS does not), and the run
ends when the inbound function has drained the queue. The inbound function's AWS calls are
counted inside its workers, by service and operation.

The second run is the same on another fresh stack, with the Encryption SDK's data-key cache
switched off in the inbound function (one data key per message), to show what the cache saves.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from campaign import peak_memory_mb, process_cpu_seconds

from cloison.adapters.envelope import CACHE_MAX_MESSAGES, CACHE_MAX_MESSAGES_OVERRIDE
from cloison_local.demo import demo_clock
from cloison_local.seed import call, seed
from cloison_local.stack import LocalStack

DEFAULT_REPLIES = 2_000
INBOUND = "InboundFunction"
TEAM, MEMBER = "sales", "alice"
CAMPAIGN_RECIPIENTS = 100
STRANGERS = 200
# Of every 10 replies: one STOP, two from strangers, seven from the campaign's recipients.
STOP_EVERY, STRANGER_AT = 10, (3, 7)
# Publish while the queue holds fewer than this many messages, this many at a time.
MAX_QUEUE_DEPTH, PUBLISH_CHUNK = 100, 50
POLL_SECONDS = 0.05
QUIET_SECONDS = 1.0
TIMEOUT_SECONDS, TIMEOUT_PER_REPLY = 120.0, 0.5
LOG_DIR = Path(__file__).resolve().parents[1] / ".local" / "bench-replies-logs"


def recipients() -> list[str]:
    return [f"+33616{index:06d}" for index in range(CAMPAIGN_RECIPIENTS)]


def strangers() -> list[str]:
    return [f"+33617{index:06d}" for index in range(STRANGERS)]


def planned(count: int) -> list[tuple[str, str]]:
    """(number, body) of each reply, in the order they are published."""
    audience, others = recipients(), strangers()
    replies = []
    for index in range(count):
        people = others if index % STOP_EVERY in STRANGER_AT else audience
        number = people[index % len(people)]
        body = "STOP" if index % STOP_EVERY == 0 else f"Merci, je passe samedi (réf {index})"
        replies.append((number, body))
    return replies


def prepare(stack: LocalStack, tokens: dict[str, str]) -> str:
    """A campaign to the recipients, delivered (replies find it by their message records)."""
    api, token = stack.api_url, tokens[MEMBER]

    def consent(number: str) -> object:
        return call(
            api,
            token,
            "POST",
            "/consents",
            {"team": TEAM, "phone": number, "source": "web form", "proof": "Oui aux offres SMS"},
        )

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(consent, recipients()))
    campaign = str(
        call(
            api,
            token,
            "POST",
            "/campaigns",
            {
                "team": TEAM,
                "name": "Bench replies",
                "sender": "promo",
                "kind": "marketing",
                "body": "Nos nouveautés sont arrivées.",
            },
        )["id"]
    )
    call(
        api,
        token,
        "POST",
        f"/campaigns/{campaign}/audience",
        {"recipients": [{"phone": number} for number in recipients()]},
    )
    call(api, token, "POST", f"/campaigns/{campaign}/launch", {})
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        counts = call(api, token, "GET", f"/campaigns/{campaign}/stats")["counts"]
        if counts["delivered"] >= CAMPAIGN_RECIPIENTS:
            stack.wait_idle(timeout=30)
            return campaign
        time.sleep(0.5)
    raise RuntimeError("the bench campaign was not delivered within 120 s")


def _queue_depth(sqs: Any, queue_url: str) -> int:
    attributes = sqs.get_queue_attributes(
        QueueUrl=queue_url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return sum(int(value) for value in attributes.values())


def _stored(stack: LocalStack) -> int:
    """Index entries marked stored (read after the run, not measured)."""
    dynamodb = stack.client("dynamodb")
    arguments: dict[str, Any] = {
        "TableName": stack.outputs["RepliesTableName"],
        "FilterExpression": "#stored = :true",
        "ExpressionAttributeNames": {"#stored": "stored"},
        "ExpressionAttributeValues": {":true": {"BOOL": True}},
        "Select": "COUNT",
    }
    total = 0
    while True:
        page = dynamodb.scan(**arguments)
        total += page["Count"]
        if "LastEvaluatedKey" not in page:
            return total
        arguments["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def measure(stack: LocalStack, count: int) -> dict[str, Any]:
    """Publishes `count` replies and waits until the inbound function has handled them all."""
    assert stack.carrier is not None
    runtime = stack.runtimes[INBOUND]
    poller = next(poller for poller in stack.pollers if poller.source.function == INBOUND)
    sqs = stack.client("sqs")
    queue_url = stack.outputs["InboundQueueUrl"]
    short_code = stack.outputs["ShortCode"]
    replies = planned(count)
    runtime.reset_call_counts()
    invocations, errors = runtime.invocations, runtime.errors
    moto_cpu = process_cpu_seconds(stack.moto_pid)
    harness_cpu = time.process_time()
    started = last_work = time.perf_counter()
    deadline = started + TIMEOUT_SECONDS + count * TIMEOUT_PER_REPLY
    published = 0
    seen = invocations
    completed = False
    while not completed and time.perf_counter() < deadline:
        now = time.perf_counter()
        if runtime.invocations != seen or poller.busy:
            seen, last_work = runtime.invocations, now
        depth = _queue_depth(sqs, queue_url)
        if published < count and depth < MAX_QUEUE_DEPTH:
            for number, body in replies[published : published + PUBLISH_CHUNK]:
                stack.carrier.inject_reply(number, short_code, body)
            published = min(count, published + PUBLISH_CHUNK)
            last_work = now
        else:
            completed = (
                published == count
                and depth == 0
                and stack.carrier.wait_idle(0.0)
                and now - last_work >= QUIET_SECONDS
            )
        time.sleep(POLL_SECONDS)
    # The run ends with the last invocation: the quiet second that proves it is not counted.
    wall = last_work - started
    harness_cpu = time.process_time() - harness_cpu
    moto_after = process_cpu_seconds(stack.moto_pid)
    calls = Counter(runtime.call_counts())
    by_service: Counter[str] = Counter()
    for (service, _), number in calls.items():
        by_service[service] += number
    return {
        "replies": count,
        "stored": _stored(stack),
        "completed": completed,
        "wall_seconds": wall,
        "replies_per_second": count / wall if wall else 0.0,
        "cpu_seconds": runtime.cpu_seconds(),
        "moto_cpu_seconds": (
            moto_after - moto_cpu if moto_cpu is not None and moto_after is not None else None
        ),
        "moto_peak_memory_mb": peak_memory_mb(stack.moto_pid),
        # This process: the carrier simulator publishing, the pollers, the queue-depth checks.
        "harness_cpu_seconds": harness_cpu,
        "invocations": runtime.invocations - invocations,
        "failed_invocations": runtime.errors - errors,
        "calls": sum(calls.values()),
        "calls_per_1000": sum(calls.values()) * 1_000 / count,
        "kms_per_1000": by_service["kms"] * 1_000 / count,
        "by_service_per_1000": {
            service: number * 1_000 / count for service, number in by_service.most_common()
        },
        "by_operation_per_1000": {
            f"{service} {operation}": number * 1_000 / count
            for (service, operation), number in calls.most_common()
        },
    }


def run(count: int, *, cache: bool) -> dict[str, Any]:
    """One measurement on a fresh local stack."""
    label = "cache" if cache else "no-cache"
    log_dir = LOG_DIR / label
    shutil.rmtree(log_dir, ignore_errors=True)
    log_dir.mkdir(parents=True)
    overrides = {} if cache else {INBOUND: {CACHE_MAX_MESSAGES_OVERRIDE: "1"}}
    _progress(f"replies bench ({label}): starting a fresh local stack for {count} replies...")
    with LocalStack(
        api_port=0,
        clock_start=demo_clock(datetime.now(UTC)),
        retry_after_seconds=2,
        log_dir=log_dir,
        environment_overrides=overrides,
    ) as stack:
        tokens = seed(stack.client("cognito-idp"), stack.outputs, stack.api_url)
        prepare(stack, tokens)
        _progress(f"replies bench ({label}): campaign delivered; publishing replies...")
        figures = measure(stack, count)
    _progress(
        f"replies bench ({label}): {figures['stored']} stored in {figures['wall_seconds']:.1f} s"
    )
    return figures


def main(count: int = DEFAULT_REPLIES) -> dict[str, Any]:
    """Both runs, with the data-key cache and without; the figures."""
    if count < 10:
        raise ValueError("replies: at least 10")
    return {
        "replies": count,
        "cache_max_messages": CACHE_MAX_MESSAGES,
        "cached": run(count, cache=True),
        "uncached": run(count, cache=False),
    }


def _progress(message: str) -> None:
    sys.stderr.write(message + "\n")
    sys.stderr.flush()


def _seconds(value: float | None, count: int) -> str:
    if value is None:
        return "not read"
    return f"{value:.1f} ({value * 1_000 / count:.1f} ms a reply)"


def _rows(cached: dict[str, Any], uncached: dict[str, Any], key: str) -> Iterator[str]:
    names = list(cached[key])
    names += [name for name in uncached[key] if name not in names]
    for name in names:
        yield f"| {name} | {cached[key].get(name, 0.0):.1f} | {uncached[key].get(name, 0.0):.1f} |"


def render(figures: dict[str, Any]) -> str:
    """The figures as Markdown."""
    cached, uncached = figures["cached"], figures["uncached"]
    count = figures["replies"]
    saved = uncached["kms_per_1000"] / cached["kms_per_1000"] if cached["kms_per_1000"] else 0.0
    lines = [
        f"{count:,} replies per run through InboundFunction (one in ten a STOP, a fifth from"
        f" numbers never messaged), after a campaign to {CAMPAIGN_RECIPIENTS} recipients"
        " (set-up, not measured); each run on a fresh local stack.",
        "",
        f"| | data-key cache ({figures['cache_max_messages']} messages per key) |"
        " no cache (a data key per message) |",
        "|---|---|---|",
        f"| wall time | {cached['wall_seconds']:.1f} s | {uncached['wall_seconds']:.1f} s |",
        f"| replies per second | **{cached['replies_per_second']:.1f}**"
        f" | {uncached['replies_per_second']:.1f} |",
        f"| CPU seconds, our inbound function | **{cached['cpu_seconds']:.1f}**"
        f" ({cached['cpu_seconds'] * 1_000 / count:.1f} ms a reply)"
        f" | {uncached['cpu_seconds']:.1f} ({uncached['cpu_seconds'] * 1_000 / count:.1f} ms) |",
        f"| CPU seconds, moto server | {_seconds(cached.get('moto_cpu_seconds'), count)}"
        f" | {_seconds(uncached.get('moto_cpu_seconds'), count)} |",
        f"| CPU seconds, local stack (carrier simulator, pollers)"
        f" | {_seconds(cached.get('harness_cpu_seconds'), count)}"
        f" | {_seconds(uncached.get('harness_cpu_seconds'), count)} |",
        f"| KMS calls per 1,000 replies | **{cached['kms_per_1000']:.1f}**"
        f" | **{uncached['kms_per_1000']:.1f}** |",
        f"| AWS calls per 1,000 replies | {cached['calls_per_1000']:.1f}"
        f" | {uncached['calls_per_1000']:.1f} |",
        f"| replies stored | {cached['stored']:,} | {uncached['stored']:,} |",
        f"| invocations (failed) | {cached['invocations']} ({cached['failed_invocations']})"
        f" | {uncached['invocations']} ({uncached['failed_invocations']}) |",
        "",
        f"The cache makes {saved:.0f} times fewer KMS calls." if saved else "",
        "",
        "AWS calls per 1,000 replies by service:",
        "",
        "| service | cache | no cache |",
        "|---|---|---|",
        *_rows(cached, uncached, "by_service_per_1000"),
        "",
        "By operation:",
        "",
        "| service operation | cache | no cache |",
        "|---|---|---|",
        *_rows(cached, uncached, "by_operation_per_1000"),
    ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--replies", type=int, default=int(os.environ.get("BENCH_REPLIES", DEFAULT_REPLIES))
    )
    arguments = parser.parse_args()
    sys.stdout.write(render(main(arguments.replies)))
