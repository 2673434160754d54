"""Real mail servers on loopback for tests: an SMTP server (aiosmtpd) and a throwaway dovecot IMAP.

``LoopbackSMTP`` is aiosmtpd's server with AUTH (LOGIN/PLAIN, one user), STARTTLS or implicit TLS
with a self-signed certificate made by :func:`self_signed_cert`, the received mails kept as
parsed :class:`email.message.EmailMessage` objects, and scripted refusals (``fail_next``)::

    with LoopbackSMTP(tmp_path, user="jack", password="pw") as smtp:
        env = smtp.env()                         # SMTP_HOST/PORT/USER/PASSWORD/SECURE/TLS_CA_FILE
        smtp.fail_next("451 4.3.0 try again later")
        ...
        smtp.wait_for(1)[0]["Subject"]

``Dovecot`` starts ``/usr/sbin/dovecot -F`` with a configuration written to a temporary folder
(listening on 127.0.0.1, one passwd-file user, maildir in the folder, IMAPS and STARTTLS with a
self-signed certificate); ``deliver(raw)`` drops a mail into the INBOX as an MDA would, and
``append(raw)`` hands it over by IMAP ``APPEND`` as another mail client would (which wakes an IDLE).

``TcpGate`` is a relay between Jack and a server that can hold the first client chunk matching a
pattern (``gate.hold(rb"UID STORE")``; ``gate.held.wait()``): a crash test kills Jack while that
command is stuck, i.e. at an exact point of the conversation, with no fault hook in Jack itself.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import email
import email.policy
import ipaddress
import os
import pwd
import re
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import threading
import time
import uuid
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from jack_host.testing.loopback import free_port

DOVECOT = "/usr/sbin/dovecot"


def self_signed_cert(folder: Path, name: str = "localhost") -> tuple[Path, Path]:
    """A certificate for ``localhost`` and ``127.0.0.1`` and its key, written to ``folder``; returns the paths."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    folder.mkdir(parents=True, exist_ok=True)
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=2))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                       critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / f"{name}.crt", folder / f"{name}.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    key_path.chmod(0o600)
    return cert_path, key_path


class _Handler:
    def __init__(self, owner: LoopbackSMTP):
        self.owner = owner

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.owner._lock:
            scripted = self.owner._failures.pop(0) if self.owner._failures else None
        if scripted == "DROP":
            # A connection lost mid-transaction: the client never gets an answer.
            server.transport.close()
            return "421 4.4.2 connection dropped"
        if scripted:
            return scripted
        message = email.message_from_bytes(envelope.original_content or envelope.content, policy=email.policy.default)
        with self.owner._lock:
            self.owner.received.append(message)
            self.owner.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
            self.owner._changed.notify_all()
        return "250 2.0.0 OK queued"


class LoopbackSMTP:
    """aiosmtpd on 127.0.0.1 with AUTH and TLS (``security``: ``starttls``, ``tls`` or ``none``)."""

    def __init__(self, folder: Path, *, user: str = "jack@hotel.example", password: str = "smtp-secret",
                 security: str = "starttls"):
        self.folder = Path(folder)
        self.user, self.password, self.security = user, password, security
        self.port = free_port()
        self.received: list[EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self.logins: list[str] = []
        self._failures: list[str] = []
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self.cert, self.key = self_signed_cert(self.folder / f"smtp-{uuid.uuid4().hex[:6]}")
        self.controller: Any = None

    def _authenticate(self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> Any:
        from aiosmtpd.smtp import AuthResult, LoginPassword

        ok = (isinstance(auth_data, LoginPassword) and auth_data.login.decode() == self.user
              and auth_data.password.decode() == self.password)
        if ok:
            with self._lock:
                self.logins.append(self.user)
        return AuthResult(success=ok, handled=False)

    def start(self) -> LoopbackSMTP:
        from aiosmtpd.controller import Controller

        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.cert, self.key)
        kwargs: dict[str, Any] = {"authenticator": self._authenticate, "auth_required": True}
        if self.security == "starttls":
            kwargs.update(tls_context=context, require_starttls=True)
        else:
            # aiosmtpd does not see implicit TLS as TLS; the socket is encrypted all the same.
            kwargs.update(auth_require_tls=False)
        self.controller = Controller(_Handler(self), hostname="127.0.0.1", port=self.port,
                                     ssl_context=context if self.security == "tls" else None,
                                     server_hostname="localhost", **kwargs)
        self.controller.start()
        return self

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def __enter__(self) -> LoopbackSMTP:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def env(self) -> dict[str, str]:
        """Settings that point Jack's SMTP sender at this server and trust its certificate."""
        return {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(self.port), "SMTP_USER": self.user,
                "SMTP_PASSWORD": self.password, "SMTP_SECURE": self.security, "SMTP_TLS_CA_FILE": str(self.cert)}

    def fail_next(self, *replies: str) -> None:
        """Answer the next DATA commands with these SMTP replies (``"451 4.3.0 later"``), or ``"DROP"`` the connection."""
        with self._lock:
            self._failures.extend(replies)

    def wait_for(self, count: int, timeout: float = 15) -> list[EmailMessage]:
        """Block until at least ``count`` mails arrived; returns them all."""
        with self._changed:
            if not self._changed.wait_for(lambda: len(self.received) >= count, timeout):
                raise AssertionError(f"expected {count} mails on the loopback SMTP server, got {len(self.received)}")
            return list(self.received)


# --------------------------------------------------------------------------- dovecot


def dovecot_installed() -> bool:
    return Path(DOVECOT).exists()


class Dovecot:
    """A throwaway dovecot IMAP server on 127.0.0.1 (plain+STARTTLS on ``port``, implicit TLS on ``tls_port``)."""

    def __init__(self, folder: Path, *, user: str = "concierge", password: str = "imap-secret"):
        self.folder = Path(folder)
        self.user, self.password = user, password
        self.port, self.tls_port = free_port(), free_port()
        self.process: subprocess.Popen | None = None
        self.cert, self.key = self_signed_cert(self.folder / "tls")
        # Its unix sockets live in a short folder of their own: a socket path is limited to 107
        # bytes, and pytest's folders (longer still under pytest-xdist) pass that.
        self.run_dir = Path(tempfile.mkdtemp(prefix="jdv-"))
        # dovecot never opens a mailbox as root: under root the mail belongs to ``nobody``, in a
        # folder of its own that ``nobody`` can reach (pytest's temporary folders are private).
        if os.getuid() == 0:
            account = pwd.getpwnam(_existing_user("nobody", "dovenull"))
            self.mail_uid, self.mail_gid = account.pw_uid, account.pw_gid
            self.mail_root = Path(tempfile.mkdtemp(prefix="jack-dovecot-mail-"))
            self.mail_root.chmod(0o755)
            os.chown(self.mail_root, self.mail_uid, self.mail_gid)
        else:
            self.mail_uid, self.mail_gid = os.getuid(), os.getgid()
            self.mail_root = self.folder / "mail"

    @property
    def maildir(self) -> Path:
        return self.mail_root / self.user

    def config(self) -> str:
        uid = os.getuid()
        run_user = pwd.getpwuid(uid).pw_name
        # dovecot refuses to run its login and internal processes as root; Debian's package adds these users.
        login_user = _existing_user("dovenull", "nobody") if uid == 0 else run_user
        internal_user = _existing_user("dovecot", "nobody") if uid == 0 else run_user
        return f"""
protocols = imap
listen = 127.0.0.1
base_dir = {self.run_dir}
state_dir = {self.folder}/state
instance_name = jack-test-{self.port}
log_path = {self.folder}/dovecot.log
info_log_path = {self.folder}/dovecot.log
ssl = yes
ssl_cert = <{self.cert}
ssl_key = <{self.key}
auth_mechanisms = plain login
disable_plaintext_auth = no
default_internal_user = {internal_user}
default_login_user = {login_user}
mail_location = maildir:{self.mail_root}/%u
first_valid_uid = 0
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {self.folder}/users
}}
userdb {{
  driver = static
  args = uid={self.mail_uid} gid={self.mail_gid} home={self.mail_root}/%u
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {self.port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {self.tls_port}
    ssl = yes
  }}
}}
# The passwd-file sits in the test's private temporary folder: read it as the user running the test.
service auth {{
  user = {run_user}
}}
service auth-worker {{
  user = {run_user}
}}
service anvil {{
  chroot =
}}
service imap-login {{
  chroot =
}}
namespace inbox {{
  inbox = yes
}}
"""

    def start(self) -> Dovecot:
        for sub in ("run", "state"):
            (self.folder / sub).mkdir(parents=True, exist_ok=True)
        (self.folder / "users").write_text(f"{self.user}:{{PLAIN}}{self.password}\n")
        conf = self.folder / "dovecot.conf"
        conf.write_text(self.config())
        self.process = subprocess.Popen([DOVECOT, "-F", "-c", str(conf)], stdout=subprocess.PIPE,
                                        stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                output = self.process.stdout.read().decode(errors="replace") if self.process.stdout else ""
                raise RuntimeError(f"dovecot exited with {self.process.returncode}: {output}{self.log()}")
            if _listening(self.port) and _listening(self.tls_port) and self._login_works():
                return self
            time.sleep(0.05)  # polling for a socket to open, not waiting instead of a condition
        self.stop()
        raise RuntimeError(f"dovecot did not listen on {self.port} within 20 s: {self.log()}")

    def _login_works(self) -> bool:
        """The ports open before the auth process is ready: wait for a real login."""
        import imaplib

        try:
            client = imaplib.IMAP4("127.0.0.1", self.port, timeout=5)
            try:
                client.login(self.user, self.password)
            finally:
                client.logout()
        except (OSError, imaplib.IMAP4.error):
            return False
        return True

    def log(self) -> str:
        path = self.folder / "dovecot.log"
        return path.read_text(errors="replace")[-3000:] if path.exists() else ""

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(5)
        self.process = None

    def __enter__(self) -> Dovecot:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        # stop() keeps the mailbox (an outage ends with the same mail); leaving the block removes it.
        self.stop()
        if self.mail_root != self.folder / "mail":
            shutil.rmtree(self.mail_root, ignore_errors=True)
        shutil.rmtree(self.run_dir, ignore_errors=True)

    def env(self, **overrides: str) -> dict[str, str]:
        """IMAP settings for Jack: STARTTLS on the plain port, trusting the test certificate."""
        return {"IMAP_HOST": "127.0.0.1", "IMAP_PORT": str(self.port), "IMAP_USER": self.user,
                "IMAP_PASSWORD": self.password, "IMAP_SECURE": "starttls", "IMAP_TLS_CA_FILE": str(self.cert),
                **overrides}

    def deliver(self, raw: bytes | str | EmailMessage, folder: str = "INBOX") -> Path:
        """Put a mail into ``folder`` as the local delivery agent would (maildir ``new/``)."""
        if isinstance(raw, EmailMessage):
            raw = raw.as_bytes(policy=email.policy.SMTP)
        if isinstance(raw, str):
            raw = raw.encode()
        base = self.maildir if folder == "INBOX" else self.maildir / f".{folder}"
        for sub in ("tmp", "new", "cur"):
            (base / sub).mkdir(parents=True, exist_ok=True)
        name = f"{time.time_ns()}.{uuid.uuid4().hex}.jack-test"
        (base / "tmp" / name).write_bytes(raw)
        for path in (self.maildir, base, base / "tmp", base / "new", base / "cur", base / "tmp" / name):
            os.chown(path, self.mail_uid, self.mail_gid)
        os.replace(base / "tmp" / name, base / "new" / name)
        return base / "new" / name

    def client(self) -> Any:
        """A logged-in ``imaplib`` client (STARTTLS, trusting the test certificate); log it out when done."""
        import imaplib

        client = imaplib.IMAP4("127.0.0.1", self.port, timeout=10)
        client.starttls(ssl_context=ssl.create_default_context(cafile=str(self.cert)))
        client.login(self.user, self.password)
        return client

    def append(self, raw: bytes | str | EmailMessage, folder: str = "INBOX") -> None:
        """Put a mail into ``folder`` with IMAP ``APPEND`` (unseen), as a mail client or MTA connector would."""
        if isinstance(raw, EmailMessage):
            raw = raw.as_bytes(policy=email.policy.SMTP)
        if isinstance(raw, str):
            raw = raw.encode()
        client = self.client()
        try:
            status, detail = client.append(folder, "", None, raw)
            if status != "OK":
                raise RuntimeError(f"APPEND to {folder} failed: {detail}")
        finally:
            client.logout()

    def count(self, folder: str = "INBOX", criteria: str = "ALL") -> int | None:
        """How many mails in ``folder`` match the IMAP search ``criteria``; None if the folder does not exist."""
        client = self.client()
        try:
            status, _ = client.select(f'"{folder}"', readonly=True)
            if status != "OK":
                return None
            return len(client.search(None, criteria)[1][0].split())
        finally:
            client.logout()

    def clear(self) -> None:
        """Empty the mailbox (between tests sharing one server)."""
        shutil.rmtree(self.maildir, ignore_errors=True)


class TcpGate:
    """A TCP relay on 127.0.0.1 to ``target_port`` that can stop at one command (crash tests).

    After ``hold(pattern)``, the first chunk a client sends that matches ``pattern`` (a bytes regex)
    is not forwarded; ``held`` is set and the client waits for the server's answer that never comes.
    Relay plain-text protocols only (``IMAP_SECURE=none``): the gate must read the commands.
    """

    def __init__(self, target_port: int):
        self.target_port = target_port
        self.port = free_port()
        self.held = threading.Event()
        self._pattern: re.Pattern[bytes] | None = None
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []
        self._listener: socket.socket | None = None

    def hold(self, pattern: bytes) -> None:
        with self._lock:
            self._pattern = re.compile(pattern)
            self.held.clear()

    def start(self) -> TcpGate:
        self._listener = socket.create_server(("127.0.0.1", self.port))
        threading.Thread(target=self._accept, name="tcp-gate", daemon=True).start()
        return self

    def _accept(self) -> None:
        assert self._listener is not None
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return  # stopped
            try:
                server = socket.create_connection(("127.0.0.1", self.target_port), timeout=10)
            except OSError:
                client.close()
                continue
            server.settimeout(None)
            with self._lock:
                self._sockets += [client, server]
            threading.Thread(target=self._pipe, args=(client, server, True), daemon=True).start()
            threading.Thread(target=self._pipe, args=(server, client, False), daemon=True).start()

    def _pipe(self, source: socket.socket, sink: socket.socket, from_client: bool) -> None:
        try:
            while chunk := source.recv(65536):
                if from_client:
                    with self._lock:
                        stop = self._pattern is not None and self._pattern.search(chunk) is not None
                        if stop:
                            self._pattern = None
                    if stop:
                        self.held.set()
                        return  # neither forwarded nor answered
                sink.sendall(chunk)
        except OSError:
            pass
        finally:
            if not (from_client and self.held.is_set()):
                with contextlib.suppress(OSError):
                    sink.shutdown(socket.SHUT_WR)

    def stop(self) -> None:
        if self._listener is not None:
            self._listener.close()
            self._listener = None
        with self._lock:
            for sock in self._sockets:
                with contextlib.suppress(OSError):
                    sock.close()
            self._sockets.clear()

    def __enter__(self) -> TcpGate:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _existing_user(*names: str) -> str:
    for name in names:
        try:
            return pwd.getpwnam(name).pw_name
        except KeyError:
            continue
    return names[-1]


def _listening(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.2)
        return sock.connect_ex(("127.0.0.1", port)) == 0
