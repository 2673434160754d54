"""How long the ``jack`` commands an operator types many times a day take, as whole processes.

Runs each command (``jack --version``, ``jack --help``, ``jack config check`` by default) after
one untimed warm-up, ``--runs`` times, and prints per command the median, min and max of the
wall time and of the CPU time (user + system, from ``wait4``), against the targets of issue 12:
``--version`` and ``--help`` under 0.3 s, ``config check`` under 1 s.

How it measures, so the figures mean what a user sees:

- Python bytecode is compiled first (``python -m compileall`` over jack_host, plugins and the
  environment's site-packages), and the commands run WITHOUT ``PYTHONDONTWRITEBYTECODE``, as an
  installed Jack runs; ``--no-compile`` skips the compile step.
- Every run gets the same fresh folder as its current folder and ``JACK_CONFIG_DIR`` (no
  ``.env``), and its own ``XDG_CACHE_HOME``: the warm-up writes the cache of the plugins'
  command names that ``jack --help`` reads, exactly as the first command after an install does.
- ``--importtime`` also prints the ten slowest imports of each command (``python -X importtime``).

    .venv/bin/python benchmarks/cli_speed.py
    .venv/bin/python benchmarks/cli_speed.py --runs 20 --json
    .venv/bin/python benchmarks/cli_speed.py --command "plugins list" --importtime

Timings depend on the machine and its load: quote the medians with ``uptime``'s load average.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_COMMANDS = {"--version": 0.3, "--help": 0.3, "config check": 1.0}


def compile_bytecode(python: str) -> None:
    import site  # where this environment's packages are, to compile them too

    folders = [str(ROOT / "jack_host"), str(ROOT / "plugins"), *site.getsitepackages()]
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    subprocess.run([python, "-m", "compileall", "-q", "-j", "0", *folders], env=env, capture_output=True, check=False)


def run_once(argv: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, float, int]:
    """(wall seconds, CPU seconds, exit code) of one whole process."""
    started = time.perf_counter()
    process = subprocess.Popen(argv, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _pid, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    return wall, usage.ru_utime + usage.ru_stime, process.returncode


def slowest_imports(python: str, args: list[str], cwd: Path, env: dict[str, str], top: int = 10) -> list[str]:
    """The ``top`` top-level imports with the largest cumulative time, from ``python -X importtime``."""
    script = f"import sys; sys.argv = ['jack', *{args!r}]; from jack_host.cli.main import main; main()"
    result = subprocess.run([python, "-X", "importtime", "-c", script], cwd=cwd, env=env, capture_output=True, text=True)
    rows = []
    for line in result.stderr.splitlines():
        parts = line.removeprefix("import time:").split("|")
        if len(parts) == 3 and parts[1].strip().isdigit():
            name = parts[2].rstrip()
            if name.startswith(" ") and not name.startswith("  "):  # one space: imported by the script itself
                rows.append((int(parts[1]), name.strip()))
    rows.sort(reverse=True)
    return [f"{us / 1000:8.1f} ms  {name}" for us, name in rows[:top]]


def summary(values: list[float]) -> dict[str, float]:
    return {"median": statistics.median(values), "min": min(values), "max": max(values)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=10, help="timed runs per command (after one warm-up)")
    parser.add_argument("--jack", default=str(Path(sys.executable).with_name("jack")), help="the jack executable")
    parser.add_argument("--command", action="append", help='a command to time instead of the defaults, e.g. "db status"')
    parser.add_argument("--no-compile", action="store_true", help="do not compile bytecode first")
    parser.add_argument("--importtime", action="store_true", help="print each command's ten slowest imports")
    parser.add_argument("--json", action="store_true", help="print JSON")
    options = parser.parse_args()

    commands = {c: None for c in options.command} if options.command else dict(DEFAULT_COMMANDS)
    if not options.no_compile:
        compile_bytecode(sys.executable)
    results = []
    with tempfile.TemporaryDirectory(prefix="jack-cli-speed-") as folder:
        cwd = Path(folder)
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE" and not k.startswith("JACK_")}
        env.update({"JACK_CONFIG_DIR": folder, "DATABASE_PATH": str(cwd / "data" / "jack.db"),
                    "XDG_CACHE_HOME": str(cwd / "cache"), "LOG_LEVEL": "warning"})
        for command, target in commands.items():
            argv = [options.jack, *shlex.split(command)]
            run_once(argv, cwd, env)  # warm-up: page cache, bytecode, the command-name cache
            walls, cpus, codes = [], [], set()
            for _ in range(options.runs):
                wall, cpu, code = run_once(argv, cwd, env)
                walls.append(wall)
                cpus.append(cpu)
                codes.add(code)
            entry = {"command": f"jack {command}", "runs": options.runs, "wall": summary(walls), "cpu": summary(cpus),
                     "exit_codes": sorted(codes), "target_seconds": target}
            if options.importtime:
                entry["slowest_imports"] = slowest_imports(sys.executable, shlex.split(command), cwd, env)
            results.append(entry)

    load = os.getloadavg()
    if options.json:
        print(json.dumps({"load_average": load, "bytecode_compiled": not options.no_compile, "results": results}, indent=2))
        return
    print(f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}; bytecode "
          f"{'compiled, PYTHONDONTWRITEBYTECODE unset' if not options.no_compile else 'as found'}; "
          f"{options.runs} runs each after one warm-up")
    for entry in results:
        wall, cpu, target = entry["wall"], entry["cpu"], entry["target_seconds"]
        verdict = "" if target is None else (f"  target < {target:g} s: " + ("met" if wall["median"] < target else "MISSED"))
        print(f"{entry['command']:<22} wall median {wall['median']:.3f} s (min {wall['min']:.3f}, max {wall['max']:.3f})"
              f"  cpu median {cpu['median']:.3f} s  exit {','.join(map(str, entry['exit_codes']))}{verdict}")
        for line in entry.get("slowest_imports", []):
            print(f"    {line}")


if __name__ == "__main__":
    main()
