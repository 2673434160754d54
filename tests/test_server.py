"""The real `jack serve` process: health documents, request ids, logs, proxy headers, shutdown."""

from __future__ import annotations

import json
import shutil
import signal
import threading
import types

import httpx
import pytest

from jack_host import hookimpl
from jack_host.contract.interfaces import Channel, ComponentHealth
from jack_host.testing import JackProcess, echo_plugin, make_app, running_app, wait_until


def test_health_matches_the_documented_shape(tmp_path):
    with JackProcess(tmp_path) as jack:
        response = httpx.get(jack.url + "/health")
        assert response.status_code == 200
        body = response.json()
        assert body["status"] == "healthy"
        assert body["version"] == "0.1.0"
        assert isinstance(body["uptime"], int) and body["uptime"] >= 0
        assert body["database"] == "connected"
        assert set(body["channels"]) == {"whatsapp", "sms", "email", "webchat"}
        assert set(body["channels"].values()) <= {"connected", "not_configured", "error"}
        assert httpx.get(jack.url + "/health/live").json() == {"status": "alive"}
        assert httpx.get(jack.url + "/health/ready").json()["status"] == "ready"


def test_health_lists_every_installed_channel(tmp_path):
    with JackProcess(tmp_path, env={"JACK_ENABLED_PLUGINS": "channel_email,channel_whatsapp"}) as jack:
        body = httpx.get(jack.url + "/health").json()
        assert set(body["channels"]) == {"email", "whatsapp"}
        assert body["channels"]["email"] == "not_configured"
        assert body["channel_details"]["email"]
        assert body["status"] == "healthy"  # not_configured is not an error


def test_errors_are_json_and_requests_carry_an_id(tmp_path):
    with JackProcess(tmp_path) as jack:
        response = httpx.get(jack.url + "/no/such/page", headers={"X-Request-ID": "abc123"})
        assert response.status_code == 404
        assert response.json()["error"] == "404 Not Found"
        assert response.headers["X-Request-ID"] == "abc123"
        assert len(httpx.get(jack.url + "/health").headers["X-Request-ID"]) == 32


def test_sigterm_stops_gracefully(tmp_path):
    jack = JackProcess(tmp_path, env={"LOG_LEVEL": "info"}).start()
    assert jack.stop(signal.SIGTERM) == 0
    assert "Application shutdown complete" in jack.output()
    assert jack.output().rstrip().endswith("Jack stopped.")


def test_production_logs_are_json_lines_with_request_ids(tmp_path, strong_secrets):
    env = {"NODE_ENV": "production", "LOG_LEVEL": "info", **strong_secrets}
    with JackProcess(tmp_path, env=env) as jack:
        httpx.get(jack.url + "/health", headers={"X-Request-ID": "req-for-log"})
    lines = [json.loads(line) for line in jack.output().splitlines() if line.startswith("{")]
    access = [line for line in lines if line.get("request_id") == "req-for-log"]
    assert access and access[0]["level"] == "info" and access[0]["path"] == "/health"


def test_development_logs_are_readable_lines(tmp_path):
    with JackProcess(tmp_path, env={"LOG_LEVEL": "info"}) as jack:
        httpx.get(jack.url + "/health")
    assert "GET /health 200" in jack.output()
    assert not any(line.startswith("{") for line in jack.output().splitlines())


def test_deployment_env_starts_the_server_once_secrets_are_changed(tmp_path, fixtures, strong_secrets):
    env_text = (fixtures / "deployment.env").read_text().replace("/app/data/jack.db", str(tmp_path / "data/jack.db"))
    (tmp_path / ".env").write_text(env_text)
    refused = JackProcess(tmp_path, env={"DATABASE_PATH": ""})
    refused.environ.pop("DATABASE_PATH")
    refused.start(wait=False)
    assert refused.process.wait(60) == 2
    assert "JWT_SECRET" in refused.output() and "placeholder" in refused.output()

    with JackProcess(tmp_path, env=strong_secrets) as jack:
        health = httpx.get(jack.url + "/health").json()
    # The file's SMTP server (smtp.gmail.com) cannot be reached from the test machine: e-mail says
    # so, and the server runs all the same.
    assert health["status"] == "degraded" and health["channels"]["email"] == "error"
    assert "smtp.gmail.com" in health["channel_details"]["email"]


def test_corrupt_database_is_refused_with_restore_instructions(tmp_path):
    with JackProcess(tmp_path):
        pass
    database = tmp_path / "data" / "jack.db"
    for suffix in ("-wal", "-shm"):
        (tmp_path / "data" / f"jack.db{suffix}").unlink(missing_ok=True)
    data = bytearray(database.read_bytes())
    data[100:4096 * 2] = b"\xde\xad\xbe\xef" * ((4096 * 2 - 100) // 4)
    database.write_bytes(bytes(data))

    jack = JackProcess(tmp_path).start(wait=False)
    assert jack.process.wait(60) == 3
    output = jack.output()
    assert str(database) in output
    assert "jack restore --latest" in output
    assert "Traceback" not in output
    assert "Uvicorn running" not in output


def test_db_migrate_says_what_it_did(tmp_path):
    from jack_host.testing import run_jack

    first = run_jack(tmp_path, "db", "migrate")
    assert first.returncode == 0 and "Applied" in first.stdout and "host_0001" in first.stdout
    again = run_jack(tmp_path, "db", "migrate")
    assert again.returncode == 0 and "up to date" in again.stdout
    status = run_jack(tmp_path, "db", "status")
    assert "pending:  none" in status.stdout


@pytest.mark.parametrize(
    ("allow", "trusted"),
    [("127.0.0.1", True), ("10.0.0.0/8", False), ("*", True)],
)
def test_proxy_headers_are_trusted_only_from_forwarded_allow_ips(tmp_path, allow, trusted):
    app = make_app(tmp_path, plugins=[echo_plugin(ip="client_ip", scheme="scheme", host="host")], env={"FORWARDED_ALLOW_IPS": allow})
    headers = {"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https", "X-Forwarded-Host": "jack.hotel.example"}
    with running_app(app) as url:
        seen = httpx.get(url + "/echo", headers=headers).json()
    if trusted:
        assert seen == {"ip": "203.0.113.9", "scheme": "https", "host": "jack.hotel.example"}
    else:
        assert seen["ip"] == "127.0.0.1" and seen["scheme"] == "http" and seen["host"].startswith("127.0.0.1")


def _channel_plugin(state):
    class Flaky(Channel):
        name = "flaky"

        async def health(self):
            return ComponentHealth.error("provider said 401") if state["broken"] else ComponentHealth.connected()

        async def send(self, message):
            raise AssertionError("unused")

    module = types.SimpleNamespace()

    @hookimpl
    def jack_register_channels(register, app):
        register(Flaky())

    module.jack_register_channels = jack_register_channels
    return ("flaky", module)


def test_health_is_degraded_by_a_channel_in_error_and_unhealthy_without_database(tmp_path):
    app = make_app(tmp_path, plugins=[_channel_plugin({"broken": True})])
    with running_app(app) as url:
        body = httpx.get(url + "/health").json()
        assert body["status"] == "degraded"
        assert body["channels"]["flaky"] == "error"
        assert body["channel_details"]["flaky"] == "provider said 401"

        app.engine.dispose()
        data = tmp_path / "data"
        shutil.rmtree(data)
        data.mkdir()
        (data / "jack.db").mkdir()  # the database file is gone and cannot be opened
        # /health is rebuilt in the background every HEALTH_REFRESH_SECONDS (2 s by default).
        wait_until(lambda: httpx.get(url + "/health").status_code == 503, timeout=8, what="/health to turn 503")
        response = httpx.get(url + "/health")
        assert response.json()["status"] == "unhealthy"
        assert response.json()["database"] == "error"
        assert httpx.get(url + "/health/ready").status_code == 503


class _HangingSection:
    """A feature whose /health section blocks, like a database that stops answering."""

    def __init__(self):
        self.release = threading.Event()
        self.hang = False

    @hookimpl
    def jack_health_extras(self, app):
        if self.hang:
            self.release.wait(30)
        return {"hanging_feature": "ok"}


def test_health_is_served_from_the_background_and_turns_unhealthy_when_its_checks_stop_finishing(tmp_path):
    from sqlalchemy import event

    section = _HangingSection()
    app = make_app(tmp_path, plugins=[("hanging", section)], env={"HEALTH_REFRESH_SECONDS": "0.3"})
    with running_app(app) as url:
        on_loop = []  # SQL run on the server's own thread, where requests are answered
        server_thread = {t.name for t in threading.enumerate() if t.name.startswith("jack-test-server-")}
        event.listen(
            app.engine,
            "before_cursor_execute",
            lambda *args: on_loop.append(args[2]) if threading.current_thread().name in server_thread else None,
        )
        try:
            for _ in range(20):
                body = httpx.get(url + "/health").json()
                assert body["status"] == "healthy"
            assert on_loop == []  # the sections came from the background build, in a worker thread
            assert body["hanging_feature"] == "ok" and body["checked_seconds_ago"] < 5

            section.hang = True
            wait_until(lambda: httpx.get(url + "/health").status_code == 503, timeout=8, what="stale /health to turn 503")
            stale = httpx.get(url + "/health").json()
            assert stale["status"] == "unhealthy" and stale["database"] == "error"
            assert "not answering" in stale["database_detail"]
            assert httpx.get(url + "/health/live").status_code == 200
        finally:
            section.hang = False
            section.release.set()
        wait_until(lambda: httpx.get(url + "/health").status_code == 200, timeout=8, what="/health to recover")


def test_metrics_are_per_app_and_served(tmp_path):
    from prometheus_client import Counter

    first = make_app(tmp_path / "a")
    second = make_app(tmp_path / "b")
    Counter("jack_test_things", "things", registry=first.metrics).inc(3)
    with running_app(first) as url:
        body = httpx.get(url + "/metrics").text
    assert "jack_test_things_total 3.0" in body
    with running_app(second) as url:
        assert "jack_test_things" not in httpx.get(url + "/metrics").text
