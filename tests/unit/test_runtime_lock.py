"""The runtime lock pins every package Lambda runs, within pyproject's ranges, at the versions the
tests run (`make lock-update`)."""

from __future__ import annotations

from importlib import metadata

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from runtime_lock import installed_closure, read_lock, runtime_requirements


def _locked() -> dict[str, str]:
    return {canonicalize_name(pin.name): str(pin.specifier)[2:] for pin in read_lock()}


def test_every_line_of_the_lock_is_one_exact_version() -> None:
    # Given the lock
    pins = read_lock()

    # When each pin's specifier is read
    inexact = [str(pin) for pin in pins if len(pin.specifier) != 1 or "==" not in str(pin)]
    names = [canonicalize_name(pin.name) for pin in pins]

    # Then each names one version, once, without extras or markers
    assert inexact == []
    assert len(names) == len(set(names))
    assert all(not pin.extras and pin.marker is None for pin in pins)
    assert all("*" not in str(pin.specifier) for pin in pins)


def test_the_lock_is_within_the_ranges_of_pyproject() -> None:
    # Given the runtime dependencies declared in pyproject.toml and the lock
    declared = runtime_requirements()
    locked = _locked()

    # When each declared range is checked against its pinned version
    outside = {
        str(requirement): version
        for requirement in declared
        if (version := locked.get(canonicalize_name(requirement.name))) is None
        or not requirement.specifier.contains(version, prereleases=True)
    }

    # Then every runtime dependency is pinned, inside its range
    assert outside == {}


def test_the_lock_covers_every_runtime_dependency_as_installed() -> None:
    # Given what the runtime dependencies pull in, transitively, in this environment
    installed = set(installed_closure(runtime_requirements()))

    # When it is compared with the lock (`make lock-update` rewrites it)
    locked = set(_locked())

    # Then the lock names each of them, and nothing else
    assert sorted(installed - locked) == [], "missing from the lock: run `make lock-update`"
    assert sorted(locked - installed) == [], "not a runtime dependency: run `make lock-update`"


def test_the_tests_run_against_the_locked_versions() -> None:
    # Given the lock that `sam build` installs, and the runtime packages installed here
    locked = _locked()
    installed = installed_closure(runtime_requirements())

    # When their versions are compared
    different = {
        name: f"{version} installed, {locked.get(name)} locked"
        for name, version in installed.items()
        if locked.get(name) != version
    }

    # Then what the tests run is what ships (`make install` installs within the lock)
    assert different == {}, "reinstall with `make install`, or `make lock-update`"


def test_each_pinned_version_satisfies_what_the_other_pins_require() -> None:
    # Given the lock, and the requirements of the pinned packages installed at their pinned version
    locked = _locked()
    at_pin = [
        name for name, version in locked.items() if metadata.distribution(name).version == version
    ]

    # When their requirements on other pinned packages are checked against the pins
    unmet = [
        f"{name} requires {requirement}, pinned {locked[dependency]}"
        for name in at_pin
        for requirement in map(Requirement, metadata.distribution(name).requires or [])
        if (dependency := canonicalize_name(requirement.name)) in locked
        and (requirement.marker is None or requirement.marker.evaluate({"extra": ""}))
        and not requirement.specifier.contains(locked[dependency], prereleases=True)
    ]

    # Then none is broken
    assert unmet == []
