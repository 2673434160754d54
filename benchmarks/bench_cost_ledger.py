"""How much the cost ledger adds to each LLM call: record + price + budget check, on a SQLite file.

Run: .venv/bin/python benchmarks/bench_cost_ledger.py [calls]
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from pathlib import Path

from jack_host.builtin.costs.ledger import AICall
from jack_host.kit.litellm import litellm
from jack_host.testing import make_app


async def main(calls: int) -> None:
    tmp = Path(tempfile.mkdtemp())
    (tmp / "costs.yaml").write_text(
        "costs:\n  ai:\n    daily_budget: 1000000\n    monthly_budget: 10000000\n    alerts:\n      - {threshold: 0.8, action: notify}\n"
    )
    app = make_app(tmp)
    litellm()  # the one-off import is not what is measured
    started = time.perf_counter()
    for index in range(calls):
        await app.services.costs.record_ai_call(
            AICall(provider="primary", model="anthropic/claude-sonnet-4-5", input_tokens=900, output_tokens=120, latency_ms=800, conversation_id=index % 50, guest_id=index % 40)
        )
    record = (time.perf_counter() - started) / calls * 1000
    started = time.perf_counter()
    for _ in range(100):
        app.services.costs.local_only()
    check = (time.perf_counter() - started) / 100 * 1000
    from jack_host.builtin.costs.reports import build_report

    started = time.perf_counter()
    build_report(app, 30)
    report = (time.perf_counter() - started) * 1000
    print(f"{calls} calls: record+price+budget check {record:.2f} ms/call; local-only check {check:.2f} ms; 30-day report {report:.1f} ms")
    from sqlmodel import Session, select

    from jack_host.builtin.costs.models import AIUsage

    with Session(app.engine) as session:
        rows = session.exec(select(AIUsage)).all()
    priced = sum(1 for row in rows if row.estimated_cost is not None and row.estimated_cost > 0)
    print(f"cost ledger: {len(rows)} rows, {priced} priced above zero")


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 2000))
