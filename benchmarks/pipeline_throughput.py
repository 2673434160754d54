"""Inbound-to-reply throughput and latency of the conversation pipeline.

20 guests (``--guests``) chat at the same time; each sends ``--messages``
questions, waiting for the answer before the next, like a person would.  The
model is the loopback fake OpenAI server with zero delay, reached through the
real LiteLLM provider, under a model name LiteLLM's bundled cost map prices
(``--model-name``, default ``gpt-4o-mini``), with the deployment document's
``costs.yaml`` (budgets and alerts), so every call is priced, written to the
cost ledger and checked against the budgets as in a hotel.  For every message we measure:

- total: ``app.services.inbox.receive`` called -> the channel's ``send`` called with the reply;
- LLM: ``latency_ms`` the LLM service measured around the provider call (LiteLLM + HTTP);
- host overhead: total - LLM (storage, queue, claim, prompt, knowledge search, commit, outbox),
  including time spent waiting for the CPU while other messages (and LiteLLM) run;
- host work: the time spent inside ``receive`` and the worker's reply handler (which also
  delivers the reply), minus the LLM call: the host's own cost per message, without queueing.

With ``--think-ms 0`` (the default) every guest writes again the moment the
answer arrives, so the host is saturated and latency is mostly queueing
(20 guests / throughput).  ``--think-ms 1000`` lets each guest pause about a
second (0.5-1.5x, random) before the next message, a still very busy hotel,
which shows the per-message overhead without the queue.

Run:  .venv/bin/python benchmarks/pipeline_throughput.py [--guests 20] [--messages 10] [--think-ms 0]
                                                        [--no-model | --direct-model] [--model-name NAME]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from jack_host import hookimpl
from jack_host.contract.interfaces import (
    ComponentHealth,
    InboundMessage,
    LLMProvider,
    LLMRequest,
    LLMResponse,
    OutboundMessage,
    SendResult,
)
from jack_host.testing import make_app
from jack_host.testing.channel import TestChannel
from jack_host.testing.fake_llm import FakeOpenAI

ARTICLES = [
    ("Breakfast", "Breakfast is served from 7:00 to 10:30 in the Garden Room.", "breakfast,food"),
    ("Parking", "Guests park in the underground garage for 15 EUR per night.", "parking,car"),
    ("Wi-Fi", "The network is MiramarGuest; the password is on your key card.", "wifi,internet"),
    ("Pool", "The rooftop pool is open from 8:00 to 20:00.", "pool,swimming"),
]
ANSWER = {"reply": "Breakfast is from 7:00 to 10:30.", "language": "en", "confident": True, "needs_human": False}
#: ``costs.yaml`` as the deployment document shows it.
COSTS_YAML = """costs:
  ai:
    daily_budget: 100
    monthly_budget: 2500
    alerts:
      - {threshold: 0.8, action: notify}
      - {threshold: 1.0, action: notify_urgent}
      - {threshold: 1.2, action: fallback_to_local}
  sms:
    monthly_budget: 500
    per_message_cost: 0.0075
    alerts:
      - {threshold: 0.9, action: notify}
"""
QUESTIONS = ["What time is breakfast?", "Where can I park my car?", "What is the wifi password?", "When is the pool open?"]


class TimedChannel(TestChannel):
    """Records when each reply reaches the channel and wakes the guest waiting for it."""

    def __init__(self) -> None:
        super().__init__()
        self.waiters: dict[int, asyncio.Future[float]] = {}

    async def send(self, message: OutboundMessage) -> SendResult:
        result = await super().send(message)
        waiter = self.waiters.pop(message.conversation_id, None)
        if waiter is not None and not waiter.done():
            waiter.set_result(time.perf_counter())
        return result


class DirectModel(LLMProvider):
    """``--direct-model``: answers in-process (no HTTP, no LiteLLM), to isolate the host's own cost."""

    name = "direct"

    @property
    def model(self) -> str:
        return "direct"

    def is_configured(self) -> bool:
        return True

    async def health(self) -> ComponentHealth:
        return ComponentHealth.connected("benchmark")

    async def complete(self, request: LLMRequest) -> LLMResponse:
        return LLMResponse(text=json.dumps(ANSWER), model="direct")


class BenchPlugin:
    def __init__(self, channel: TimedChannel):
        self.channel = channel

    @hookimpl
    def jack_register_channels(self, register, app):
        register(self.channel)

    @hookimpl
    def jack_register_llm_providers(self, register, app):
        register(DirectModel())


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


async def guest(app, channel: TimedChannel, number: int, messages: int, results: list[tuple[float, int]], think_ms: float = 0) -> None:
    conversation_id = None
    for index in range(messages):
        if think_ms:
            await asyncio.sleep(think_ms / 1000 * random.uniform(0.5, 1.5))
        started = time.perf_counter()
        future: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        if conversation_id is not None:
            channel.waiters[conversation_id] = future
        received = await app.services.inbox.receive(
            InboundMessage(channel="test", channel_message_id=f"g{number}-m{index}", body=QUESTIONS[(number + index) % len(QUESTIONS)],
                           sender_phone=f"+3460000{number:04d}")
        )
        if conversation_id is None:
            conversation_id = received.conversation_id
            channel.waiters[conversation_id] = future
        finished = await asyncio.wait_for(future, 60)
        results.append((finished - started, received.message_id))


def instrument() -> dict[int, float]:
    """Time ``receive`` and the reply handler per guest message id (benchmark-only wrappers)."""
    from jack_host.builtin.conversations.pipeline import Pipeline
    from jack_host.builtin.conversations.worker import Worker

    work: dict[int, float] = {}
    receive, handle_reply = Pipeline.receive, Worker.handle_reply

    async def timed_receive(self, msg):
        started = time.perf_counter()
        received = await receive(self, msg)
        work[received.message_id] = work.get(received.message_id, 0.0) + (time.perf_counter() - started) * 1000
        return received

    async def timed_handle_reply(self, job):
        started = time.perf_counter()
        await handle_reply(self, job)
        work[job.message_id] = work.get(job.message_id, 0.0) + (time.perf_counter() - started) * 1000

    Pipeline.receive, Worker.handle_reply = timed_receive, timed_handle_reply
    return work


class FakeOpenAIProcess:
    """The fake OpenAI server in a process of its own, as a real provider would be.

    In-process, its HTTP thread would compete with the event loop for the GIL and
    count as host overhead; ``--llm-in-process`` measures that way for comparison.
    """

    def __init__(self, model: str):
        self.model = model

    def __enter__(self) -> FakeOpenAIProcess:
        code = (
            "import json, sys; from jack_host.testing.fake_llm import FakeOpenAI; "
            f"llm = FakeOpenAI(reply=json.loads({json.dumps(json.dumps(ANSWER))}), model={self.model!r}).start(); "
            "print(json.dumps(llm.env()), flush=True)\n"
            "for _ in sys.stdin: print(len(llm.completion_requests()), flush=True)"  # one line asked, one count answered
        )
        self.process = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self._env = json.loads(self.process.stdout.readline())
        return self

    def env(self) -> dict[str, str]:
        return self._env

    def completion_requests(self) -> list[None]:
        """As many items as chat completions the server answered (their bodies stay in its process)."""
        self.process.stdin.write("count\n")
        self.process.stdin.flush()
        return [None] * int(self.process.stdout.readline())

    def __exit__(self, *exc: object) -> None:
        self.process.stdin.close()
        self.process.wait(10)


async def run(
    guests: int, messages: int, model: str, concurrency: int, think_ms: float, llm_in_process: bool = False, model_name: str = "gpt-4o-mini"
) -> None:
    work = instrument()
    use_model = model != "none"
    fake = FakeOpenAI(reply=ANSWER, model=model_name) if llm_in_process else FakeOpenAIProcess(model_name)
    with tempfile.TemporaryDirectory() as folder, fake as llm:
        Path(folder, "costs.yaml").write_text(COSTS_YAML)
        channel = TimedChannel()
        # AI_MAX_CALLS_PER_MINUTE=0: the benchmark measures the pipeline, not the spend ceiling.
        env = {"PIPELINE_CONCURRENCY": str(concurrency), "LOG_LEVEL": "warning", "AI_PROVIDER_ORDER": "none",
               "AI_MAX_CALLS_PER_MINUTE": "0"}
        if model == "litellm":
            env.update({**llm.env(), "AI_PROVIDER_ORDER": "primary"})
        elif model == "direct":
            env["AI_PROVIDER_ORDER"] = "direct"
        app = make_app(Path(folder), plugins=[("bench_channel", BenchPlugin(channel))], env=env)
        for title, body, tags in ARTICLES:
            app.services.knowledge.create(title, body, "faq", tags)
        await app.start()
        # A server takes guests for hours: let its start-up imports finish and the heap be frozen.
        await asyncio.wait_for(app.warm_up.done.wait(), 120)
        if use_model:  # warm the connection before timing
            await guest(app, channel, 9999, 1, [])
        results: list[tuple[float, int]] = []
        started = time.perf_counter()
        await asyncio.gather(*(guest(app, channel, n, messages, results, think_ms) for n in range(guests)))
        elapsed = time.perf_counter() - started
        llm_ms = {}
        for item in (m for cid in range(1, guests + 3) for m in app.services.conversations.history(cid, limit=1000)):
            if item["sender"] == "ai" and "latency_ms" in item["meta"]:
                llm_ms[item["id"]] = item["meta"]["latency_ms"]
        # AI reply ids are not known to the guest; pair them through reply_to_id.
        from sqlmodel import Session, select

        from jack_host.builtin.conversations.models import Message
        from jack_host.builtin.costs.models import AIUsage

        with Session(app.engine) as session:
            ai_replies = session.exec(select(Message).where(Message.sender == "ai")).all()
            reply_of = {m.reply_to_id: m.id for m in ai_replies}
            meta_of = {m.id: dict(m.meta) for m in ai_replies}
            ledger = session.exec(select(AIUsage)).all()
        await app.stop()
        completions = len(llm.completion_requests())

    totals = [total * 1000 for total, _ in results]
    llm_times = [llm_ms.get(reply_of.get(mid), 0.0) for _, mid in results]
    overhead = [total - model for total, model in zip(totals, llm_times, strict=True)]
    where = "in this process" if llm_in_process else "in its own process"
    described = {"litellm": f"fake OpenAI server {where} via LiteLLM as openai/{model_name} (0 ms delay)", "direct": "in-process (no HTTP, no LiteLLM)", "none": "none (knowledge path)"}
    print(f"guests={guests} messages/guest={messages} model={described[model]} "
          f"concurrency={concurrency} think={think_ms:g} ms python={sys.version.split()[0]}")
    print(f"replies: {len(results)} in {elapsed:.2f} s = {len(results) / elapsed:.1f} replies/s")
    # What the timed replies really went through, counted from the stored replies, the fake
    # server and the ledger (the warm-up guest's message, when a model is used, is one more call).
    via_model = Counter(meta_of[reply_of[mid]].get("provider") for _, mid in results
                        if mid in reply_of and meta_of[reply_of[mid]].get("path") == "llm")
    by_provider = ", ".join(f"provider {name}: {count}" for name, count in sorted(via_model.items())) or "none"
    print(f"replies via the model: {sum(via_model.values())} of {len(results)} ({by_provider})")
    paths = Counter(meta_of[reply_of[mid]].get("path") if mid in reply_of else "no reply" for _, mid in results)
    print("reply paths: " + ", ".join(f"{path}: {count}" for path, count in sorted(paths.items())))
    print(f"fake OpenAI server: {completions} chat completions received")
    priced = sum(1 for row in ledger if row.estimated_cost is not None and row.estimated_cost > 0)
    ok = sum(1 for row in ledger if row.outcome == "ok")
    print(f"cost ledger: {len(ledger)} rows, {ok} ok, {priced} priced above zero")
    print(f"total latency   p50 {percentile(totals, .5):7.1f} ms   p95 {percentile(totals, .95):7.1f} ms   max {max(totals):7.1f} ms")
    if use_model:
        print(f"LLM time        p50 {percentile(llm_times, .5):7.1f} ms   p95 {percentile(llm_times, .95):7.1f} ms")
    print(f"host overhead   p50 {percentile(overhead, .5):7.1f} ms   p95 {percentile(overhead, .95):7.1f} ms   mean {statistics.mean(overhead):.1f} ms")
    host_work = [work.get(mid, 0.0) - llm_ms.get(reply_of.get(mid), 0.0) for _, mid in results]
    print(f"host work       p50 {percentile(host_work, .5):7.1f} ms   p95 {percentile(host_work, .95):7.1f} ms   mean {statistics.mean(host_work):.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--guests", type=int, default=20)
    parser.add_argument("--messages", type=int, default=10)
    parser.add_argument("--concurrency", type=int, default=16, help="PIPELINE_CONCURRENCY")
    parser.add_argument("--think-ms", type=float, default=0.0, help="average pause of a guest between answer and next message")
    parser.add_argument("--no-model", action="store_true", help="no model configured: answers come from the knowledge base")
    parser.add_argument("--direct-model", action="store_true", help="an in-process model (no HTTP, no LiteLLM): the host's own cost")
    parser.add_argument("--llm-in-process", action="store_true", help="run the fake OpenAI server in this process (a thread)")
    parser.add_argument("--model-name", default="gpt-4o-mini", help="the model name the fake server answers as (priced by LiteLLM's cost map)")
    args = parser.parse_args()
    model = "none" if args.no_model else "direct" if args.direct_model else "litellm"
    asyncio.run(run(args.guests, args.messages, model, args.concurrency, args.think_ms, args.llm_in_process, args.model_name))


if __name__ == "__main__":
    main()
