"""Request bodies and WebSocket messages are capped on a real ``jack serve`` (issue 11, defect 4).

Before: four parallel 150 MB bodies pushed the server from 111 MB to 1,108 MB, and one 100 MB
body took 6.75 s to refuse. Now a body is refused (413) as soon as it passes its route's cap.
"""

from __future__ import annotations

import asyncio
import select
import socket
import threading
import time
from pathlib import Path

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from jack_host.testing import JackProcess, free_port
from jack_host.web.body_limit import MAX_WEBSOCKET_MESSAGE_BYTES

MB = 1024 * 1024
BODY = 100 * MB
CHUNK = b"[" * MB


@pytest.fixture(scope="module")
def jack(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("limits")
    nowhere = f"http://127.0.0.1:{free_port()}"  # the providers' APIs are never called here
    env = {
        "JWT_SECRET": "t" * 40,
        "WHATSAPP_ACCESS_TOKEN": "token", "WHATSAPP_PHONE_NUMBER_ID": "1055000000001",
        "WHATSAPP_APP_SECRET": "app-secret", "WHATSAPP_VERIFY_TOKEN": "verify", "WHATSAPP_API_URL": nowhere,
        "TWILIO_ACCOUNT_SID": "AC" + "0" * 32, "TWILIO_AUTH_TOKEN": "auth-token",
        "TWILIO_PHONE_NUMBER": "+15550100200", "TWILIO_API_URL": nowhere,
    }
    with JackProcess(tmp_path, env=env) as process:
        yield process


def rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS line")


def post_chunked(port: int, path: str, total: int = BODY) -> tuple[bytes, int]:
    """POST ``total`` bytes in 1 MiB chunks, without Content-Length; stop when the server answers.

    Returns the status line and how many body bytes went out before the answer came.
    """
    sock = socket.create_connection(("127.0.0.1", port), timeout=30)
    sent = 0
    answer = b""
    try:
        sock.sendall(f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                     "Transfer-Encoding: chunked\r\n\r\n".encode())
        while sent < total and not answer:
            try:
                sock.sendall(b"%x\r\n%s\r\n" % (len(CHUNK), CHUNK))
                sent += len(CHUNK)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the server answered and closed: read what it said
            else:
                if not select.select([sock], [], [], 0)[0]:
                    continue
            answer = sock.recv(65536)
            if not answer:
                break
        if not answer:
            sock.sendall(b"0\r\n\r\n")
            answer = sock.recv(65536)
    finally:
        sock.close()
    return answer.split(b"\r\n", 1)[0], sent


def post_declared(port: int, path: str, length: int) -> bytes:
    """Declare ``length`` bytes and send only the first MiB: the answer comes from Content-Length alone."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                     f"Content-Length: {length}\r\n\r\n".encode() + CHUNK)
        return sock.recv(65536).split(b"\r\n", 1)[0]


def test_big_bodies_are_refused_unread_and_memory_stays_flat(jack):
    pid = jack.process.pid
    before = rss_bytes(pid)
    paths = ["/api/v1/auth/login", "/webhooks/whatsapp", "/webhooks/sms", "/api/v1/conversations/1/messages"]
    results: dict[str, tuple[bytes, int]] = {}

    def send(path: str) -> None:
        results[path] = post_chunked(jack.port, path)

    started = time.monotonic()
    threads = [threading.Thread(target=send, args=(path,)) for path in paths]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    elapsed = time.monotonic() - started
    grown = rss_bytes(pid) - before

    for path in paths:
        status, sent = results[path]
        assert status == b"HTTP/1.1 413 Request Entity Too Large", (path, status)
        assert sent < 16 * MB, f"{path}: {sent} bytes went out before the 413"
    assert grown < 30 * MB, f"the server grew by {grown / MB:.0f} MB for four 100 MB bodies"
    assert elapsed < 30
    print(f"four chunked 100 MB bodies: RSS {before / MB:.0f} MB -> {(before + grown) / MB:.0f} MB, "
          f"refused in {elapsed:.2f} s; body bytes sent before each 413: {[results[p][1] for p in paths]}")

    for path in paths:
        assert post_declared(jack.port, path, BODY) == b"HTTP/1.1 413 Request Entity Too Large"


def test_websocket_messages_over_the_cap_are_closed_with_1009(jack):
    async def talk() -> int | None:
        async with connect(jack.url.replace("http", "ws") + "/ws", origin=jack.url, max_size=None,
                           ping_interval=None, open_timeout=30) as ws:
            await ws.send('{"type": "hello", "protocol": 1}')
            await ws.recv()  # the session frame
            await ws.send('{"type": "message", "body": "' + "x" * MAX_WEBSOCKET_MESSAGE_BYTES + '"}')
            try:
                while True:
                    await asyncio.wait_for(ws.recv(), 30)
            except ConnectionClosed as exc:
                return exc.rcvd.code if exc.rcvd else None

    assert asyncio.run(talk()) == 1009
