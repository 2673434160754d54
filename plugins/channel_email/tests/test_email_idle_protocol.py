"""``jack_channel_email.idle`` against a scripted server on a socket pair: the wire edge cases dovecot
does not produce on demand (a push in the same packet as ``+ idling``, a refusal, a hang-up)."""

from __future__ import annotations

import imaplib
import socket
import threading
import time

import pytest
from jack_channel_email.idle import idle


class ScriptedServer:
    """The client end looks like an ``imaplib.IMAP4`` to :func:`idle`; the server end follows a script."""

    def __init__(self, answer_idle: bytes, answer_done: bytes | None = b"OK IDLE terminated"):
        self.server, self.client_sock = socket.socketpair()
        self.client_sock.settimeout(10)
        self.file = self.client_sock.makefile("rb")
        self.received: list[bytes] = []
        self._answers = (answer_idle, answer_done)
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    # what idle() uses of imaplib.IMAP4
    def socket(self) -> socket.socket:
        return self.client_sock

    def send(self, data: bytes) -> None:
        self.client_sock.sendall(data)

    def readline(self) -> bytes:
        return self.file.readline()

    def _serve(self) -> None:
        reader = self.server.makefile("rb")
        command = reader.readline()
        self.received.append(command)
        tag = command.split()[0]
        answer_idle, answer_done = self._answers
        self.server.sendall(answer_idle.replace(b"TAG", tag))  # one write: one packet
        if answer_done is None:
            self.server.close()
            return
        self.received.append(reader.readline())
        self.server.sendall(tag + b" " + answer_done + b"\r\n")


def test_a_push_in_the_same_packet_as_the_continuation_ends_the_idle_at_once():
    server = ScriptedServer(b"+ idling\r\n* 4 EXISTS\r\n* 1 RECENT\r\n")
    started = time.monotonic()
    pushed = idle(server, 30, threading.Event())
    assert time.monotonic() - started < 5
    assert pushed[0] == b"* 4 EXISTS"
    assert server.received[0].endswith(b" IDLE\r\n") and server.received[1] == b"DONE\r\n"


def test_stop_ends_the_idle_with_done():
    server = ScriptedServer(b"+ idling\r\n")
    stop = threading.Event()
    threading.Timer(0.3, stop.set).start()
    assert idle(server, 30, stop) == []
    assert server.received[1] == b"DONE\r\n"


def test_a_refused_idle_and_a_hang_up_are_errors_the_reader_reconnects_on():
    with pytest.raises(imaplib.IMAP4.error, match="IDLE refused"):
        idle(ScriptedServer(b"TAG BAD unknown command\r\n"), 30, threading.Event())
    with pytest.raises(imaplib.IMAP4.abort, match="closed the connection"):
        idle(ScriptedServer(b"+ idling\r\n", answer_done=None), 30, threading.Event())
