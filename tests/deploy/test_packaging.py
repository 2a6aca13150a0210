"""Packaging: pyproject.toml agrees with requirements.txt, ships both packages, one version everywhere."""

from __future__ import annotations

import re
import tomllib

from packaging.requirements import Requirement
from setuptools import find_packages

import signaling
import signaling_client
from signaling import create_app
from signaling.config import load
from tests.support.processes import ROOT

PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
PROJECT = PYPROJECT["project"]


def pins(path: str) -> dict[str, str]:
    """``name -> version`` of the ``name==version`` lines of a requirements file."""
    out = {}
    for line in (ROOT / path).read_text().splitlines():
        line = line.split("#")[0].strip()
        if "==" in line:
            name, _, version = line.partition("==")
            out[Requirement(name).name.lower()] = version
    return out


def declared() -> dict[str, Requirement]:
    """Every requirement pyproject names: dependencies and every extra (self-references left out)."""
    lines = list(PROJECT["dependencies"])
    for extra in PROJECT["optional-dependencies"].values():
        lines += [line for line in extra if not line.startswith(PROJECT["name"])]
    return {Requirement(line).name.lower(): Requirement(line) for line in lines}


def test_every_runtime_pin_is_declared_and_satisfies_the_range():
    requirements = declared()
    for name, version in pins("requirements.txt").items():
        assert name in requirements, f"{name} is in requirements.txt but not in pyproject.toml"
        assert requirements[name].specifier.contains(version), (name, version, str(requirements[name]))


def test_extras_split_the_optional_parts():
    extras = {k: {Requirement(r).name.lower() for r in v} for k, v in PROJECT["optional-dependencies"].items()}
    assert extras["embedded"] == {"fakeredis", "lupa"}
    assert extras["functions"] == {"functions-framework"}
    core = {Requirement(r).name.lower() for r in PROJECT["dependencies"]}
    assert not core & (extras["embedded"] | extras["functions"])
    for name, version in pins("requirements-dev.txt").items():
        if name not in pins("requirements.txt"):
            assert name in declared() and declared()[name].specifier.contains(version), name


def test_both_packages_are_discovered():
    found = set(find_packages(ROOT, **PYPROJECT["tool"]["setuptools"]["packages"]["find"]))
    assert {"signaling", "signaling_client"} <= found
    assert not any(p.startswith("tests") for p in found)


def test_one_version_in_package_client_healthz_and_changelog():
    assert PYPROJECT["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "signaling.version.__version__"}
    version = signaling.__version__
    assert re.fullmatch(r"\d+\.\d+\.\d+", version)
    assert signaling_client.__version__ == version
    assert f"## [{version}]" in (ROOT / "CHANGELOG.md").read_text()
    assert "## [Unreleased]" in (ROOT / "CHANGELOG.md").read_text()
    health = create_app(load({})).test_client().get("/healthz")
    assert health.status_code == 200 and health.get_json()["version"] == version


def test_licence_is_declared_and_shipped():
    assert PROJECT["license"] == {"text": "MIT"}
    assert (ROOT / "LICENSE").read_text().startswith("MIT License")
