"""The background worker: reply jobs, the outbox and the SLA check, all from the ``jobs`` table.

One dispatcher per job kind (``reply``, ``send``) claims jobs atomically (see
:mod:`jobs`) while fewer than ``PIPELINE_CONCURRENCY`` of its jobs run, and
otherwise sleeps on an :class:`asyncio.Event` the pipeline sets when it adds
work (or until the next retry / lease expiry is due).  One loop renews the
leases of every job this process holds.  A reply is delivered right after its
commit by the same task (its ``send`` job is created already held), so the
outbox dispatcher only sees staff replies, retries and jobs left by a crash.

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
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any, cast

from sqlmodel import Session

from jack_host.builtin.conversations import jobs
from jack_host.builtin.conversations import statements as sql
from jack_host.builtin.conversations.ai_reply import ReplyPlan, Responder
from jack_host.builtin.conversations.escalation import Escalation, detect
from jack_host.builtin.conversations.models import Conversation, Guest, Message, now_utc
from jack_host.builtin.conversations.outbox import Outbox
from jack_host.builtin.conversations.records import conversation_dict, guest_dict, message_dict, task_dict
from jack_host.contract.interfaces import Alert, OutboundMessage
from jack_host.contract.services import Alerts

if TYPE_CHECKING:
    from jack_host.builtin.conversations.feature import ConversationsFeature
    from jack_host.contract.app import App

log = logging.getLogger("jack.worker")
IDLE_POLL_SECONDS = 5.0
BLOCKED_RECHECK_SECONDS = 0.5


class Worker:
    def __init__(self, app: App, feature: ConversationsFeature):
        self.app = app
        self.feature = feature
        self.id = f"worker-{uuid.uuid4().hex[:12]}"
        self.responder = Responder(app, feature.hotel_profile)
        self.outbox = Outbox(app, self.id, feature)
        self._tasks: list[asyncio.Task[None]] = []
        self._running: set[asyncio.Task[None]] = set()
        #: Per job kind: the last look found a due job it could not claim (its conversation was busy).
        self._blocked: dict[str, bool] = {}
        self.stopping = False

    @property
    def lease_seconds(self) -> float:
        return float(self.app.settings.get("PIPELINE_LEASE_SECONDS") or 30.0)

    def start(self) -> None:
        concurrency = int(self.app.settings.get("PIPELINE_CONCURRENCY") or 16)
        pipeline = self.feature.pipeline
        # Jobs left by a previous process are picked up by the claim query itself
        # (pending ones at once, running ones when their lease has expired).
        self._tasks = [
            asyncio.create_task(self._dispatch("reply", pipeline.reply_wake, self.handle_reply, concurrency), name="jack-replies"),
            asyncio.create_task(self._dispatch("send", pipeline.send_wake, self.outbox.process, concurrency), name="jack-outbox"),
            asyncio.create_task(self._renew_loop(), name="jack-job-leases"),
            asyncio.create_task(self._sla_loop(), name="jack-sla-check"),
        ]

    async def stop(self) -> None:
        """Stop claiming, cancel jobs in flight and hand them back so a restart resumes at once."""
        self.stopping = True
        running = [*self._tasks, *self._running]
        for task in running:
            task.cancel()
        for task in running:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks.clear()
        with contextlib.suppress(Exception):
            jobs.release(self.app.engine, self.id)

    async def _dispatch(self, kind: str, wake: asyncio.Event, handler: Any, slots: int) -> None:
        """Claim jobs while a slot is free; one claimer per kind.

        Claiming comes first (woken for new work, that is one statement); only when
        nothing is claimable does it ask when something will be, to sleep until then.
        """
        free = asyncio.Semaphore(slots)
        while not self.stopping:
            await free.acquire()
            wake.clear()  # before looking: work added after the look sets it again
            job, due = None, None
            try:
                job = jobs.claim(self.app.engine, kind, self.id, self.lease_seconds)
                if job is None:
                    due = jobs.next_due_in(self.app.engine, kind)
            except Exception:
                log.exception("claiming a %s job failed", kind)
            if job is None:
                free.release()
                # Due but not claimable: it waits behind its conversation's running job, whose end wakes us.
                self._blocked[kind] = due is not None and due <= 0
                timeout = IDLE_POLL_SECONDS if due is None else (due if due > 0 else BLOCKED_RECHECK_SECONDS)
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(min(max(timeout, 0.01), IDLE_POLL_SECONDS)):  # no extra task, unlike wait_for
                        await wake.wait()
                continue
            task = asyncio.create_task(self._run(kind, job, handler, free, wake), name=f"jack-{kind}-job-{job.id}")
            self._running.add(task)
            task.add_done_callback(self._running.discard)

    async def _run(self, kind: str, job: jobs.ClaimedJob, handler: Any, free: asyncio.Semaphore, wake: asyncio.Event) -> None:
        try:
            await handler(job)
        except jobs.LeaseLost as exc:
            log.warning("%s", exc)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.exception("%s job %s failed", kind, job.id)
            with contextlib.suppress(Exception):
                jobs.retry_later(self.app.engine, job.id, self.id, min(2.0 ** job.attempts, 60.0), f"{type(exc).__name__}: {exc}")
            wake.set()  # the dispatcher learns the retry's due time
        finally:
            free.release()
            if self._blocked.get(kind):
                wake.set()  # a job of the same conversation may have been waiting for this one

    async def _renew_loop(self) -> None:
        """Extend the leases of every job this worker holds, in one statement."""
        while not self.stopping:
            await asyncio.sleep(self.lease_seconds / 3)
            try:
                jobs.renew_all(self.app.engine, self.id, self.lease_seconds)
            except Exception:
                log.exception("renewing job leases failed")

    async def _sla_loop(self) -> None:
        interval = float(self.app.settings.get("SLA_CHECK_INTERVAL") or 60.0)
        while not self.stopping:
            try:
                for task in self.feature.tasks.check_sla():
                    if task.get("reason") == "complaint":
                        await self._alert_complaint_sla(task)
            except Exception:
                log.exception("SLA check failed")
            await asyncio.sleep(interval)

    async def _alert_complaint_sla(self, task: dict[str, Any]) -> None:
        """A guest complaint past its SLA pages the duty manager (the alert-routing table)."""
        alerts = self.app.services.find(Alerts)
        if alerts is not None:
            await alerts.raise_alert(Alert(
                "sla.guest_complaint", "critical", f"Guest complaint task #{task['id']} is past its SLA: {task['title']}",
                {"task_id": task["id"], "department": task["department"], "alert_type": "guest_complaint_sla"},
                f"sla.guest_complaint.{task['id']}"))

    # ------------------------------------------------------------------ replies

    async def handle_reply(self, job: jobs.ClaimedJob) -> None:
        app = self.app
        with Session(app.engine) as session:
            message, conversation, guest = _load_rows(session, job.message_id)
            if message is None or conversation is None or guest is None:
                jobs.finish(session, job.id, self.id, "failed", "message vanished")
                session.commit()
                return
            if conversation.state != "ai":
                # Staff hold the conversation: the AI stays silent, but an emergency written
                # meanwhile still raises an urgent task rather than waiting in the thread.
                hit = detect(message.body, app.settings.get("KEYWORDS_FILE") or None)
                task = None
                if hit is not None and hit.reason == "emergency":
                    task = self.feature.tasks.new_task(
                        session,
                        conversation_id=conversation.id,
                        guest_id=conversation.guest_id,
                        department=hit.department,
                        priority=hit.priority,
                        title=f"Emergency: {message.body[:120]}",
                        description=message.body,
                        reason="emergency",
                    )
                jobs.finish(session, job.id, self.id, "done", f"silent: conversation is {conversation.state}")
                session.commit()
                if task is not None:
                    self.feature.events.publish("task.created", task_dict(task))
                return
            body, meta = message.body, dict(message.meta or {})
            conversation_data, guest_data = conversation_dict(conversation), guest_dict(guest)
            # What was said before this message (later ones have their own jobs).
            earlier = [
                SimpleNamespace(**row)
                for row in session.connection().execute(
                    sql.HISTORY_BEFORE,
                    {"cid": job.conversation_id, "before": job.message_id, "limit": int(app.settings.get("AI_HISTORY_MESSAGES") or 10)},
                ).mappings()
            ]
            history = [message_dict(cast(Message, m)) for m in reversed(earlier)]
        typing = {"conversation_id": job.conversation_id, "channel": conversation_data["channel"], "guest_address": conversation_data["guest_address"]}
        self.feature.events.publish("typing", {**typing, "active": True})
        await self._show_typing(typing, True)
        try:
            max_attempts = int(app.settings.get("PIPELINE_MAX_ATTEMPTS") or 5)
            if job.attempts > max_attempts:
                language = meta.get("language") or conversation_data.get("language") or guest_data.get("preferred_language")
                plan = ReplyPlan(
                    self.responder.texts.handover(language),  # with the hotel's TEXTS_FILE
                    {"path": "holding", "escalation_reason": "processing_failed", "language": language},
                    language,
                    Escalation("processing_failed", "front_desk", "standard", body[:120]),
                )
            else:
                plan = await self.responder.plan(
                    body=body, conversation=conversation_data, guest=guest_data, history=history, message_meta=meta
                )
            delivery = self.commit_plan(job, plan, guest_data)
        finally:
            self.feature.events.publish("typing", {**typing, "active": False})
            await self._show_typing(typing, False)
        if delivery is not None:
            # Send at once from here; the job is already ours, so no other worker races for it.
            await self.outbox.deliver(*delivery)

    async def _show_typing(self, typing: dict[str, Any], active: bool) -> None:
        channel = self.app.channels.get(typing["channel"])
        if channel is None or not typing.get("guest_address"):
            return
        try:
            async with asyncio.timeout(2.0):
                await channel.show_typing(str(typing["guest_address"]), active)
        except Exception as exc:  # an indicator is a courtesy; never let it delay or break a reply
            log.debug("typing indicator on %s failed: %s", typing["channel"], exc)

    def commit_plan(
        self, job: jobs.ClaimedJob, plan: ReplyPlan, guest_data: dict[str, Any]
    ) -> tuple[jobs.ClaimedJob, OutboundMessage, str, dict[str, Any]] | None:
        """Write the reply, the escalation and the job's completion in one transaction.

        The reply's ``send`` job is created already held by this worker; the return
        value says what to deliver (None: nothing, staff took over meanwhile).
        Prepared Core statements (see :mod:`statements`); the ORM only for the rarer task.
        """
        app = self.app
        events: list[tuple[str, dict[str, Any]]] = []
        with Session(app.engine, expire_on_commit=False) as session:
            connection = session.connection()
            row = connection.execute(sql.CONVERSATION, {"cid": job.conversation_id}).mappings().first()
            assert row is not None
            conversation = SimpleNamespace(**row)
            if conversation.state != "ai":
                # Staff took over while the model was thinking: their word wins.
                jobs.finish(connection, job.id, self.id, "done", f"silent: conversation became {conversation.state}")
                session.commit()
                return None
            now = now_utc()
            meta = {**plan.meta}
            # A request ("send towels") is a task while the AI keeps the conversation; other escalations hand it over.
            handed_over = plan.escalation is not None and plan.escalation.hand_over
            if handed_over:
                meta["escalated"] = True
            reply = SimpleNamespace(
                conversation_id=conversation.id, channel=conversation.channel, direction="outbound", sender="ai", body=plan.body,
                status="queued", reply_to_id=job.message_id, meta=meta, created_at=now, updated_at=now,
            )
            reply.id = int(connection.execute(sql.INSERT_MESSAGE, vars(reply)).inserted_primary_key[0])
            reply.error = reply.provider_message_id = reply.channel_message_id = None
            send_job_id = jobs.enqueue_now(connection, "send", reply.id, conversation.id, held_by=self.id, lease_seconds=self.lease_seconds)
            conversation.language = conversation.language or plan.language
            conversation.state = "escalated" if handed_over else conversation.state
            conversation.last_message_at = conversation.updated_at = now
            connection.execute(sql.AI_ANSWERED, {"cid": conversation.id, "at": now, "language": plan.language, "state": conversation.state})
            if plan.language and not guest_data.get("preferred_language"):
                connection.execute(sql.GUEST_LANGUAGE, {"gid": conversation.guest_id, "language": plan.language, "at": now})
            task = None
            if plan.escalation:
                task = self.feature.tasks.new_task(
                    session,
                    conversation_id=conversation.id,
                    guest_id=conversation.guest_id,
                    department=plan.escalation.department,
                    priority=plan.escalation.priority,
                    title=f"{plan.escalation.reason.replace('_', ' ').capitalize()}: {plan.escalation.summary}",
                    description=plan.escalation.summary,
                    reason=plan.escalation.reason,
                )
            jobs.finish(connection, job.id, self.id, "done")
            session.commit()
            events.append(("message.created", message_dict(cast(Message, reply), conversation.guest_address)))
            if task is not None:
                conversation_data = conversation_dict(cast(Conversation, conversation), session.get(Guest, conversation.guest_id))
                if handed_over:
                    events.append(("conversation.escalated", {**conversation_data, "reason": plan.escalation.reason, "task_id": task.id}))
                events.append(("conversation.updated", conversation_data))
                events.append(("task.created", task_dict(task)))
        for event_type, payload in events:
            self.feature.events.publish(event_type, payload)
        outbound = self.outbox.outbound_for(cast(Message, reply), cast(Conversation, conversation))
        return jobs.ClaimedJob(send_job_id, "send", reply.id, conversation.id, 1), outbound, reply.channel, vars(reply)


def _load_rows(session: Session, message_id: int) -> tuple[Any, Any, Any]:
    """The message, its conversation and guest as plain rows (attribute access), or three Nones.

    Core rather than ORM entities: nothing here is changed, so identity map and change
    tracking would be pure cost on every reply.
    """
    row = session.connection().execute(sql.MESSAGE_IN_CONTEXT, {"mid": message_id}).first()
    if row is None:
        return None, None, None
    values, result, start = tuple(row), [], 0
    for table in (sql.messages, sql.conversations, sql.guests):
        names = [column.name for column in table.c]
        result.append(SimpleNamespace(**dict(zip(names, values[start : start + len(names)], strict=True))))
        start += len(names)
    return result[0], result[1], result[2]
