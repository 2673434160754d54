"""What the alerts feature costs: a new alert, a repeat (the no-op every detector relies on), and one
pass of the escalation loop over many open alerts, on a SQLite file with a webhook contact on loopback.

Run: .venv/bin/python benchmarks/alerts_escalation.py [alerts]
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from pathlib import Path

from jack_host.builtin.alerts.service import service_of
from jack_host.contract.interfaces import Alert
from jack_host.testing import make_app
from jack_host.testing.loopback import LoopbackServer, RecordedRequest, Reply


class Chat(LoopbackServer):
    def answer(self, request: RecordedRequest) -> Reply:
        return Reply(200, "ok")


async def main(count: int) -> None:
    tmp = Path(tempfile.mkdtemp())
    with Chat() as chat:
        (tmp / "oncall.yaml").write_text(
            "escalation:\n  levels:\n"
            f"    - {{name: primary, contacts: [{{type: webhook, url: '{chat.url}/a'}}], wait_minutes: 5}}\n"
            f"    - {{name: secondary, contacts: [{{type: webhook, url: '{chat.url}/b'}}], wait_minutes: 15}}\n"
        )
        app = make_app(tmp, env={"LOG_LEVEL": "error"})
        service = service_of(app)
        now = time.time()
        service.clock = lambda: now
        started = time.perf_counter()
        for index in range(count):
            await service.raise_alert(Alert(f"bench.{index}", "critical", f"alert {index}"))
        new = (time.perf_counter() - started) / count * 1000
        started = time.perf_counter()
        for index in range(count):
            await service.raise_alert(Alert(f"bench.{index}", "critical", f"alert {index}"))
        repeat = (time.perf_counter() - started) / count * 1000
        started = time.perf_counter()
        await service.run_once()  # nothing due
        idle = (time.perf_counter() - started) * 1000
        service.clock = lambda: now + 5 * 60
        started = time.perf_counter()
        await service.run_once()  # every alert moves to the secondary level and pages it
        moved = (time.perf_counter() - started) * 1000
        assert len(chat.matching("POST", "/b")) == count
    print(f"{count} alerts: new alert {new:.1f} ms each (one webhook page), repeat {repeat:.2f} ms each (no-op), "
          f"idle loop pass {idle:.1f} ms, pass escalating all {count} {moved:.0f} ms")


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 200))
