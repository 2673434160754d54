"""deploy/: the nginx site, the Caddyfile and the systemd unit are checked by the real tools
when they are installed (scripts/test installs them as root), and by their structure always."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import httpx
import pytest

from jack_host.testing import JackProcess, free_port, jack_executable, wait_until

DEPLOY = Path(__file__).resolve().parents[1] / "deploy"
CERT_DIR = "/etc/letsencrypt/live/jack.yourhotel.com"


# ------------------------------------------------------------------ nginx


def _locations(conf: str) -> dict[str, str]:
    return {m.group(1): m.group(2) for m in re.finditer(r"location\s+(\S+)\s*\{(.*?)\}", conf, re.S)}


def test_nginx_site_structure():
    conf = (DEPLOY / "nginx-jack.conf").read_text()
    assert re.search(r"listen 80;.*?return 301 https://\$server_name\$request_uri;", conf, re.S)
    assert "listen 443 ssl" in conf
    locations = _locations(conf)
    assert set(locations) == {"/", "/ws"}  # a prefix location: /ws and /ws/...
    for body in locations.values():
        assert "proxy_pass http://127.0.0.1:3000;" in body
        assert "proxy_http_version 1.1;" in body
        assert "proxy_set_header Upgrade $http_upgrade;" in body
        for header in ("X-Forwarded-For", "X-Forwarded-Proto", "X-Real-IP", "Host"):
            assert f"proxy_set_header {header} " in body, header
    assert "proxy_read_timeout 86400;" in locations["/ws"]
    assert 'proxy_set_header Connection "upgrade";' in locations["/ws"]


def _self_signed_certificate(folder: Path) -> tuple[Path, Path]:
    cert, key = folder / "fullchain.pem", folder / "privkey.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=jack.yourhotel.com",
         "-keyout", str(key), "-out", str(cert)],
        check=True,
        capture_output=True,
    )
    return cert, key


def _nginx_test_config(tmp_path: Path, http_port: int | None = None, https_port: int | None = None, jack_port: int | None = None) -> Path:
    """The site as shipped inside a minimal nginx.conf, with a self-signed certificate; ports
    moved only when the test runs nginx for real (as root it could not share 80/443)."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed")
    cert, key = _self_signed_certificate(tmp_path)
    site = (DEPLOY / "nginx-jack.conf").read_text()
    site = site.replace(f"{CERT_DIR}/fullchain.pem", str(cert)).replace(f"{CERT_DIR}/privkey.pem", str(key))
    if http_port:
        site = site.replace("listen 80;", f"listen 127.0.0.1:{http_port};")
    if https_port:
        site = site.replace("listen 443 ssl", f"listen 127.0.0.1:{https_port} ssl")
    if jack_port:
        site = site.replace("http://127.0.0.1:3000", f"http://127.0.0.1:{jack_port}")
    (tmp_path / "site.conf").write_text(site)
    temp = tmp_path / "temp"
    temp.mkdir()
    main = tmp_path / "nginx.conf"
    main.write_text(
        f"""
pid {tmp_path}/nginx.pid;
error_log {tmp_path}/error.log;
events {{}}
http {{
    access_log {tmp_path}/access.log;
    client_body_temp_path {temp}/body;
    proxy_temp_path {temp}/proxy;
    fastcgi_temp_path {temp}/fastcgi;
    uwsgi_temp_path {temp}/uwsgi;
    scgi_temp_path {temp}/scgi;
    include {tmp_path}/site.conf;
}}
"""
    )
    return main


def _nginx() -> str:
    nginx = shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx",) if Path(p).exists()), None)
    if nginx is None:
        pytest.skip("nginx is not installed (apt-get install nginx; scripts/test does it as root)")
    return nginx


def test_nginx_accepts_the_site(tmp_path):
    nginx = _nginx()
    main = _nginx_test_config(tmp_path)
    result = subprocess.run([nginx, "-t", "-p", str(tmp_path), "-e", str(tmp_path / "error.log"), "-c", str(main)],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "test is successful" in result.stderr


@pytest.mark.slow
def test_nginx_site_redirects_to_https_and_proxies_jack(tmp_path):
    nginx = _nginx()
    http_port, https_port = free_port(), free_port()
    with JackProcess(tmp_path) as jack:
        main = _nginx_test_config(tmp_path, http_port, https_port, jack.port)
        proxy = subprocess.Popen(
            [nginx, "-p", str(tmp_path), "-e", str(tmp_path / "error.log"), "-c", str(main), "-g", "daemon off;"],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        try:

            def answers() -> httpx.Response | None:
                assert proxy.poll() is None, (tmp_path / "error.log").read_text()
                try:
                    return httpx.get(f"https://127.0.0.1:{https_port}/health", verify=False, timeout=2)
                except httpx.HTTPError:
                    return None

            response = wait_until(answers, timeout=30, interval=0.1, what="nginx to proxy /health")
            assert response.status_code == 200
            assert response.json()["database"] == "connected"
            redirect = httpx.get(f"http://127.0.0.1:{http_port}/health", timeout=5)
            assert redirect.status_code == 301
            assert redirect.headers["location"] == "https://jack.yourhotel.com/health"
        finally:
            proxy.terminate()
            proxy.wait(30)


# ------------------------------------------------------------------ Caddy


def test_caddyfile_structure():
    text = (DEPLOY / "Caddyfile").read_text()
    assert re.search(r"^jack\.yourhotel\.com \{\s*(#.*\n\s*)*reverse_proxy 127\.0\.0\.1:3000\s*\}", text, re.M)


def test_caddy_accepts_the_caddyfile(tmp_path):
    caddy = shutil.which("caddy")
    if caddy is None:
        pytest.skip("caddy is not installed (apt-get install caddy; scripts/test does it as root)")
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "XDG_DATA_HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path)}
    result = subprocess.run(
        [caddy, "validate", "--config", str(DEPLOY / "Caddyfile"), "--adapter", "caddyfile"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Valid configuration" in result.stdout + result.stderr


# ------------------------------------------------------------------ systemd


def _unit() -> dict[str, dict[str, list[str]]]:
    sections: dict[str, dict[str, list[str]]] = {}
    current: dict[str, list[str]] = {}
    for line in (DEPLOY / "jack.service").read_text().splitlines():
        line = line.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            current = sections.setdefault(line.strip("[]"), {})
            continue
        key, _, value = line.partition("=")
        current.setdefault(key, []).append(value)
    return sections


def test_systemd_unit_runs_jack_serve_like_the_pm2_lines():
    service = _unit()["Service"]
    assert service["ExecStart"] == ["/opt/jack/.venv/bin/jack serve"]
    assert service["User"] == ["jack"]
    assert service["WorkingDirectory"] == ["/opt/jack"]
    assert service["EnvironmentFile"] == ["/etc/jack/.env"]
    assert service["Restart"] == ["on-failure"]
    assert service["KillSignal"] == ["SIGTERM"]
    assert int(service["TimeoutStopSec"][0]) > 10  # longer than jack serve's SHUTDOWN_GRACE_SECONDS default
    assert _unit()["Install"]["WantedBy"] == ["multi-user.target"]


def test_systemd_analyze_verifies_the_unit(tmp_path):
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed")
    # verify insists that ExecStart exists: point it at this checkout's jack, nothing else changes.
    unit = tmp_path / "jack.service"
    unit.write_text((DEPLOY / "jack.service").read_text().replace("/opt/jack/.venv/bin/jack", jack_executable()))
    result = subprocess.run([analyze, "verify", "--man=no", str(unit)], capture_output=True, text=True, timeout=60)
    # verify exits 0 even for lines it ignores, so any message is a failure too.
    assert result.returncode == 0 and not (result.stdout + result.stderr).strip(), result.stdout + result.stderr
