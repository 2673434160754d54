"""Setup (issue 12): scripts/serve installs only when something changed; requirements.lock pins everything."""

from __future__ import annotations

import re
import subprocess
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOCK = ROOT / "requirements.lock"


def _name(requirement: str) -> str:
    """PEP 503 normalised project name of a requirement such as ``uvicorn[standard]>=0.30``."""
    return re.sub(r"[-_.]+", "-", re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", requirement).group(1)).lower()


def test_every_declared_dependency_is_pinned_in_the_lock():
    pinned = {}
    for line in LOCK.read_text().splitlines():
        if line and not line.startswith("#"):
            assert "==" in line, f"requirements.lock: not an exact pin: {line}"
            pinned[_name(line)] = line
    local = set()
    declared: dict[str, str] = {}
    for pyproject in [ROOT / "pyproject.toml", *sorted(ROOT.glob("plugins/*/pyproject.toml"))]:
        project = tomllib.loads(pyproject.read_text())["project"]
        local.add(_name(project["name"]))
        for requirement in project.get("dependencies", []):
            declared.setdefault(_name(requirement), str(pyproject.relative_to(ROOT)))
        for requirements in project.get("optional-dependencies", {}).values():
            for requirement in requirements:
                declared.setdefault(_name(requirement), str(pyproject.relative_to(ROOT)))
    missing = sorted(f"{name} ({where})" for name, where in declared.items() if name not in local and name not in pinned)
    assert not missing, f"not in requirements.lock: {', '.join(missing)}; regenerate it with scripts/lock"


def test_scripts_setup_and_the_dockerfile_install_with_the_lock():
    assert "-c requirements.lock" in (ROOT / "scripts" / "setup").read_text()
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "requirements.lock" in dockerfile.split("COPY jack_host")[0]
    assert "pip install --no-cache-dir -c requirements.lock" in dockerfile


def test_scripts_serve_installs_only_when_the_lock_or_a_pyproject_changed(tmp_path):
    calls = tmp_path / "setup-calls"
    fake_setup = tmp_path / "setup"
    fake_setup.write_text(f"#!/bin/sh\necho installing >> {calls}\n")
    fake_setup.chmod(0o755)
    stamp = tmp_path / "stamp"
    env = {"PATH": "/usr/bin:/bin", "JACK_SETUP": str(fake_setup), "JACK_INSTALL_STAMP": str(stamp)}

    def serve() -> subprocess.CompletedProcess[str]:
        # `jack serve --help` stands in for the server: the point is what happens before it.
        return subprocess.run([str(ROOT / "scripts" / "serve"), "--help"], env=env, capture_output=True, text=True,
                              timeout=120)

    first = serve()
    assert first.returncode == 0, first.stderr
    assert calls.read_text() == "installing\n" and "Usage: jack serve" in first.stdout
    second = serve()
    assert second.returncode == 0, second.stderr
    assert calls.read_text() == "installing\n"  # not again
    assert "up to date (requirements.lock unchanged); skipping the install" in second.stdout
    stamp.write_text("a lock file of yesterday\n")
    third = serve()
    assert third.returncode == 0 and calls.read_text() == "installing\ninstalling\n"
