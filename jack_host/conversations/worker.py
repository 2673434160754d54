"""The background worker: reply jobs, the outbox and the SLA check, all from the ``jobs`` table.

``PIPELINE_CONCURRENCY`` loops answer guest messages and as many deliver
outbound ones.  Each loop claims a job atomically (see :mod:`jobs`), renews
its lease while working, and sleeps on an :class:`asyncio.Event` the pipeline
sets when it adds work (or until the next retry / lease expiry is due).

Exactly once: the AI message, its ``send`` job, the escalation (state and
task) and the completion of the ``reply`` job are written in ONE transaction
that first checks the lease is still ours.  A crash before it leaves the job to
be claimed again once the lease expires; after it, the job is done.  The
``messages.reply_to_id`` unique index is a second guard.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from typing import TYPE_CHECKING, Any

from sqlmodel import Session

from jack_host.conversations import jobs
from jack_host.conversations.ai_reply import ReplyPlan, Responder
from jack_host.conversations.escalation import Escalation, handover_text
from jack_host.conversations.models import Conversation, Guest, Message, now_utc
from jack_host.conversations.outbox import Outbox
from jack_host.conversations.pipeline import conversation_dict, guest_dict, message_dict
from jack_host.conversations.tasks import task_dict

if TYPE_CHECKING:
    from jack_host.app import JackApp

log = logging.getLogger("jack.worker")
IDLE_POLL_SECONDS = 5.0


class Worker:
    def __init__(self, app: JackApp):
        self.app = app
        self.id = f"worker-{uuid.uuid4().hex[:12]}"
        self.responder = Responder(app)
        self.outbox = Outbox(app, self.id)
        self._tasks: list[asyncio.Task[None]] = []
        self.stopping = False

    @property
    def lease_seconds(self) -> float:
        return float(self.app.settings.get("PIPELINE_LEASE_SECONDS") or 30.0)

    def start(self) -> None:
        concurrency = int(self.app.settings.get("PIPELINE_CONCURRENCY") or 4)
        pipeline = self.app.pipeline
        # Jobs left by a previous process are picked up by the claim query itself
        # (pending ones at once, running ones when their lease has expired).
        pipeline.reply_wake.set()
        pipeline.send_wake.set()
        for number in range(concurrency):
            self._tasks.append(asyncio.create_task(self._loop("reply", pipeline.reply_wake, self.handle_reply), name=f"jack-reply-{number}"))
            self._tasks.append(asyncio.create_task(self._loop("send", pipeline.send_wake, self.outbox.process), name=f"jack-send-{number}"))
        self._tasks.append(asyncio.create_task(self._sla_loop(), name="jack-sla-check"))

    async def stop(self) -> None:
        self.stopping = True
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks.clear()

    async def _loop(self, kind: str, wake: asyncio.Event, handler: Any) -> None:
        while not self.stopping:
            try:
                job = jobs.claim(self.app.engine, kind, self.id, self.lease_seconds)
            except Exception:
                log.exception("claiming a %s job failed", kind)
                job = None
                await asyncio.sleep(1)
            if job is None:
                wake.clear()
                timeout = jobs.next_due_in(self.app.engine)
                timeout = IDLE_POLL_SECONDS if timeout is None else min(max(timeout, 0.01), IDLE_POLL_SECONDS)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(wake.wait(), timeout)
                continue
            # Another loop may find work too.
            wake.set()
            renewer = asyncio.create_task(self._renew(job))
            try:
                await handler(job)
            except jobs.LeaseLost as exc:
                log.warning("%s", exc)
            except Exception as exc:
                log.exception("%s job %s failed", kind, job.id)
                with contextlib.suppress(Exception):
                    jobs.retry_later(self.app.engine, job.id, self.id, min(2.0 ** job.attempts, 60.0), f"{type(exc).__name__}: {exc}")
            finally:
                renewer.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await renewer

    async def _renew(self, job: jobs.ClaimedJob) -> None:
        while True:
            await asyncio.sleep(self.lease_seconds / 3)
            if not jobs.renew(self.app.engine, job.id, self.id, self.lease_seconds):
                return

    async def _sla_loop(self) -> None:
        interval = float(self.app.settings.get("SLA_CHECK_INTERVAL") or 60.0)
        while not self.stopping:
            try:
                self.app.tasks.check_sla()
            except Exception:
                log.exception("SLA check failed")
            await asyncio.sleep(interval)

    # ------------------------------------------------------------------ replies

    async def handle_reply(self, job: jobs.ClaimedJob) -> None:
        app = self.app
        with Session(app.engine) as session:
            message = session.get(Message, job.message_id)
            conversation = session.get(Conversation, job.conversation_id)
            guest = session.get(Guest, conversation.guest_id) if conversation else None
            if message is None or conversation is None or guest is None:
                jobs.finish(session, job.id, self.id, "failed", "message vanished")
                session.commit()
                return
            if conversation.state != "ai":
                # Staff hold the conversation: the AI stays silent.
                jobs.finish(session, job.id, self.id, "done", f"silent: conversation is {conversation.state}")
                session.commit()
                return
            body, meta = message.body, dict(message.meta or {})
            conversation_data, guest_data = conversation_dict(conversation), guest_dict(guest)
        history = [m for m in app.pipeline.history(job.conversation_id, limit=int(app.settings.get("AI_HISTORY_MESSAGES") or 10) + 1) if m["id"] != job.message_id]
        typing = {"conversation_id": job.conversation_id, "channel": conversation_data["channel"], "guest_address": conversation_data["guest_address"]}
        app.events.publish("typing", {**typing, "active": True})
        try:
            max_attempts = int(app.settings.get("PIPELINE_MAX_ATTEMPTS") or 5)
            if job.attempts > max_attempts:
                language = meta.get("language") or conversation_data.get("language") or guest_data.get("preferred_language")
                plan = ReplyPlan(
                    handover_text(language),
                    {"path": "holding", "escalation_reason": "processing_failed", "language": language},
                    language,
                    Escalation("processing_failed", "front_desk", "standard", body[:120]),
                )
            else:
                plan = await self.responder.plan(
                    body=body, conversation=conversation_data, guest=guest_data, history=history[-int(app.settings.get("AI_HISTORY_MESSAGES") or 10):], message_meta=meta
                )
            self.commit_plan(job, plan)
        finally:
            app.events.publish("typing", {**typing, "active": False})

    def commit_plan(self, job: jobs.ClaimedJob, plan: ReplyPlan) -> None:
        """Write the reply, the escalation and the job's completion in one transaction."""
        app = self.app
        events: list[tuple[str, dict[str, Any]]] = []
        with Session(app.engine, expire_on_commit=False) as session:
            conversation = session.get(Conversation, job.conversation_id)
            guest = session.get(Guest, conversation.guest_id) if conversation else None
            assert conversation is not None and guest is not None
            if conversation.state != "ai":
                # Staff took over while the model was thinking: their word wins.
                jobs.finish(session, job.id, self.id, "done", f"silent: conversation became {conversation.state}")
                session.commit()
                return
            meta = {**plan.meta}
            if plan.escalation:
                meta["escalated"] = True
            reply = app.pipeline.add_outbound(session, conversation, plan.body, "ai", meta=meta, reply_to_id=job.message_id)
            if plan.language:
                conversation.language = conversation.language or plan.language
                if not guest.preferred_language:
                    guest.preferred_language = plan.language
                    guest.updated_at = now_utc()
                    session.add(guest)
            task = None
            if plan.escalation:
                conversation.state = "escalated"
                conversation.updated_at = now_utc()
                task = app.tasks.new_task(
                    session,
                    conversation_id=conversation.id,
                    guest_id=guest.id,
                    department=plan.escalation.department,
                    priority=plan.escalation.priority,
                    title=f"{plan.escalation.reason.replace('_', ' ').capitalize()}: {plan.escalation.summary}",
                    description=plan.escalation.summary,
                    reason=plan.escalation.reason,
                )
            session.add(conversation)
            jobs.finish(session, job.id, self.id, "done")
            session.commit()
            events.append(("message.created", message_dict(reply, conversation.guest_address)))
            if task is not None:
                conversation_data = conversation_dict(conversation, guest)
                events.append(("conversation.escalated", {**conversation_data, "reason": plan.escalation.reason, "task_id": task.id}))
                events.append(("conversation.updated", conversation_data))
                events.append(("task.created", task_dict(task)))
        for event_type, payload in events:
            app.events.publish(event_type, payload)
        app.pipeline.send_wake.set()
