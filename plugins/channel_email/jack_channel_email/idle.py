"""IMAP IDLE (RFC 2177) on an ``imaplib`` connection, which has no IDLE of its own before Python 3.14.

:func:`idle` sends ``IDLE``, waits until the server says anything (a new mail is ``* n EXISTS``),
the time is up, or ``stop`` is set, then ends it with ``DONE`` and reads the tagged answer, so the
connection is ready for the next command. Any line from the server ends the wait: the caller
searches the folder again, which costs one command and never misses a mail.

Blocking; run it in a worker thread. The socket is watched with ``select`` in short slices rather
than a socket timeout, because a timed-out ``makefile`` reader refuses every later read; bytes
already in ``imaplib``'s buffer or in the TLS layer count as readable too.
"""

from __future__ import annotations

import imaplib
import itertools
import select
import ssl
import threading
import time

#: How often the wait looks at ``stop`` (the reader's wake-up and shutdown).
SLICE_SECONDS = 0.25

_tags = itertools.count(1)


def supports_idle(client: imaplib.IMAP4) -> bool:
    return "IDLE" in client.capabilities


def _buffered(client: imaplib.IMAP4) -> bool:
    """Whether ``imaplib``'s reader already holds bytes (a line that came with the ``+ idling``)."""
    sock = client.socket()
    timeout = sock.gettimeout()
    sock.setblocking(False)  # so peek() never waits on an empty buffer
    try:
        return bool(client.file.peek(1))
    except (BlockingIOError, ssl.SSLWantReadError):
        return False
    finally:
        sock.settimeout(timeout)


def _readable(client: imaplib.IMAP4, seconds: float) -> bool:
    if _buffered(client):
        return True
    sock = client.socket()
    pending = getattr(sock, "pending", None)  # an SSL socket may hold decrypted bytes select cannot see
    if pending is not None and pending():
        return True
    ready, _, _ = select.select([sock], [], [], seconds)
    return bool(ready)


def _line(client: imaplib.IMAP4) -> bytes:
    line = client.readline()
    if not line:
        raise imaplib.IMAP4.abort("the IMAP server closed the connection during IDLE")
    return line


def idle(client: imaplib.IMAP4, seconds: float, stop: threading.Event) -> list[bytes]:
    """Idle up to ``seconds``; returns the untagged lines the server pushed (empty: time up or stopped).

    :raises imaplib.IMAP4.abort: the connection was lost (the caller reconnects).
    :raises imaplib.IMAP4.error: the server refused IDLE.
    """
    tag = f"JI{next(_tags)}".encode()
    client.send(tag + b" IDLE\r\n")
    pushed: list[bytes] = []
    while True:  # untagged lines may come before the continuation
        line = _line(client)
        if line.startswith(b"+"):
            break
        if line.startswith(tag):
            raise imaplib.IMAP4.error(f"IDLE refused: {line.decode(errors='replace').strip()}")
        pushed.append(line.strip())
    deadline = time.monotonic() + seconds
    while not pushed and not stop.is_set():
        left = deadline - time.monotonic()
        if left <= 0:
            break
        if _readable(client, min(SLICE_SECONDS, left)):
            pushed.append(_line(client).strip())
    client.send(b"DONE\r\n")
    while True:
        line = _line(client)
        if line.startswith(tag):
            if not line[len(tag):].strip().upper().startswith(b"OK"):
                raise imaplib.IMAP4.error(f"IDLE ended badly: {line.decode(errors='replace').strip()}")
            return pushed
        pushed.append(line.strip())
