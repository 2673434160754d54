"""The performance suite: one command, one table, one JSON file.

Runs the real ``jack serve`` against loopback fakes and measures what a hotel feels:

- web chat over WebSocket, 5, 20 and 50 closed-loop guests (each sends a question, waits for
  the answer, sends the next), with the fake OpenAI server answering at 0 ms and 100 ms;
- WhatsApp webhooks signed with the app secret as Meta signs them, 20 closed-loop guests,
  the reply counted when it reaches the fake Graph API;
- for each: replies/s, p50, p95 and p99 latency, host overhead (latency minus the fake
  LLM's delay), and server CPU ms per reply (utime + stime from /proc over the run);
- peak RSS under load with a model configured (VmHWM), idle RSS 5 s after a start with no
  model configured, cold start to a healthy ``/health`` on an existing database, and
  ``GET /health`` and ``/health/live`` under ``wrk -t2 -c50 -d10s`` (when wrk is installed);
- ``--workers 2`` when ``jack serve`` supports it (reported as not available otherwise).

Every row records the load average seen during its run; quote figures from a quiet machine.

    .venv/bin/python benchmarks/suite.py                      # everything, ~4 min
    .venv/bin/python benchmarks/suite.py --seconds 5 --only webchat
    .venv/bin/python benchmarks/suite.py --json out.json
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
from websockets.asyncio.client import connect

from jack_host.testing import JackProcess, run_jack, wait_until
from jack_host.testing.fake_llm import FakeOpenAI
from jack_host.testing.fake_whatsapp import FakeGraphAPI

ARTICLES = 20
QUESTIONS = ["What time is breakfast?", "Is there parking?", "When is checkout?", "Do you have a pool?",
             "How do I connect to the wifi?", "Can I bring my dog?"]
APP_SECRET = "bench-app-secret"
PHONE_NUMBER_ID = "1055000000001"
CLK_TCK = os.sysconf("SC_CLK_TCK")


def loadavg() -> float:
    return round(os.getloadavg()[0], 2)


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime, stime


def status_kib(pid: int, key: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    return 0


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


def knowledge_file(folder: Path) -> Path:
    entries = [{"title": "Breakfast", "body": "Breakfast is served from 7 to 10 in the Garden Room.", "category": "dining"}]
    topics = ["Parking", "Checkout", "Pool", "Wifi", "Pets", "Spa", "Gym", "Laundry", "Airport shuttle", "Late checkout",
              "Room service", "Bar", "Restaurant", "Luggage storage", "Bicycles", "Safe", "Minibar", "Accessibility",
              "Smoking policy"]
    for topic in topics[: ARTICLES - 1]:
        entries.append({"title": topic, "body": f"About {topic.lower()}: ask the front desk, open 24 hours.", "category": "general"})
    path = folder / "knowledge.yaml"
    path.write_text(json.dumps(entries))  # JSON is YAML
    return path


def prepared_folder(env: dict[str, str]) -> Path:
    """A folder with a migrated database holding the knowledge base."""
    folder = Path(tempfile.mkdtemp(prefix="jack-bench-"))
    for args in (("db", "migrate"), ("kb", "import", str(knowledge_file(folder)))):
        result = run_jack(folder, *args, env=env)
        if result.returncode != 0:
            sys.exit(f"error: jack {' '.join(args)} failed:\n{result.stdout}{result.stderr}")
    return folder


def base_env() -> dict[str, str]:
    return {
        "LOG_LEVEL": "warning",
        "WEBCHAT_SESSIONS_PER_ADDRESS_PER_MINUTE": "1000000",
        "WEBCHAT_RATE_LIMIT_PER_MINUTE": "1000000",
        "WEBCHAT_MESSAGES_PER_ADDRESS_PER_MINUTE": "1000000",
        "AI_MAX_CALLS_PER_MINUTE": "1000000",
        "JWT_SECRET": "bench-" + uuid.uuid4().hex,
    }


class Run:
    """One closed-loop load run: latencies of every reply, and the server's CPU over the run."""

    def __init__(self) -> None:
        self.latencies: list[float] = []
        self.errors = 0

    def summary(self, name: str, pid: int, cpu_before: float, seconds: float, llm_delay: float, load: list[float]) -> dict[str, Any]:
        cpu = cpu_seconds(pid) - cpu_before
        replies = len(self.latencies)
        ms = [x * 1000 for x in self.latencies]
        return {
            "name": name,
            "replies": replies,
            "errors": self.errors,
            "replies_per_s": round(replies / seconds, 1),
            "p50_ms": round(percentile(ms, 50), 1),
            "p95_ms": round(percentile(ms, 95), 1),
            "p99_ms": round(percentile(ms, 99), 1),
            "host_overhead_p95_ms": round(percentile(ms, 95) - llm_delay * 1000, 1),
            "cpu_ms_per_reply": round(cpu * 1000 / replies, 2) if replies else None,
            "peak_rss_mb": round(status_kib(pid, "VmHWM") / 1024, 1),
            "loadavg": round(max(load), 2) if load else loadavg(),
        }


async def webchat_guest(base_url: str, deadline: float, run: Run) -> None:
    ws = await connect(base_url.replace("http://", "ws://") + "/ws", origin=base_url, open_timeout=60,
                       ping_interval=None, max_queue=64)
    try:
        await ws.send(json.dumps({"type": "hello", "protocol": 1, "token": None, "language": "en"}))
        while json.loads(await asyncio.wait_for(ws.recv(), 30))["type"] != "history":
            pass
        number = 0
        while time.monotonic() < deadline:
            question = QUESTIONS[number % len(QUESTIONS)]
            number += 1
            started = time.monotonic()
            await ws.send(json.dumps({"type": "message", "client_id": uuid.uuid4().hex[:16], "body": question}))
            try:
                while True:
                    frame = json.loads(await asyncio.wait_for(ws.recv(), 30))
                    if frame.get("type") == "message" and frame.get("sender") not in (None, "guest"):
                        break
                    if frame.get("type") == "error":
                        raise RuntimeError(f"the server refused a message: {frame}")
            except TimeoutError:
                run.errors += 1
                continue
            run.latencies.append(time.monotonic() - started)
    finally:
        await ws.close()


async def sample_load(stop: asyncio.Event, into: list[float]) -> None:
    while not stop.is_set():
        into.append(os.getloadavg()[0])
        await asyncio.sleep(1)


async def webchat_load(base_url: str, guests: int, seconds: float) -> Run:
    run = Run()
    deadline = time.monotonic() + seconds
    await asyncio.gather(*(webchat_guest(base_url, deadline, run) for _ in range(guests)))
    return run


def signed_whatsapp(guest: int, number: int) -> tuple[bytes, dict[str, str]]:
    wa_id = f"3930000{guest:05d}"
    payload = {"object": "whatsapp_business_account", "entry": [{"id": "WABA1", "changes": [{"field": "messages", "value": {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550100", "phone_number_id": PHONE_NUMBER_ID},
        "contacts": [{"profile": {"name": f"Guest {guest}"}, "wa_id": wa_id}],
        "messages": [{"from": wa_id, "id": f"wamid.BENCH{guest:04d}{number:06d}", "timestamp": str(int(time.time())),
                      "type": "text", "text": {"body": QUESTIONS[number % len(QUESTIONS)]}}],
    }}]}]}
    body = json.dumps(payload).encode()
    signature = "sha256=" + hmac.new(APP_SECRET.encode(), body, hashlib.sha256).hexdigest()
    return body, {"Content-Type": "application/json", "X-Hub-Signature-256": signature}


async def whatsapp_load(base_url: str, graph: FakeGraphAPI, guests: int, seconds: float) -> Run:
    run = Run()
    deadline = time.monotonic() + seconds

    def sent_to(wa_id: str) -> int:
        return sum(1 for r in list(graph.requests) if r.method == "POST" and r.path.endswith("/messages") and wa_id in r.body.decode())

    async def guest(index: int, client: httpx.AsyncClient) -> None:
        wa_id = f"3930000{index:05d}"
        number = 0
        while time.monotonic() < deadline:
            body, headers = signed_whatsapp(index, number)
            number += 1
            started = time.monotonic()
            response = await client.post(base_url + "/webhooks/whatsapp", content=body, headers=headers)
            if response.status_code != 200:
                run.errors += 1
                continue
            while sent_to(wa_id) < number and time.monotonic() - started < 30:
                await asyncio.sleep(0.002)
            if sent_to(wa_id) < number:
                run.errors += 1
                continue
            run.latencies.append(time.monotonic() - started)

    async with httpx.AsyncClient(timeout=30) as client:
        await asyncio.gather(*(guest(i, client) for i in range(guests)))
    return run


def serve(folder: Path, env: dict[str, str], args: tuple[str, ...] = ()) -> JackProcess:
    server = JackProcess(folder, env=env, args=args)
    server.start()
    return server


async def load_rows(args: argparse.Namespace, rows: list[dict[str, Any]]) -> None:
    for delay in (0.0, 0.1):
        with FakeOpenAI(reply='{"reply": "Breakfast is served from 7 to 10.", "confident": true}', delay=delay) as llm:
            env = {**base_env(), **llm.env(), "AI_MODEL": "openai/gpt-4o-mini"}
            folder = prepared_folder(env)
            try:
                for workers in args.workers:
                    extra = ("--workers", str(workers)) if workers > 1 else ()
                    try:
                        server = serve(folder, env, extra)
                    except AssertionError as exc:
                        rows.append({"name": f"webchat workers={workers}", "error": str(exc).splitlines()[0]})
                        continue
                    try:
                        pid = server.process.pid
                        await webchat_load(server.url, 5, 2)  # warm-up: imports, caches, first connections
                        for guests in args.guests:
                            load: list[float] = []
                            stop = asyncio.Event()
                            sampler = asyncio.create_task(sample_load(stop, load))
                            before = cpu_seconds(pid)
                            run = await webchat_load(server.url, guests, args.seconds)
                            stop.set()
                            await sampler
                            name = f"webchat {guests} guests, LLM {int(delay * 1000)} ms" + (f", workers {workers}" if workers > 1 else "")
                            rows.append(run.summary(name, pid, before, args.seconds, delay, load))
                            print(json.dumps(rows[-1]), flush=True)
                    finally:
                        server.stop()
            finally:
                shutil.rmtree(folder, ignore_errors=True)


async def whatsapp_rows(args: argparse.Namespace, rows: list[dict[str, Any]]) -> None:
    with FakeOpenAI(reply='{"reply": "Breakfast is served from 7 to 10.", "confident": true}') as llm, FakeGraphAPI() as graph:
        env = {**base_env(), **llm.env(), "AI_MODEL": "openai/gpt-4o-mini", "WHATSAPP_ACCESS_TOKEN": graph.access_token,
               "WHATSAPP_PHONE_NUMBER_ID": PHONE_NUMBER_ID, "WHATSAPP_APP_SECRET": APP_SECRET,
               "WHATSAPP_VERIFY_TOKEN": "bench-verify", "WHATSAPP_API_URL": graph.api_url}
        folder = prepared_folder(env)
        server = serve(folder, env)
        try:
            pid = server.process.pid
            load: list[float] = []
            stop = asyncio.Event()
            sampler = asyncio.create_task(sample_load(stop, load))
            before = cpu_seconds(pid)
            run = await whatsapp_load(server.url, graph, 20, args.seconds)
            stop.set()
            await sampler
            rows.append(run.summary("whatsapp 20 guests, LLM 0 ms", pid, before, args.seconds, 0.0, load))
            print(json.dumps(rows[-1]), flush=True)
        finally:
            server.stop()
            shutil.rmtree(folder, ignore_errors=True)


def start_rows(rows: list[dict[str, Any]]) -> None:
    env = base_env()
    folder = prepared_folder(env)
    try:
        # Cold start to healthy on the existing database: spawn -> first 200 from /health.
        starts = []
        for _ in range(3):
            server = JackProcess(folder, env=env)
            started = time.monotonic()
            server.start(wait=False)

            def healthy(server: JackProcess = server) -> bool:
                try:
                    return httpx.get(server.url + "/health", timeout=1).status_code == 200
                except httpx.HTTPError:
                    return False

            wait_until(healthy, timeout=60, interval=0.02, what="a healthy /health")
            starts.append(time.monotonic() - started)
            if len(starts) == 3:
                time.sleep(5)  # the documented measure: RSS 5 s after start
                idle = status_kib(server.process.pid, "VmRSS")
                rows.append({"name": "idle RSS 5 s after start, no model", "rss_mb": round(idle / 1024, 1), "loadavg": loadavg()})
                for path in ("/health", "/health/live"):
                    rows.append(wrk_row(server.url + path))
            server.stop()
        rows.insert(len(rows) - 3, {"name": "cold start to healthy (median of 3)", "seconds": round(statistics.median(starts), 2),
                                    "all": [round(s, 2) for s in starts], "loadavg": loadavg()})
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def wrk_row(url: str) -> dict[str, Any]:
    name = f"GET /{url.split('/', 3)[3]} wrk -t2 -c50 -d10s"
    if not shutil.which("wrk"):
        return {"name": name, "error": "wrk is not installed (apt-get install wrk)"}
    load = loadavg()
    out = subprocess.run(["wrk", "-t2", "-c50", "-d10s", "--latency", url], capture_output=True, text=True).stdout
    rate = re.search(r"Requests/sec:\s+([\d.]+)", out)
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)", out)
    p90 = re.search(r"90%\s+([\d.]+)(us|ms|s)", out)
    timeouts = re.search(r"timeout (\d+)", out)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)

    def ms(match: re.Match | None) -> float | None:
        if not match:
            return None
        return round(float(match.group(1)) * {"us": 0.001, "ms": 1, "s": 1000}[match.group(2)], 2)

    return {"name": name, "requests_per_s": float(rate.group(1)) if rate else None, "p90_ms": ms(p90), "p99_ms": ms(p99),
            "timeouts": int(timeouts.group(1)) if timeouts else 0, "non_2xx": int(non2xx.group(1)) if non2xx else 0,
            "loadavg": max(load, loadavg())}


def table(rows: list[dict[str, Any]]) -> str:
    keys = ["replies_per_s", "p50_ms", "p95_ms", "p99_ms", "host_overhead_p95_ms", "cpu_ms_per_reply", "peak_rss_mb",
            "seconds", "rss_mb", "requests_per_s", "p90_ms", "timeouts", "errors", "loadavg"]
    lines = []
    for row in rows:
        cells = [f"{k}={row[k]}" for k in keys if k in row and row[k] is not None]
        if "error" in row:
            cells.append(f"error={row['error']}")
        lines.append(f"{row['name']:<48} " + "  ".join(cells))
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=15, help="length of each load run (default 15)")
    parser.add_argument("--guests", type=int, nargs="+", default=[5, 20, 50], help="closed-loop guests per run")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2], help="jack serve --workers values to try")
    parser.add_argument("--only", choices=["webchat", "whatsapp", "start"], action="append", help="run only these parts")
    parser.add_argument("--json", type=Path, default=Path("benchmarks/results/suite.json"), help="where to write the JSON")
    args = parser.parse_args()
    parts = args.only or ["start", "webchat", "whatsapp"]
    rows: list[dict[str, Any]] = []
    started = time.time()
    if "start" in parts:
        start_rows(rows)
    if "webchat" in parts:
        asyncio.run(load_rows(args, rows))
    if "whatsapp" in parts:
        asyncio.run(whatsapp_rows(args, rows))
    print(table(rows))
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps({"started": started, "cores": os.cpu_count(), "rows": rows}, indent=2))
    print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
