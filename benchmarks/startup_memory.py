"""Cold start time and idle memory of the real ``jack serve``.

Each run starts ``jack serve`` in a new temporary folder (so a fresh SQLite database,
migrated by ``jack serve`` at start) with no API keys and no configuration files
(``JACK_CONFIG_DIR`` is the temporary folder, so nothing in ``/etc/jack`` is read), and
measures:

- cold start: wall time from spawning the process until ``GET /health/ready``
  answers 200 (polled every 20 ms, up to 60 s);
- idle RSS: after ready, ``VmRSS`` of the server process from ``/proc/PID/status``,
  sampled every 250 ms until three consecutive samples (``--settle-samples``) are
  within 1 % of each other (up to 20 s, ``--settle-timeout``; the last sample is
  reported otherwise, marked ``unsettled``);
- peak RSS: ``VmHWM`` of the server process at that moment.

Ready comes before the warm-up is over: LiteLLM is still being imported in a thread
(``app.warm_up``) for some seconds after ``/health/ready`` answers, and RSS grows in
steps with short flat stretches between them.  Three samples (0.5 s) can settle on one
of those stretches; ``--settle-samples 12`` (about 3 s flat) waits for the real idle
figure on a quiet machine.

The server is then stopped with SIGTERM and waited for.  One line is printed per run,
then a summary with the median and the min-max of each figure.  Linux only (``/proc``).

    .venv/bin/python benchmarks/startup_memory.py                  # the jack beside this Python, 5 runs
    .venv/bin/python benchmarks/startup_memory.py --runs 10 --json
    python3 benchmarks/startup_memory.py --jack /other/venv/bin/jack

Timings depend on the machine and its load: compare figures taken on the same
machine, under the same load (note ``uptime`` alongside them).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

READY_POLL = 0.02
READY_TIMEOUT = 60.0
RSS_INTERVAL = 0.25
RSS_TOLERANCE = 0.01
STOP_TIMEOUT = 30.0
#: Variables that would give the server a model or API keys; left out of its environment.
DROPPED_PREFIXES = ("AI_", "OPENAI_", "ANTHROPIC_", "OLLAMA_")


def default_jack() -> Path:
    return Path(sys.executable).parent / "jack"


def free_port() -> int:
    # Not jack_host.testing.loopback.free_port: this script also runs with a plain python3 that
    # has only httpx, against a jack installed elsewhere (--jack).
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def server_environ(folder: Path) -> dict[str, str]:
    """This process's environment without model settings or keys, every file pointed at ``folder``."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith(DROPPED_PREFIXES)}
    environ.update(
        {
            "JACK_CONFIG_DIR": str(folder),
            "DATABASE_PATH": str(folder / "data" / "jack.db"),
            "BACKUP_DIR": str(folder / "data" / "backups"),
            "BACKUP_SCHEDULE_TIME": "off",
            "LOG_LEVEL": "warning",
        }
    )
    return environ


def proc_kib(pid: int, field: str) -> int:
    """A ``kB`` figure (``VmRSS``, ``VmHWM``) from ``/proc/PID/status``."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"no {field} for process {pid}")


def wait_ready(process: subprocess.Popen, url: str, log: Path) -> float:
    """Poll ``/health/ready`` until it answers 200; return the moment it did."""
    deadline = time.monotonic() + READY_TIMEOUT
    with httpx.Client(timeout=1) as client:
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"jack serve exited with {process.returncode} before ready:\n{log.read_text()}")
            try:
                if client.get(url).status_code == 200:
                    return time.perf_counter()
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"jack serve not ready after {READY_TIMEOUT:.0f} s:\n{log.read_text()}")
            time.sleep(READY_POLL)


def settled_rss(pid: int, count: int, timeout: float) -> tuple[int, bool, float]:
    """VmRSS in KiB once ``count`` consecutive samples differ by under 1 %; whether they did; seconds waited."""
    started = time.monotonic()
    samples = [proc_kib(pid, "VmRSS")]
    while time.monotonic() - started < timeout:
        last = samples[-count:]
        if len(last) == count and (max(last) - min(last)) < RSS_TOLERANCE * max(last):
            return samples[-1], True, time.monotonic() - started
        time.sleep(RSS_INTERVAL)
        samples.append(proc_kib(pid, "VmRSS"))
    return samples[-1], False, time.monotonic() - started


def stop(process: subprocess.Popen) -> int:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    return process.returncode


def one_run(jack: Path, settle_samples: int, settle_timeout: float) -> dict:
    with tempfile.TemporaryDirectory(prefix="jack-startup-") as name:
        folder = Path(name)
        port = free_port()
        log = folder / "jack-serve.log"
        with log.open("w") as out:
            started = time.perf_counter()
            process = subprocess.Popen(
                [str(jack), "serve", "--host", "127.0.0.1", "--port", str(port)],
                cwd=folder,
                env=server_environ(folder),
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
            try:
                ready = wait_ready(process, f"http://127.0.0.1:{port}/health/ready", log)
                rss, settled, waited = settled_rss(process.pid, settle_samples, settle_timeout)
                hwm = proc_kib(process.pid, "VmHWM")
            finally:
                code = stop(process)
        if code != 0:
            print(f"warning: jack serve exited with {code} after SIGTERM:\n{log.read_text()}", file=sys.stderr)
    return {
        "cold_start_s": round(ready - started, 3),
        "idle_rss_mb": round(rss / 1024, 1),
        "peak_rss_mb": round(hwm / 1024, 1),
        "rss_settled": settled,
        "rss_after_ready_s": round(waited, 2),
        "exit_code": code,
    }


def spread(values: list[float]) -> dict:
    return {"median": round(statistics.median(values), 3), "min": min(values), "max": max(values)}


def summarise(jack: Path, results: list[dict], settle_samples: int) -> dict:
    return {
        "jack": str(jack),
        "runs": len(results),
        "settle_samples": settle_samples,
        "cold_start_s": spread([r["cold_start_s"] for r in results]),
        "idle_rss_mb": spread([r["idle_rss_mb"] for r in results]),
        "peak_rss_mb": spread([r["peak_rss_mb"] for r in results]),
        "all_settled": all(r["rss_settled"] for r in results),
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--jack", type=Path, default=default_jack(),
                        help="the jack executable to measure (default: the jack beside this Python, %(default)s)")
    parser.add_argument("--runs", type=int, default=5, help="how many cold starts (default 5)")
    parser.add_argument("--settle-samples", type=int, default=3,
                        help="consecutive RSS samples (250 ms apart) within 1 %% that count as idle (default 3)")
    parser.add_argument("--settle-timeout", type=float, default=20.0,
                        help="seconds after ready to wait for RSS to settle (default 20)")
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    args = parser.parse_args()
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    if args.settle_samples < 2:
        parser.error("--settle-samples must be at least 2")
    if not os.access(args.jack, os.X_OK):
        sys.exit(f"error: {args.jack} is not an executable (pass --jack PATH)")
    results = []
    for number in range(1, args.runs + 1):
        result = one_run(args.jack, args.settle_samples, args.settle_timeout)
        results.append(result)
        print(
            f"run {number}: cold start {result['cold_start_s']:.3f} s, idle RSS {result['idle_rss_mb']:.1f} MB"
            f" ({'settled' if result['rss_settled'] else 'NOT settled'} {result['rss_after_ready_s']:.1f} s after ready),"
            f" peak RSS {result['peak_rss_mb']:.1f} MB",
            file=sys.stderr if args.json else sys.stdout,
            flush=True,
        )
    summary = summarise(args.jack, results, args.settle_samples)
    if args.json:
        print(json.dumps(summary, indent=2))
        return
    cold, idle, peak = summary["cold_start_s"], summary["idle_rss_mb"], summary["peak_rss_mb"]
    print(
        f"summary ({summary['runs']} runs): cold start median {cold['median']:.3f} s"
        f" (min {cold['min']:.3f}, max {cold['max']:.3f}); idle RSS median {idle['median']:.1f} MB"
        f" (min {idle['min']:.1f}, max {idle['max']:.1f}); peak RSS median {peak['median']:.1f} MB"
        f" (min {peak['min']:.1f}, max {peak['max']:.1f})"
        f"{'' if summary['all_settled'] else f'; some idle RSS did not settle within {args.settle_timeout:g} s'}"
    )


if __name__ == "__main__":
    main()
