"""Cost per message of the compliance rules, against a bare formatting loop in the same process.

Run `python bench/compliance.py [--messages N] [--repeats R]`; `main()` returns the figures.
Recipients are distinct made-up numbers, 70 % metropolitan and 30 % overseas, written as
French contact lists write them; times are the best of several runs on one core.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from cloison.compliance.encoding import analyze_text
from cloison.compliance.message import compose_message
from cloison.compliance.phone import normalize_phone
from cloison.compliance.window import SendWindowPolicy, next_send_time

TARGET_US_PER_MESSAGE = 100.0
TEMPLATE = (
    "Bonjour {first_name}, profitez de -20 % sur toute la boutique ce week-end avec le code "
    "{code}. À très vite !"
)
STOP_MENTION = "STOP au 36111"
SENDER = "BOUTIQUE"
FIRST_NAMES = ("Zoé", "Léa", "Jean-Marc", "Ana", "Chloé", "Noël", "Mathis", "Inès", "Ève", "Lou")
# Made-up numbers in valid ranges, written as French contact lists write them.
NUMBER_FORMATS = (
    "06 12 {a:02d} {b:02d} {c:02d}",
    "+33 6 12 {a:02d} {b:02d} {c:02d}",
    "07.81.{a:02d}.{b:02d}.{c:02d}",
    "0033 6 12 {a:02d} {b:02d} {c:02d}",
    "06 12 {a:02d} {b:02d} {c:02d}",
    "06 12 {a:02d} {b:02d} {c:02d}",
    "06 12 {a:02d} {b:02d} {c:02d}",
    "0690 10 {b:02d} {c:02d}",
    "0692 12 {b:02d} {c:02d}",
    "0696 20 {b:02d} {c:02d}",
)
# A Tuesday morning in Paris: metropolitan recipients are open, the Antilles not yet.
NOW = datetime(2026, 6, 9, 8, 30, tzinfo=UTC)

Row = tuple[str, dict[str, str]]


def messages(count: int) -> list[Row]:
    """`count` distinct recipients with their template variables."""
    rows: list[Row] = []
    for index in range(count):
        a, b, c = (index // 10_000) % 100, (index // 100) % 100, index % 100
        number = NUMBER_FORMATS[index % len(NUMBER_FORMATS)].format(a=a, b=b, c=c)
        variables = {"first_name": FIRST_NAMES[index % len(FIRST_NAMES)], "code": f"ETE{index:05d}"}
        rows.append((number, variables))
    return rows


def baseline(rows: Sequence[Row]) -> None:
    """The least a sender does per message: fill the template and add the STOP line."""
    for _, variables in rows:
        text = TEMPLATE.format(**variables) + "\n" + STOP_MENTION
        len(text)


def rules(rows: Sequence[Row], policy: SendWindowPolicy) -> None:
    """Every compliance rule a send goes through."""
    for raw, variables in rows:
        phone = normalize_phone(raw)
        text = compose_message(
            TEMPLATE,
            kind="marketing",
            sender=SENDER,
            stop_mention=STOP_MENTION,
            variables=variables,
        )
        analyze_text(text, smart=True)
        next_send_time(NOW, phone, policy=policy)


def _best_of(repeats: int, run: Callable[[], None]) -> tuple[float, float]:
    """Best wall and CPU seconds over `repeats` runs."""
    wall, cpu = float("inf"), float("inf")
    for _ in range(repeats):
        started_wall, started_cpu = time.perf_counter(), time.process_time()
        run()
        wall = min(wall, time.perf_counter() - started_wall)
        cpu = min(cpu, time.process_time() - started_cpu)
    return wall, cpu


def _unusual_form(raw: str) -> str:
    if raw.startswith("+33 "):
        return "+33 (0)" + raw[4:]
    if raw.startswith("0033 "):
        return "+33 (0)" + raw[5:]
    area, _, rest = raw.replace(".", " ").partition(" ")
    return f"({area}) {rest}"


def _stages(rows: Sequence[Row], policy: SendWindowPolicy, repeats: int) -> dict[str, float]:
    phones = [normalize_phone(raw) for raw, _ in rows]
    texts = [
        compose_message(
            TEMPLATE, kind="marketing", sender=SENDER, stop_mention=STOP_MENTION, variables=v
        )
        for _, v in rows
    ]

    # The same numbers in a form only phonenumbers' general parser reads: "(06) 12 ...".
    unusual = [_unusual_form(raw) for raw, _ in rows]

    def normalize() -> None:
        for raw, _ in rows:
            normalize_phone(raw)

    def normalize_general_parser() -> None:
        for raw in unusual:
            normalize_phone(raw)

    def compose() -> None:
        for _, variables in rows:
            compose_message(
                TEMPLATE,
                kind="marketing",
                sender=SENDER,
                stop_mention=STOP_MENTION,
                variables=variables,
            )

    def analyze() -> None:
        for text in texts:
            analyze_text(text, smart=True)

    def window() -> None:
        for phone in phones:
            next_send_time(NOW, phone, policy=policy)

    stages = {
        "normalize": normalize,
        "normalize_general_parser": normalize_general_parser,
        "compose": compose,
        "analyze": analyze,
        "window": window,
    }
    return {
        f"{name}_us_per_message": _best_of(repeats, run)[0] / len(rows) * 1e6
        for name, run in stages.items()
    }


def main(count: int = 10_000, repeats: int = 5) -> dict[str, float]:
    """Measure and return the figures (microseconds per message unless named otherwise)."""
    rows = messages(count)
    policy = SendWindowPolicy()
    rules(rows[:100], policy)  # first use builds the holiday calendars and caches
    base_wall, base_cpu = _best_of(repeats, lambda: baseline(rows))
    rules_wall, rules_cpu = _best_of(repeats, lambda: rules(rows, policy))
    per_message = rules_wall / count * 1e6
    figures = {
        "messages": float(count),
        "rules_us_per_message": per_message,
        "rules_cpu_us_per_message": rules_cpu / count * 1e6,
        "baseline_us_per_message": base_wall / count * 1e6,
        "baseline_cpu_us_per_message": base_cpu / count * 1e6,
        "ratio_to_baseline": rules_wall / base_wall,
        "target_us_per_message": TARGET_US_PER_MESSAGE,
        "within_target": float(per_message < TARGET_US_PER_MESSAGE),
    }
    figures.update(_stages(rows, policy, repeats))
    return figures


def _report(figures: dict[str, float]) -> str:
    lines = [
        f"compliance rules, {int(figures['messages'])} messages, best of several runs:",
        f"  normalize + compose + analyze + window  {figures['rules_us_per_message']:8.1f} µs/message"
        f"  (CPU {figures['rules_cpu_us_per_message']:.1f})",
        f"  baseline (template formatting)         {figures['baseline_us_per_message']:8.2f} µs/message",
        f"  ratio to baseline                      {figures['ratio_to_baseline']:8.0f} x",
        f"  target                                 {figures['target_us_per_message']:8.0f} µs/message"
        f"  -> {'met' if figures['within_target'] else 'MISSED'}",
        "  by stage:",
    ]
    for name in ("normalize", "compose", "analyze", "window"):
        lines.append(f"    {name:<10} {figures[f'{name}_us_per_message']:8.1f} µs/message")
    lines.append(
        '  normalize through phonenumbers\' general parser (e.g. "(06) 12 ..."):'
        f" {figures['normalize_general_parser_us_per_message']:.1f} µs/message"
    )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=5)
    arguments = parser.parse_args()
    sys.stdout.write(_report(main(arguments.messages, arguments.repeats)))
