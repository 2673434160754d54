"""The operator's first hour (issue 12): what a hotel's IT person sees for the usual mistakes.

Every test runs the real ``jack`` command and checks its stdout, stderr and exit code.
Permission tests run ``jack`` as the user ``nobody`` (``setpriv``), because root ignores
file modes; the running-server test makes the database immutable (``chattr +i``), which
stops root too.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from jack_host.testing import JackProcess, base_environ, free_port, jack_executable, run_jack, wait_until

DOCUMENTED_LOG_FIELDS = {
    "time", "level", "logger", "message", "request_id", "exception",
    "method", "path", "status", "duration_ms", "client_ip", "alert", "severity", "details",
}


def one_line(text: str) -> str:
    lines = [line for line in text.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in text, text
    return lines[0]


# ------------------------------------------------------------------ running jack as another user


def _setpriv_works() -> bool:
    if os.geteuid() != 0 or shutil.which("setpriv") is None:
        return False
    probe = subprocess.run(
        ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", "true"], capture_output=True
    )
    return probe.returncode == 0


as_nobody = pytest.mark.skipif(
    not _setpriv_works(), reason="needs root and setpriv to run jack as the user nobody (root ignores file modes)"
)


@pytest.fixture
def shared_dir() -> Iterator[Path]:
    """A folder nobody can reach (pytest's tmp_path sits below a 0700 folder of root's)."""
    folder = Path(tempfile.mkdtemp(prefix="jack-operator-", dir="/tmp"))
    folder.chmod(0o755)
    try:
        yield folder
    finally:
        for path in (folder, *folder.rglob("*")):
            if path.is_dir():
                path.chmod(0o755)
        shutil.rmtree(folder)


def run_as_nobody(folder: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    environ = base_environ(folder, {"HOME": str(folder / "home"), "PYTHONDONTWRITEBYTECODE": "1", **(env or {})})
    return subprocess.run(
        ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", jack_executable(), *args],
        cwd=folder, env=environ, capture_output=True, text=True, timeout=120,
    )


@as_nobody
def test_a_healthy_database_in_a_read_only_folder_is_a_permission_problem_not_damage(shared_dir):
    migrated = run_jack(shared_dir, "db", "migrate")
    assert migrated.returncode == 0, migrated.stderr
    data = shared_dir / "data"
    (data / "jack.db").chmod(0o666)  # the file is fine, and writable by anyone
    data.chmod(0o555)  # root's folder, read-only for everyone else

    for command in (("db", "migrate"), ("serve",)):
        refused = run_as_nobody(shared_dir, *command)
        assert refused.returncode == 3, (command, refused.stdout, refused.stderr)
        line = one_line(refused.stderr)
        assert line.startswith("error: ") and f"The folder {data} is not writable by user nobody" in line
        assert "damaged" not in line and "jack restore" not in line
        assert "Jack" not in refused.stdout  # no banner, nothing migrated

    # The same database, now readable and writable: nothing needed restoring.
    data.chmod(0o777)
    (data / "jack.db").chmod(0o644)  # root's file, read-only for nobody
    refused = run_as_nobody(shared_dir, "serve")
    assert refused.returncode == 3
    line = one_line(refused.stderr)
    assert f"The database file {data / 'jack.db'} is not writable by user nobody" in line and "chown nobody" in line
    assert "damaged" not in line

    doctor = run_as_nobody(shared_dir, "doctor")
    assert "NOT OK  database writable by this user: The database file" in doctor.stdout, doctor.stdout + doctor.stderr
    assert "ok      database integrity" in doctor.stdout
    assert doctor.returncode == 1


@as_nobody
def test_a_new_install_in_a_read_only_folder_names_the_folder_and_the_user(shared_dir):
    data = shared_dir / "data"
    data.mkdir()
    data.chmod(0o555)
    result = run_as_nobody(shared_dir, "db", "migrate")
    assert result.returncode == 3
    line = one_line(result.stderr)
    assert f"The folder {data} is not writable by user nobody (the database is created there" in line
    assert "sqlalche" not in line and "OperationalError" not in line
    assert not (data / "jack.db").exists()


def test_a_data_folder_outside_the_current_folder_is_not_created(tmp_path):
    # The deployment document's container path, used on the host (a top-level folder that is not there).
    missing = Path(f"/jack-no-such-app-{os.getpid()}")
    result = run_jack(tmp_path, "db", "migrate", env={"DATABASE_PATH": str(missing / "data" / "jack.db")})
    assert result.returncode == 2
    line = one_line(result.stderr)
    assert f"the folder {missing} does not exist (that path is the container's" in line and "mkdir -p" in line
    assert not missing.exists()
    # Below the current folder, a missing folder is simply made.
    nested = run_jack(tmp_path, "db", "migrate", env={"DATABASE_PATH": "var/lib/jack/jack.db"})
    assert nested.returncode == 0, nested.stderr
    assert (tmp_path / "var" / "lib" / "jack" / "jack.db").exists()


# ------------------------------------------------------------------ the port, the banner, the logs, /health


def test_a_port_in_use_is_one_line_and_an_immediate_exit(tmp_path):
    port = free_port()
    holder = socket.socket()
    holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    holder.bind(("0.0.0.0", port))
    holder.listen()
    try:
        result = run_jack(tmp_path, "serve", env={"PORT": str(port)}, timeout=60)
    finally:
        holder.close()
    assert result.returncode == 1
    assert result.stdout == ""  # no banner: the socket was never bound
    line = one_line(result.stderr)
    assert f"error: port {port} is already in use" in line and "PORT=" in line and "--port" in line
    assert not (tmp_path / "data" / "jack.db").exists()  # refused before touching the database


@pytest.fixture(scope="module")
def production_server(tmp_path_factory) -> Iterator[JackProcess]:
    """One production server (JSON logs, all plugins, only the minimum configured) shared by the tests below."""
    folder = tmp_path_factory.mktemp("operator-server")
    env = {
        "JACK_ENV": "production",
        "LOG_LEVEL": "info",
        "JWT_SECRET": "8bbc2af84b638aecdfa9be32a360b999170e655e515198883c1c9fb7a745a9ee",
        "ENCRYPTION_KEY": "eec84bb2ec5d4081956a7b16e83b9920f3de2fb1821148992da1640dc76cbb77",
        "PUBLIC_URL": "https://jack.example-hotel.test",
        "HEALTH_REFRESH_SECONDS": "0.5",
    }
    with JackProcess(folder, env=env) as jack:
        yield jack


def test_the_banner_comes_once_the_socket_is_bound_and_names_the_real_address(production_server):
    lines = production_server.output().splitlines()
    banner = [line for line in lines if "listening on" in line]
    port = production_server.port
    assert banner == [
        f"Jack 0.1.0 (production) listening on all interfaces (0.0.0.0:{port}): http://localhost:{port} on this machine"
    ]
    migrated = next(i for i, line in enumerate(lines) if line.startswith("Applied "))
    assert migrated < lines.index(banner[0])


def test_production_log_lines_carry_only_documented_plain_fields(production_server):
    httpx.get(production_server.url + "/health/live")
    wait_until(lambda: '"path": "/health/live"' in production_server.output(), what="the access log line")
    records = []
    for line in production_server.output().splitlines():
        if line.startswith("{"):
            records.append(json.loads(line))
    assert records, production_server.output()
    for record in records:
        assert set(record) <= DOCUMENTED_LOG_FIELDS, record
        assert all(isinstance(v, str | int | float | bool | dict | list | None) for v in record.values()), record
    text = production_server.output()
    assert "\x1b[" not in text and "litellm_redacted" not in text and "color_message" not in text
    assert not [r for r in records if r["logger"].startswith(("alembic", "httpx", "litellm", "LiteLLM", "botocore"))]


def test_an_unwritable_database_makes_health_and_readiness_report_an_error(production_server):
    if shutil.which("chattr") is None or os.geteuid() != 0:
        pytest.skip("needs root and chattr to make the database immutable while Jack runs")
    database = Path(production_server.environ["DATABASE_PATH"])
    assert httpx.get(production_server.url + "/health").json()["database"] == "connected"
    locked = subprocess.run(["chattr", "+i", str(database)], capture_output=True, text=True)
    if locked.returncode != 0:
        pytest.skip(f"this file system does not take chattr +i: {locked.stderr.strip()}")
    try:
        def reported() -> dict | None:
            response = httpx.get(production_server.url + "/health")
            return response if response.json().get("database") == "error" else None

        health = wait_until(reported, timeout=15, what="/health reporting the database as error")
        assert health.status_code == 503 and health.json()["status"] == "unhealthy"
        assert "is not writable by user root" in health.json()["database_detail"]
        ready = httpx.get(production_server.url + "/health/ready")
        assert ready.status_code == 503 and any("not writable" in p for p in ready.json()["problems"])
    finally:
        subprocess.run(["chattr", "-i", str(database)], check=True)
    wait_until(lambda: httpx.get(production_server.url + "/health").json()["database"] == "connected", timeout=15,
               what="/health back to connected")


# ------------------------------------------------------------------ silent mistakes in the settings


def test_misspelt_and_unknown_settings_are_warned_about(tmp_path):
    (tmp_path / ".env").write_text("DATABSE_PATH=/srv/jack.db\nLOG_LEVL=debug\nTWILIO_ACCOUNT_SIDD=AC1\nPORT=3000\n")
    result = run_jack(tmp_path, "config", "check", env={"JACK_SETTINGS_TYPO": "1"})
    assert result.returncode == 0, result.stderr
    warnings = result.stderr.splitlines()
    env_file = tmp_path / ".env"
    assert f"warning: DATABSE_PATH (in {env_file}) is not a setting; did you mean DATABASE_PATH? It is ignored." in warnings
    assert f"warning: LOG_LEVL (in {env_file}) is not a setting; did you mean LOG_LEVEL? It is ignored." in warnings
    assert any(w.startswith("warning: TWILIO_ACCOUNT_SIDD") and "TWILIO_ACCOUNT_SID?" in w for w in warnings)
    assert any(w.startswith("warning: JACK_SETTINGS_TYPO (environment) is not a setting") for w in warnings)
    assert len(warnings) == 4, warnings
    assert "Configuration is valid (development, with 4 warning(s) above)" in result.stdout


def test_the_deployment_env_gives_no_warnings(tmp_path, fixtures):
    shutil.copy(fixtures / "deployment.env", tmp_path / ".env")
    result = run_jack(tmp_path, "config", "check")
    assert "warning:" not in result.stderr, result.stderr


def test_oncall_file_written_in_dot_env_is_read_and_a_non_yaml_costs_file_is_refused(tmp_path):
    (tmp_path / "schedules").mkdir()
    (tmp_path / "schedules" / "rota.yaml").write_text("oncall:\n  primary: {name: Ana, phone: '+351910000000'}\n")
    (tmp_path / ".env").write_text("ONCALL_FILE=schedules/rota.yaml\n")
    result = run_jack(tmp_path, "config", "check")
    assert result.returncode == 0, result.stderr
    assert str(tmp_path / "schedules" / "rota.yaml") in result.stdout
    shown = run_jack(tmp_path, "config", "show", "--json")
    assert json.loads(shown.stdout)["oncall"]["primary"]["name"] == "Ana"

    (tmp_path / "costs.txt").write_text("costs: {}\n")
    refused = run_jack(tmp_path, "config", "check", env={"COSTS_FILE": str(tmp_path / "costs.txt")})
    assert refused.returncode == 2
    assert "expected a file ending in .yaml or .yml" in one_line(refused.stderr)


def test_config_show_says_where_each_value_comes_from(tmp_path):
    (tmp_path / ".env").write_text("PORT=4000\n")
    result = run_jack(tmp_path, "config", "show", env={"HOTEL_TIMEZONE": "Europe/Lisbon"})
    assert result.returncode == 0, result.stderr
    rows = {line.split()[0]: line.split() for line in result.stdout.splitlines() if line and not line.startswith(" ")}
    assert rows["SETTING"] == ["SETTING", "VALUE", "SOURCE"]
    assert rows["PORT"][1:] == ["4000", "file"]
    assert rows["HOTEL_TIMEZONE"][1:] == ["Europe/Lisbon", "environment"]
    assert rows["SHUTDOWN_GRACE_SECONDS"][1:] == ["10", "default"]


# ------------------------------------------------------------------ doctor


def test_doctor_flags_a_public_interface_without_https_and_rate_limits_switched_off(tmp_path, strong_secrets):
    env = {
        **strong_secrets,
        "JACK_ENV": "production",
        "PUBLIC_URL": "http://jack.example-hotel.test",
        "STAFF_LOGIN_MAX_FAILURES": "100000",
    }
    result = run_jack(tmp_path, "doctor", env=env)
    assert result.returncode == 1
    out = result.stdout
    assert "NOT OK  not reachable on a public interface without HTTPS: HOST=0.0.0.0 (all interfaces)" in out
    assert "NOT OK  rate limits switched on: STAFF_LOGIN_MAX_FAILURES=100000 (more than 50 is no limit)" in out
    assert "ok      database writable by this user" in out

    behind_proxy = run_jack(tmp_path, "doctor", env={**env, "HOST": "127.0.0.1", "STAFF_LOGIN_MAX_FAILURES": "5"})
    assert "ok      not reachable on a public interface without HTTPS: HOST=127.0.0.1 (this machine only)" in (
        behind_proxy.stdout
    )
    assert "ok      rate limits switched on: STAFF_LOGIN_MAX_FAILURES=5" in behind_proxy.stdout


# ------------------------------------------------------------------ migrations


def test_migrations_are_printed_in_dependency_order_and_status_is_one_line_per_feature(tmp_path):
    result = run_jack(tmp_path, "db", "migrate")
    assert result.returncode == 0, result.stderr
    applied = result.stdout.strip().removeprefix("Applied ").split(": ", 1)[1].split(", ")
    assert applied[0] == "host_0001"
    for name in applied:  # each feature's revisions in their own order: staff_0001 before staff_0002
        feature, number = name.rsplit("_", 1)
        earlier = [n for n in applied[: applied.index(name)] if n.rsplit("_", 1)[0] == feature]
        assert all(n.rsplit("_", 1)[1] < number for n in earlier)
    status = run_jack(tmp_path, "db", "status")
    branches = [line.split() for line in status.stdout.splitlines() if line.startswith("  ")]
    assert len({b[0] for b in branches}) == len(branches)  # one line per feature
    assert all(b[2:] == ["up", "to", "date"] for b in branches), status.stdout
    assert status.stdout.splitlines()[-1] == "pending:  none"
