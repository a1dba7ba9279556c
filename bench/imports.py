"""Cold import time of each Lambda handler module against a bare `import boto3`, in the same run.

Run `python bench/imports.py [--repeats N]`; `main()` returns the figures.

Each measurement is a fresh interpreter that times one `import` statement from the inside (the
interpreter's own start is measured apart, as `python -c pass`), with the environment Lambda
gives a function (`LAMBDA_TASK_ROOT`, `AWS_REGION`, the template's literal Globals): outside
Lambda, Powertools' tracer makes the X-Ray SDK build a botocore client at import, which a
function never pays. The modules are those of `functions/requirements.txt` and
`functions/cloison`, copied into a task root as `sam build` lays it out, and imported with
`python -S` so that nothing else on the machine is found. Two ways, interleaved:

- with bytecode: compiled once beforehand (`PYTHONPYCACHEPREFIX`), as `make build` ships it (it
  compiles the build's modules after `sam build`);
- from source: no `.pyc` at all, which is what `sam build` alone deploys (it leaves out `*.pyc`
  and `__pycache__`, and unpacks dependency wheels without compiling them), so each cold start
  compiles every module it imports.

`boto3` is measured the same way in the same rounds. The heavy packages a handler pulls in, and
what each costs, come from one more run with `-X importtime`.

Cloison's pydantic models are built at first use (`defer_build`), not at import, and two heavy
packages are imported where they are used: the Encryption SDK by the first seal or open,
`holidays` by the first holiday calendar. So that moving that work out of the import does not
pass for saving it, each probe then does, and times, what the function's first invocation does
beyond the import (`FIRST_USE`): it builds the models that invocation validates (its settings,
its payload, every stored-record model, more than any one invocation reads) and imports the
packages it defers. The target is judged on the import plus that first use. The API loads a
resource's routes, models and service at that resource's first call: its first use is that of
the campaigns' routes (the most of any resource) for a call that touches no sealed data, and
what the other resources and the first route that seals, opens or reads a calendar add
(`LATER`) is measured apart.

One more row, the *floor*, is what every handler imports before any code of its own: the
Powertools logger, metrics and tracer, the batch processor, and one settings model.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

from packaging.requirements import Requirement

from cloison_local.expand import expanded_template
from cloison_local.template import load_template

ROOT = Path(__file__).resolve().parents[1]
FUNCTIONS = ROOT / "functions"
HANDLERS = FUNCTIONS / "cloison" / "handlers"
REQUIREMENTS = FUNCTIONS / "requirements.txt"
TEMPLATE = ROOT / "template.yaml"
BASELINE = "boto3"
# Target: a handler, import and first use together, within this many `import boto3`s of the
# floor, measured in the same run.
TARGET_ABOVE_FLOOR = 0.6
DEFAULT_REPEATS = 7
# `-X importtime` runs per module for the heavy packages' costs (their median).
ATTRIBUTION_RUNS = 3
# Packages worth naming when a handler imports them (import cost, not size on disk).
HEAVY = (
    "aws_encryption_sdk",
    "cryptography",
    "aws_xray_sdk",
    "aws_lambda_powertools.event_handler",
    "aws_lambda_powertools.utilities.batch",
    "aws_lambda_powertools.utilities.parameters",
    "pydantic",
    "phonenumbers",
    "holidays",
    "gsm0338",
)
# Where the time above `import boto3` goes: each step imports everything above it as well, so
# its cost is what it adds to the steps before.
LADDER = (
    ("boto3", "boto3"),
    ("Powertools logger, metrics, tracer (`cloison.observability`)", "cloison.observability"),
    # Before pydantic, as the handlers import it: with pydantic loaded already, it also imports
    # every one of Powertools' pydantic event models (about 80 ms more).
    ("Powertools batch processor", "aws_lambda_powertools.utilities.batch"),
    ("pydantic (`BaseModel`)", "pydantic.main"),
    (
        "Cloison's stored records (`cloison.models.records`; the first model class also"
        " loads pydantic's schema builder)",
        "cloison.models.records",
    ),
    (
        "compliance rules (phonenumbers, gsm0338; `holidays` waits for the first calendar)",
        "cloison.compliance",
    ),
    ("Encryption SDK (cryptography, attrs)", "aws_encryption_sdk"),
    ("Powertools REST resolver", "aws_lambda_powertools.event_handler"),
)
# What a function's first invocation does beyond its import: the pydantic models it builds
# ("module:Class", or "module:*" for every model the module defines) and the packages it imports
# ("module"). Every function also reads stored records (all of them counted: more than any one
# invocation reads).
RECORDS = "cloison.models.records:*"
SEALING = "aws_encryption_sdk"  # imported by the first seal or open (cloison.adapters.envelope)
CALENDARS = "holidays"  # imported by the first holiday calendar (cloison.compliance.territories)
# The API's other resources, whose routes and models wait for their first call.
OTHER_RESOURCES = ("registry", "replies", "privacy", "audit", "signup")
# Not a handler: what every handler imports before any code of its own (see the docstring).
FLOOR = "cloison.observability, aws_lambda_powertools.utilities.batch, cloison.config"
# Not a handler either: the floor with what a function that seals cannot do without, boto3
# (every adapter) and the Encryption SDK at its first seal.
LEAST_SEALING = f"{FLOOR}, boto3"
REFERENCES = (FLOOR, LEAST_SEALING)
FIRST_USE = {
    FLOOR: ("cloison.config:DeliverySettings",),
    LEAST_SEALING: ("cloison.config:DeliverySettings", SEALING),
    # A request loads its resource's routes, models and service at the resource's first call:
    # the API's first use is that of the campaigns' routes (the most), listing campaigns.
    "cloison.handlers.api": (
        "cloison.config:ApiSettings",
        "cloison.http.routes.campaigns",
        "cloison.models.api.common:*",
        "cloison.models.api.campaigns:*",
        RECORDS,
    ),
    # Stream records come as Powertools data classes: its settings are its only model.
    "cloison.handlers.message_counts": ("cloison.config:CountingSettings",),
    "cloison.handlers.launch_campaign": (
        "cloison.config:LaunchSettings",
        "cloison.models.events:LaunchRequest",
        RECORDS,
    ),
    # Every reply is sealed.
    "cloison.handlers.inbound": (
        "cloison.config:InboundSettings",
        "cloison.models.events:InboundSms",
        RECORDS,
        SEALING,
    ),
    # A run opens the numbers it keeps sealed for the carrier's list (none when there are none).
    "cloison.handlers.reconcile_opt_outs": (
        "cloison.config:ReconcileSettings",
        "cloison.services.reconcile_opt_outs:ReconciliationReport",
        RECORDS,
        SEALING,
    ),
    "cloison.handlers.delivery_events": (
        "cloison.config:DeliverySettings",
        "cloison.models.events:DeliveryEvent",
        RECORDS,
    ),
    # Every chunk of an audience is sealed; every pass reads its recipients' sending windows.
    "cloison.handlers.send_worker": (
        "cloison.config:SendSettings",
        "cloison.models.events:ChunkRef",
        RECORDS,
        SEALING,
        CALENDARS,
    ),
}
# What the first call of every other resource, and of a route that seals or opens (a campaign's
# creation, a reply read, an erasure) or reads a calendar (a preview), adds to the API's first use.
LATER = {
    "cloison.handlers.api": (
        *(f"cloison.http.routes.{name}" for name in OTHER_RESOURCES),
        *(f"cloison.models.api.{name}:*" for name in OTHER_RESOURCES),
        SEALING,
        CALENDARS,
    )
}
# What Lambda sets in every execution environment (values are placeholders of the right shape).
LAMBDA_ENVIRONMENT = {
    "AWS_REGION": "eu-west-3",
    "AWS_DEFAULT_REGION": "eu-west-3",
    "AWS_EXECUTION_ENV": "AWS_Lambda_python3.11",
    "AWS_LAMBDA_FUNCTION_NAME": "cloison-bench",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "512",
    "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
    "AWS_LAMBDA_LOG_GROUP_NAME": "/aws/lambda/cloison-bench",
    "AWS_LAMBDA_LOG_STREAM_NAME": "2026/01/01/[$LATEST]0",
    "LAMBDA_RUNTIME_DIR": "/var/runtime",
    "LANG": "en_US.UTF-8",
    "TZ": ":UTC",
}
# Runs `import <module>`, then its first use, then what comes later; prints the seconds each
# took and the heavy packages the import loaded.
PROBE = (
    "import time\n"
    "_wall, _cpu = time.perf_counter(), time.process_time()\n"
    "import {module}\n"
    "_cpu, _wall = time.process_time() - _cpu, time.perf_counter() - _wall\n"
    "import json, sys\n"
    "_heavy = [name for name in {heavy!r} if name in sys.modules]\n"
    "import importlib\n"
    "def _use(specs):\n"
    "    started = time.process_time()\n"
    "    for _spec in specs:\n"
    "        if ':' not in _spec:\n"
    "            importlib.import_module(_spec)\n"
    "            continue\n"
    "        import pydantic\n"
    "        _where, _name = _spec.split(':')\n"
    "        _space = vars(importlib.import_module(_where))\n"
    "        for _model in [_space[_name]] if _name != '*' else [\n"
    "            _v for _v in list(_space.values()) if isinstance(_v, type)\n"
    "            and issubclass(_v, pydantic.BaseModel) and _v.__module__ == _where]:\n"
    "            _model.model_rebuild()\n"
    "    return time.process_time() - started\n"
    "_first = _use({first_use!r})\n"
    "_later = _use({later!r})\n"
    "print(json.dumps({{'cpu': _cpu, 'wall': _wall, 'first_use': _first, 'later': _later,"
    " 'heavy': _heavy}}))\n"
)
# Imports the LADDER's modules one after the other, timing each in CPU seconds.
LADDER_PROBE = (
    "import time\n"
    "_costs = []\n"
    "for _module in {modules!r}:\n"
    "    _cpu = time.process_time()\n"
    "    __import__(_module)\n"
    "    _costs.append(time.process_time() - _cpu)\n"
    "import json\n"
    "print(json.dumps(_costs))\n"
)
_IMPORTTIME = re.compile(r"^import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)$")


# ---------------------------------------------------------------- what is measured
def handler_modules() -> list[str]:
    """`cloison.handlers.<name>` for every module there that defines a `lambda_handler`."""
    return [
        f"cloison.handlers.{path.stem}"
        for path in sorted(HANDLERS.glob("*.py"))
        if path.stem != "__init__" and "def lambda_handler" in path.read_text(encoding="utf-8")
    ]


def functions_by_module() -> dict[str, list[str]]:
    """The template's functions that run each handler module."""
    found: dict[str, list[str]] = {}
    for logical_id, resource in expanded_template()["Resources"].items():
        if resource.get("Type") != "AWS::Lambda::Function":
            continue
        handler = str(resource["Properties"].get("Handler", ""))
        found.setdefault(handler.rsplit(".", 1)[0], []).append(logical_id)
    return found


def lambda_environment(task_root: Path) -> dict[str, str]:
    """Lambda's variables, and the template's Globals whose values are plain strings."""
    template = load_template(TEMPLATE)
    variables = (
        template.get("Globals", {}).get("Function", {}).get("Environment", {}).get("Variables", {})
    )
    literal = {key: value for key, value in variables.items() if isinstance(value, str)}
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        **LAMBDA_ENVIRONMENT,
        **literal,
        "LAMBDA_TASK_ROOT": str(task_root),
        "PYTHONPATH": str(task_root),
    }


# ---------------------------------------------------------------- the task root
def _distributions(requirements: Path) -> list[metadata.Distribution]:
    """The installed distributions `requirements` needs, with their own dependencies."""
    wanted = [
        Requirement(line.split("#", 1)[0].strip())
        for line in requirements.read_text(encoding="utf-8").splitlines()
        if line.split("#", 1)[0].strip()
    ]
    found: dict[str, metadata.Distribution] = {}
    while wanted:
        requirement = wanted.pop()
        key = re.sub(r"[-_.]+", "-", requirement.name).lower()
        if key in found:
            continue
        distribution = metadata.distribution(requirement.name)
        found[key] = distribution
        extras = set(requirement.extras) | {""}
        for line in distribution.requires or []:
            needed = Requirement(line)
            if needed.marker is None or any(
                needed.marker.evaluate({"extra": extra}) for extra in extras
            ):
                wanted.append(needed)
    return list(found.values())


def build_task_root(target: Path) -> int:
    """Lays out functions/ and its dependencies (with their metadata, which some read at
    import) as `sam build` does, without bytecode; returns the bytes copied."""
    total = 0
    for distribution in _distributions(REQUIREMENTS):
        for file in distribution.files or ():
            parts = Path(str(file)).parts
            if not parts or parts[0] == "..":  # scripts installed outside site-packages
                continue
            if "__pycache__" in parts or str(file).endswith(".pyc"):
                continue
            source = Path(str(file.locate()))
            if not source.is_file():
                continue
            destination = target.joinpath(*parts)
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, destination)
            total += source.stat().st_size
    shutil.copytree(
        FUNCTIONS / "cloison",
        target / "cloison",
        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"),
        dirs_exist_ok=True,
    )
    return total


# ---------------------------------------------------------------- running
@dataclass
class Samples:
    """Milliseconds per run (CPU and wall), and the heavy packages the import left loaded."""

    cpu: list[float] = field(default_factory=list)
    wall: list[float] = field(default_factory=list)
    source_cpu: list[float] = field(default_factory=list)
    # Import and first use together.
    cold: list[float] = field(default_factory=list)
    source_cold: list[float] = field(default_factory=list)
    # What LATER adds (with bytecode).
    later: list[float] = field(default_factory=list)
    heavy: list[str] = field(default_factory=list)

    def add(self, fast: dict[str, Any], slow: dict[str, Any]) -> None:
        self.cpu.append(fast["cpu"] * 1_000)
        self.wall.append(fast["wall"] * 1_000)
        self.source_cpu.append(slow["cpu"] * 1_000)
        self.cold.append((fast["cpu"] + fast["first_use"]) * 1_000)
        self.source_cold.append((slow["cpu"] + slow["first_use"]) * 1_000)
        self.later.append(fast["later"] * 1_000)
        self.heavy = list(fast["heavy"])


def _probe(module: str, environment: dict[str, str]) -> dict[str, Any]:
    code = PROBE.format(
        module=module,
        heavy=HEAVY,
        first_use=FIRST_USE.get(module, ()),
        later=LATER.get(module, ()),
    )
    answer = subprocess.run(  # noqa: S603 - this interpreter, running our own probe
        [sys.executable, "-S", "-c", code],
        env=environment,
        capture_output=True,
        text=True,
        check=False,
    )
    if answer.returncode != 0:
        raise RuntimeError(f"import {module} failed:\n{answer.stderr.strip()}")
    return dict(json.loads(answer.stdout.strip().splitlines()[-1]))


def _ladder(environment: dict[str, str]) -> list[float]:
    """CPU milliseconds each LADDER step adds, in one interpreter."""
    code = LADDER_PROBE.format(modules=[module for _, module in LADDER])
    answer = subprocess.run(  # noqa: S603 - this interpreter, running our own probe
        [sys.executable, "-S", "-c", code],
        env=environment,
        capture_output=True,
        text=True,
        check=True,
    )
    return [seconds * 1_000 for seconds in json.loads(answer.stdout.strip().splitlines()[-1])]


def _interpreter_start(environment: dict[str, str]) -> float:
    """Wall milliseconds of `python -S -c pass`."""
    started = time.perf_counter()
    subprocess.run([sys.executable, "-S", "-c", "pass"], env=environment, check=True)
    return (time.perf_counter() - started) * 1_000


def import_costs(
    module: str, environment: dict[str, str]
) -> tuple[dict[str, float], dict[str, float]]:
    """Cumulative milliseconds of each heavy package's first import, and every module's own."""
    answer = subprocess.run(  # noqa: S603 - this interpreter, importing one of our modules
        [sys.executable, "-S", "-X", "importtime", "-c", f"import {module}"],
        env=environment,
        capture_output=True,
        text=True,
        check=True,
    )
    entries: list[tuple[int, int, str, int]] = []  # (self us, cumulative us, name, depth)
    for line in answer.stderr.splitlines():
        match = _IMPORTTIME.match(line)
        if match:
            own, cumulative, indent, name = match.groups()
            entries.append((int(own), int(cumulative), name, len(indent) // 2))
    # Children come before their parent, one level deeper: walk backwards to know ancestors.
    costs: dict[str, float] = {}
    ancestors: list[tuple[int, str]] = []
    for _own, cumulative, name, depth in reversed(entries):
        while ancestors and ancestors[-1][0] >= depth:
            ancestors.pop()
        for heavy in HEAVY:
            inside = name == heavy or name.startswith(heavy + ".")
            if inside and not any(a == heavy or a.startswith(heavy + ".") for _, a in ancestors):
                costs[heavy] = costs.get(heavy, 0.0) + cumulative / 1_000
        ancestors.append((depth, name))
    return costs, {name: own / 1_000 for own, _cumulative, name, _depth in entries}


def _medians(runs: Sequence[dict[str, float]]) -> dict[str, float]:
    names = {name for run in runs for name in run}
    return {name: statistics.median(run.get(name, 0.0) for run in runs) for name in names}


def _largest(own: dict[str, float], count: int = 3) -> list[str]:
    return [f"{name} {ms:.0f}" for name, ms in sorted(own.items(), key=lambda item: -item[1])][
        :count
    ]


def measure(repeats: int = DEFAULT_REPEATS) -> dict[str, Any]:
    """Every handler module and the baseline, `repeats` times each way, interleaved."""
    modules = [BASELINE, *handler_modules(), *REFERENCES]
    with tempfile.TemporaryDirectory(prefix="cloison-imports-") as scratch:
        task_root = Path(scratch) / "task"
        copied = build_task_root(task_root)
        base = lambda_environment(task_root)
        with_bytecode = {**base, "PYTHONPYCACHEPREFIX": str(Path(scratch) / "pycache")}
        from_source = {**base, "PYTHONDONTWRITEBYTECODE": "1"}
        for module in modules:  # compiles the bytecode the first way reads
            _probe(module, with_bytecode)
        _ladder(with_bytecode)
        samples = {module: Samples() for module in modules}
        ladder: list[list[float]] = []
        starts: list[float] = []
        for _ in range(repeats):
            starts.append(_interpreter_start(with_bytecode))
            ladder.append(_ladder(with_bytecode))
            for module in modules:
                samples[module].add(_probe(module, with_bytecode), _probe(module, from_source))
        attribution = {
            module: [import_costs(module, with_bytecode) for _ in range(ATTRIBUTION_RUNS)]
            for module in modules[1:]
        }
    base_cpu = statistics.median(samples[BASELINE].cpu)
    base_source = statistics.median(samples[BASELINE].source_cpu)
    users = functions_by_module()
    rows: list[dict[str, Any]] = []
    for module in modules[1:]:
        mine = samples[module]
        costs = _medians([costs for costs, _ in attribution[module]])
        rows.append(
            {
                "module": module,
                "functions": users.get(module, []),
                "cpu_ms": statistics.median(mine.cpu),
                "cpu_range_ms": (min(mine.cpu), max(mine.cpu)),
                "wall_ms": statistics.median(mine.wall),
                "source_cpu_ms": statistics.median(mine.source_cpu),
                "ratio": statistics.median(mine.cpu) / base_cpu,
                "source_ratio": statistics.median(mine.source_cpu) / base_source,
                "cold_ms": statistics.median(mine.cold),
                "cold_ratio": statistics.median(mine.cold) / base_cpu,
                "source_cold_ms": statistics.median(mine.source_cold),
                "source_cold_ratio": statistics.median(mine.source_cold) / base_source,
                "deferred": [spec for spec in FIRST_USE.get(module, ()) if ":" not in spec],
                "later": list(LATER.get(module, ())),
                "later_ms": statistics.median(mine.later),
                "later_ratio": (statistics.median(mine.cold) + statistics.median(mine.later))
                / base_cpu,
                "heavy_ms": {name: costs.get(name, 0.0) for name in mine.heavy},
                "top_self_ms": _largest(_medians([own for _, own in attribution[module]])),
            }
        )
    return {
        "repeats": repeats,
        "python": sys.version.split()[0],
        "task_root_mb": copied / 1e6,
        "interpreter_start_ms": statistics.median(starts),
        "baseline": BASELINE,
        "baseline_cpu_ms": base_cpu,
        "baseline_cpu_range_ms": (min(samples[BASELINE].cpu), max(samples[BASELINE].cpu)),
        "baseline_wall_ms": statistics.median(samples[BASELINE].wall),
        "baseline_source_cpu_ms": base_source,
        "ladder": _steps(
            [statistics.median(run[n] for run in ladder) for n in range(len(LADDER))], base_cpu
        ),
        "target_above_floor": TARGET_ABOVE_FLOOR,
        "rows": rows,
        "within_target": all(
            _above_floor(row, rows) <= TARGET_ABOVE_FLOOR
            for row in rows
            if row["module"] not in REFERENCES
        ),
        "within_target_from_source": all(
            _above_floor(row, rows, "source_cold_ratio") <= TARGET_ABOVE_FLOOR
            for row in rows
            if row["module"] not in REFERENCES
        ),
    }


def _above_floor(
    row: dict[str, Any], rows: Sequence[dict[str, Any]], ratio: str = "cold_ratio"
) -> float:
    """How many `import boto3`s a row's import and first use take above the floor's."""
    floor = next(other for other in rows if other["module"] == FLOOR)
    return float(row[ratio] - floor[ratio])


def _steps(added: Sequence[float], baseline_ms: float) -> list[dict[str, Any]]:
    """Each LADDER step with what it adds, in ms and in boto3s, and the running total."""
    rows: list[dict[str, Any]] = []
    total = 0.0
    for (label, _module), cost in zip(LADDER, added, strict=True):
        total += cost
        rows.append(
            {
                "label": label,
                "cumulative_ms": total,
                "added_ms": cost,
                "added_ratio": cost / baseline_ms,
            }
        )
    return rows


def main(repeats: int = DEFAULT_REPEATS) -> dict[str, Any]:
    sys.stderr.write(f"imports bench: {len(handler_modules())} handlers and {BASELINE}...\n")
    return measure(repeats)


# ---------------------------------------------------------------- reporting
def _heavy(row: dict[str, Any]) -> str:
    named = sorted(row["heavy_ms"].items(), key=lambda item: -item[1])
    found = ", ".join(f"{name} {ms:.0f}" for name, ms in named) or "none"
    if row["deferred"]:
        found += f"; at first use: {', '.join(row['deferred'])}"
    return found


def _name(row: dict[str, Any]) -> str:
    if row["module"] == FLOOR:
        return "*floor*: Powertools logger, metrics, tracer, batch processor, one settings model"
    if row["module"] == LEAST_SEALING:
        return "*floor, boto3 and the Encryption SDK*: the least a function that seals imports"
    return (
        f"`{row['module'].removeprefix('cloison.handlers.')}`"
        f" ({', '.join(row['functions']) or 'no function'})"
    )


def _rows(figures: dict[str, Any]) -> Iterator[str]:
    target = figures["target_above_floor"]
    for row in figures["rows"]:
        low, high = row["cpu_range_ms"]
        above = _above_floor(row, figures["rows"])
        verdict = f"{above:+.2f}: " + ("met" if above <= target else "**NOT met**")
        if row["module"] == FLOOR:
            verdict = "(the floor)"
        elif row["module"] == LEAST_SEALING:
            verdict = f"{above:+.2f} (not a handler)"
        yield (
            f"| {_name(row)}"
            f" | {row['cpu_ms']:.0f} ({low:.0f}-{high:.0f}) | {row['wall_ms']:.0f}"
            f" | {row['ratio']:.2f}x | {row['cold_ms']:.0f} | **{row['cold_ratio']:.2f}x**"
            f" | {row['source_cold_ms']:.0f} ({row['source_cold_ratio']:.2f}x)"
            f" | {_heavy(row)} | {verdict} |"
        )


def render(figures: dict[str, Any]) -> str:
    """The figures as Markdown."""
    target = figures["target_above_floor"]
    low, high = figures["baseline_cpu_range_ms"]
    over = [
        row
        for row in figures["rows"]
        if _above_floor(row, figures["rows"]) > target and row["module"] not in REFERENCES
    ]
    floor = next(row for row in figures["rows"] if row["module"] == FLOOR)
    least = next(row for row in figures["rows"] if row["module"] == LEAST_SEALING)
    lines = [
        f"Median of {figures['repeats']} fresh interpreters per module (Python"
        f" {figures['python']}, `-S`, Lambda's environment variables), the import statement"
        " timed from inside, in CPU milliseconds (wall time beside it: it moves with whatever"
        " else the machine runs); the interpreter's own start (`python -S -c pass`) is"
        f" {figures['interpreter_start_ms']:.0f} ms of wall time on top. Modules come from a"
        f" task root laid out as `sam build` lays it ({figures['task_root_mb']:.0f} MB): *with"
        " bytecode* compiled beforehand, as `make build` ships it; *from source* with no"
        " `.pyc`, which is how `sam build` alone deploys it (it leaves bytecode out and unpacks"
        " wheels without compiling).",
        "",
        f"Baseline `import {figures['baseline']}`: **{figures['baseline_cpu_ms']:.0f} ms CPU**"
        f" ({low:.0f}-{high:.0f}; wall {figures['baseline_wall_ms']:.0f}) with bytecode,"
        f" {figures['baseline_source_cpu_ms']:.0f} ms from source.",
        "",
        "| handler (functions) | import: CPU ms (min-max) | wall ms | ratio to boto3"
        " | import + first use: CPU ms | ratio | from source, import + first use: CPU ms (ratio)"
        " | heavy packages pulled in (ms, cumulative) | above the floor (x boto3): target |",
        "|---|---|---|---|---|---|---|---|---|",
        *_rows(figures),
        "",
        "*First use*: what the function's first invocation does beyond the import, which"
        " Cloison defers from import to first use: building the pydantic models it validates"
        " (its settings, its payload, every stored-record model; the API function the models"
        " of the resource it first serves), and importing the heavy packages it uses there (the"
        " Encryption SDK at the first seal or open, `holidays` at the first holiday calendar).",
        "",
        *(
            f"The API loads a resource's routes, models and service at the first call of that"
            f" resource: its first use is that of the campaigns' routes (the most of any"
            f" resource), listing campaigns; the first call of every other resource, and of a"
            f" route that seals, opens or reads a calendar (a campaign's creation or preview, a"
            f" reply read, an erasure), adds {row['later_ms']:.0f} ms: {row['later_ratio']:.2f}x"
            " in all."
            for row in figures["rows"]
            if row["later"]
        ),
        "",
        f"The *floor* row is what every handler imports before any code of its own:"
        f" {floor['cold_ratio']:.2f}x `import boto3`. The row below it adds what a function"
        " that seals cannot do without (boto3, which every adapter uses, and the Encryption"
        f" SDK at its first seal): {_above_floor(least, figures['rows']):+.2f}x above the"
        f" floor, {'within' if _above_floor(least, figures['rows']) <= target else 'beyond'}"
        " the target before any code of the function's own.",
        "",
        f"Target: each handler within {target:.1f}x `import boto3` of the floor, import and"
        " first use together, in the same run:"
        f" **{'met' if figures['within_target'] else 'NOT met'}** with bytecode,"
        f" **{'met' if figures['within_target_from_source'] else 'NOT met'}** from source."
        " Heavy packages' costs are their cumulative `-X importtime` (median of"
        f" {ATTRIBUTION_RUNS} runs), counted where first imported: a package imported inside"
        " another one's import is counted there too.",
        "",
        "Where the time goes (CPU, with bytecode): the steps imported one after the other in"
        " one interpreter, each timed on its own (median of the same rounds); a step costs"
        " what the steps above it have not loaded already. The first step is boto3 as"
        " measured in this sequence, not the baseline above.",
        "",
        "| step | cumulative ms | adds ms | adds (x boto3) |",
        "|---|---|---|---|",
        *(
            f"| {step['label']} | {step['cumulative_ms']:.0f} | {step['added_ms']:+.0f}"
            f" | {step['added_ratio']:+.2f} |"
            for step in figures["ladder"]
        ),
    ]
    if over:
        lines += [
            "",
            "Largest own import times (ms, excluding what they import; median of the"
            " `-X importtime` runs) of the handlers above target:",
            "",
            *(
                f"- `{row['module']}`: {', '.join(row['top_self_ms'])}"
                for row in sorted(over, key=lambda row: -row["ratio"])
            ),
        ]
    return "\n".join(lines) + "\n"


def _arguments(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=DEFAULT_REPEATS)
    return parser.parse_args(argv)


if __name__ == "__main__":
    sys.stdout.write(render(main(_arguments().repeats)))
