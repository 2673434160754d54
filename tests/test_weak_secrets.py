"""Production refuses guessable secrets: repeated, dictionary, the placeholder reworded, or one value twice."""

from __future__ import annotations

import secrets

import pytest

from jack_host.testing import JackProcess, run_jack

STRONG = secrets.token_hex(32)
WEAK = {
    "a x 32": ("a" * 32, "too easy to guess"),
    "changeme x 4": ("changeme" * 4, "placeholder"),
    "password x 4": ("password" * 4, "too easy to guess"),
    "placeholder reworded": ("Generate_A_Secure_Random_String_Min_64_Chars", "placeholder"),
    "placeholder plus a suffix": ("generate-a-secure-random-string-min-32-chars-2026", "placeholder"),
}


@pytest.mark.parametrize("name", WEAK)
def test_config_check_refuses_a_weak_jwt_secret_in_one_line(tmp_path, name):
    value, reason = WEAK[name]
    result = run_jack(tmp_path, "config", "check",
                      env={"NODE_ENV": "production", "JWT_SECRET": value, "ENCRYPTION_KEY": STRONG})
    assert result.returncode == 2
    [line] = result.stderr.strip().splitlines()
    assert line.startswith(f"error: JWT_SECRET={value[:2]}****{value[-2:]}: ") and reason in line, line
    assert value not in result.stderr  # the secret itself is never printed


def test_jack_serve_refuses_the_same_value_for_both_secrets(tmp_path):
    jack = JackProcess(tmp_path, env={"NODE_ENV": "production", "JWT_SECRET": STRONG, "ENCRYPTION_KEY": STRONG})
    jack.start(wait=False)
    assert jack.process.wait(60) == 2
    output = jack.output()
    assert "ENCRYPTION_KEY=" in output and "the same as JWT_SECRET" in output, output
    assert STRONG not in output and "Traceback" not in output and "Uvicorn running" not in output


def test_random_secrets_of_each_common_kind_are_accepted(tmp_path):
    env = {"NODE_ENV": "production", "JWT_SECRET": secrets.token_urlsafe(32), "ENCRYPTION_KEY": secrets.token_hex(16)}
    result = run_jack(tmp_path, "config", "check", env=env)
    assert result.returncode == 0, result.stderr
    assert "Configuration is valid (production)" in result.stdout
