"""`jack doctor`: the deployment security checklist against the live configuration."""

from __future__ import annotations

import shutil

from jack_host.testing import run_jack


def test_doctor_names_placeholder_secrets_from_the_deployment_env(tmp_path, fixtures):
    shutil.copy(fixtures / "deployment.env", tmp_path / ".env")
    result = run_jack(tmp_path, "doctor", env={"DATABASE_PATH": str(tmp_path / "data/jack.db"), "JACK_ENV": "development"})
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert any(line.startswith("NOT OK  JWT_SECRET") and "placeholder" in line for line in lines)
    assert any(line.startswith("NOT OK  ENCRYPTION_KEY") and "placeholder" in line for line in lines)
    assert "must-fix failing" in result.stdout


def test_production_with_real_secrets_and_https_passes(tmp_path, strong_secrets):
    env = {"JACK_ENV": "production", "PUBLIC_URL": "https://jack.hotel.example", "DISK_MIN_FREE_PERCENT": "0", **strong_secrets}
    assert run_jack(tmp_path, "db", "migrate", env=env).returncode == 0
    assert run_jack(tmp_path, "doctor", env=env).returncode == 1  # no backup yet is a must-fix
    assert run_jack(tmp_path, "backup", "create", env=env).returncode == 0
    result = run_jack(tmp_path, "doctor", env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "NOT OK" not in result.stdout
    assert "ok      database integrity" in result.stdout


def test_http_public_url_in_production_must_be_fixed(tmp_path, strong_secrets):
    env = {"JACK_ENV": "production", "PUBLIC_URL": "http://jack.hotel.example", "DISK_MIN_FREE_PERCENT": "0", **strong_secrets}
    result = run_jack(tmp_path, "doctor", env=env)
    assert result.returncode == 1
    assert "NOT OK  HTTPS: PUBLIC_URL uses https://" in result.stdout


def test_low_disk_and_corrupt_database_fail(tmp_path, strong_secrets):
    env = {"DISK_MIN_FREE_PERCENT": "100", **strong_secrets}
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "jack.db").write_bytes(b"this is not a database" * 500)
    result = run_jack(tmp_path, "doctor", env=env)
    assert result.returncode == 1
    assert "NOT OK  free disk space on the data volume" in result.stdout
    assert "NOT OK  database integrity" in result.stdout and "jack restore --latest" in result.stdout
