"""How many idle web chat sessions one Jack process holds, and what each costs in memory.

Runs the real ``jack serve`` (web chat plugin and pipeline loaded) as one process and
opens the sessions from this process: each is a WebSocket that says hello, gets a new
session (a database row) and its history, then stays idle.  Memory per session is the
server's RSS growth divided by the sessions opened, measured after a warm-up batch so
that one-off imports and caches are not counted.

    .venv/bin/python benchmarks/webchat_sessions.py --sessions 2000

Target: 2,000 sessions at under 50 KB each.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import sys
import tempfile
import time
from pathlib import Path

import httpx
from websockets.asyncio.client import connect

from jack_host.testing import JackProcess, wait_until

WARMUP = 50
BATCH = 100


def raise_fd_limit(needed: int) -> int:
    """Each session is a socket on both sides; the default 1,024 descriptors are too few."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = hard if hard != resource.RLIM_INFINITY else max(soft, needed)
    if soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for process {pid}")


async def open_session(ws_url: str, origin: str) -> object:
    ws = await connect(ws_url, origin=origin, open_timeout=60, ping_interval=None, max_queue=4)
    await ws.send(json.dumps({"type": "hello", "protocol": 1, "token": None, "language": "en"}))
    while True:
        frame = json.loads(await ws.recv())
        if frame["type"] == "history":
            return ws
        if frame["type"] == "error" and frame.get("fatal"):
            raise RuntimeError(f"session refused: {frame}")


async def open_many(ws_url: str, origin: str, count: int, into: list) -> float:
    started = time.perf_counter()
    for start in range(0, count, BATCH):
        batch = min(BATCH, count - start)
        into.extend(await asyncio.gather(*(open_session(ws_url, origin) for _ in range(batch))))
    return time.perf_counter() - started


def open_chats(base_url: str) -> int:
    detail = httpx.get(base_url + "/health", timeout=10).json()["channel_details"].get("webchat", "")
    return int(detail.split()[0]) if detail.split() and detail.split()[0].isdigit() else -1


async def run(sessions: int) -> dict:
    limit = raise_fd_limit(sessions * 2 + 200)
    if limit < sessions + 100:
        sys.exit(f"error: only {limit} file descriptors allowed; need {sessions + 100} (raise ulimit -n)")
    with tempfile.TemporaryDirectory(prefix="jack-bench-") as folder:
        env = {"JACK_ENABLED_PLUGINS": "channel_webchat", "HEALTH_CHECK_INTERVAL": "1", "LOG_LEVEL": "warning",
               "WEBCHAT_MAX_CONNECTIONS_PER_SESSION": "5",
               # Every session comes from this one address: lift the per-address limit on new chats.
               "WEBCHAT_SESSIONS_PER_ADDRESS_PER_MINUTE": "1000000"}
        with JackProcess(Path(folder), env=env) as server:
            assert server.process is not None
            pid = server.process.pid
            ws_url = server.url.replace("http://", "ws://") + "/ws"
            sockets: list = []
            await open_many(ws_url, server.url, WARMUP, sockets)
            wait_until(lambda: open_chats(server.url) == WARMUP, timeout=30, what="warm-up sessions in /health")
            before = rss_kib(pid)
            seconds = await open_many(ws_url, server.url, sessions, sockets)
            wait_until(lambda: open_chats(server.url) == WARMUP + sessions, timeout=60,
                       what=f"{WARMUP + sessions} open chats in /health")
            await asyncio.sleep(2)  # let allocator settle after the burst before reading RSS
            after = rss_kib(pid)
            # Every session must still be alive: each answers a ping.
            for start in range(0, len(sockets), 500):
                chunk = sockets[start : start + 500]
                await asyncio.gather(*(ws.send(json.dumps({"type": "ping", "ts": 1})) for ws in chunk))
            alive = 0
            for ws in sockets:
                while True:
                    frame = json.loads(await asyncio.wait_for(ws.recv(), 30))
                    if frame["type"] == "pong":
                        alive += 1
                        break
            for start in range(0, len(sockets), 500):
                await asyncio.gather(*(ws.close() for ws in sockets[start : start + 500]))
    per_session = (after - before) / sessions
    return {
        "sessions_opened": sessions,
        "sessions_alive": alive - WARMUP,
        "open_seconds": round(seconds, 2),
        "server_rss_before_kib": before,
        "server_rss_after_kib": after,
        "kib_per_session": round(per_session, 1),
        "target": "2000 sessions at < 50 KB each",
        "met": alive - WARMUP == sessions and sessions >= 2000 and per_session * 1.024 < 50,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sessions", type=int, default=2000, help="idle sessions to open (default 2000)")
    args = parser.parse_args()
    print(json.dumps(asyncio.run(run(args.sessions)), indent=2))


if __name__ == "__main__":
    main()
