"""Shared fixtures for the host's tests."""

from __future__ import annotations

import secrets
import shutil
from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture
def fixtures() -> Path:
    return FIXTURES


@pytest.fixture
def strong_secrets() -> dict[str, str]:
    return {"JWT_SECRET": secrets.token_hex(32), "ENCRYPTION_KEY": secrets.token_hex(32)}


@pytest.fixture
def config_dir(tmp_path: Path) -> Path:
    """A JACK_CONFIG_DIR holding the deployment document's oncall.yaml and costs.yaml."""
    for name in ("oncall.yaml", "costs.yaml"):
        shutil.copy(FIXTURES / name, tmp_path / name)
    return tmp_path
