"""The outbox: delivers queued outbound messages through their channel, with retries.

A ``send`` job is committed with its message.  The channel's ``send`` is retried
with exponential backoff (``OUTBOX_BACKOFF_SECONDS`` doubling, at most
``OUTBOX_MAX_BACKOFF_SECONDS``, or the provider's ``retry_after`` when longer) on
:class:`TransientSendError` and unexpected errors, up to ``OUTBOX_MAX_ATTEMPTS``.
A permanent error, a channel that is not configured or not loaded, or the last
failed attempt marks the message ``failed`` with the reason and publishes
``message.status``.  The provider's message id is stored for delivery reports.

A crash between the provider accepting a message and the commit that records it
means the message is sent again after the restart: delivery is at least once
(channels that support an idempotency key may pass ``OutboundMessage.message_id``).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any, cast

from sqlmodel import Session

from jack_host.builtin.conversations import jobs
from jack_host.builtin.conversations import statements as sql
from jack_host.builtin.conversations.models import Conversation, Message, now_utc
from jack_host.builtin.conversations.records import message_dict
from jack_host.contract.interfaces import (
    NotConfiguredError,
    OutboundMessage,
    PermanentSendError,
    SendResult,
    TransientSendError,
)
from jack_host.contract.services import Costs
from jack_host.db.models import iso

if TYPE_CHECKING:
    from jack_host.builtin.conversations.feature import ConversationsFeature
    from jack_host.contract.app import App

log = logging.getLogger("jack.outbox")


class Outbox:
    def __init__(self, app: App, worker_id: str, feature: ConversationsFeature):
        self.app = app
        self.feature = feature
        self.worker_id = worker_id

    def setting(self, name: str, default: float) -> float:
        value = self.app.settings.get(name)
        return float(default if value is None else value)

    @staticmethod
    def outbound_for(message: Message, conversation: Conversation) -> OutboundMessage:
        return OutboundMessage(
            message_id=message.id,
            conversation_id=conversation.id,
            guest_address=conversation.guest_address,
            body=message.body,
            sender=message.sender,
            metadata={
                "last_guest_message_at": iso(conversation.last_guest_message_at),
                "guest_id": conversation.guest_id,
                "language": message.meta.get("language") or conversation.language,
                **{k: v for k, v in message.meta.items() if k in ("template", "subject", "in_reply_to")},
            },
        )

    async def process(self, job: jobs.ClaimedJob) -> None:
        """Run a claimed ``send`` job."""
        with Session(self.app.engine) as session:
            message = session.get(Message, job.message_id)
            conversation = session.get(Conversation, job.conversation_id)
            if message is None or conversation is None:
                jobs.finish(session, job.id, self.worker_id, "failed", "message vanished")
                session.commit()
                return
            outbound = self.outbound_for(message, conversation)
            row = {column.name: getattr(message, column.name) for column in sql.messages.c}
        await self.deliver(job, outbound, message.channel, row)

    async def deliver(
        self, job: jobs.ClaimedJob, outbound: OutboundMessage, channel_name: str, message: Mapping[str, Any] | None = None
    ) -> None:
        """Hand ``outbound`` to its channel and record the outcome of the held ``send`` job.

        ``message``: the message's row as the caller holds it, which saves reading it again after the send.
        """
        channel = self.app.channels.get(channel_name)
        if channel is None:
            await self._fail(job, f"channel '{channel_name}' is not loaded; the message cannot be sent")
            return
        try:
            result = await channel.send(outbound)
        except (PermanentSendError, NotConfiguredError) as exc:
            await self._fail(job, str(exc) or type(exc).__name__)
            return
        except TransientSendError as exc:
            await self._retry(job, str(exc) or "transient error", exc.retry_after)
            return
        except Exception as exc:  # a channel bug or a network error we did not classify: try again
            log.exception("channel %s raised while sending message %s", channel_name, outbound.message_id)
            await self._retry(job, f"{type(exc).__name__}: {exc}", None)
            return
        await self._sent(job, result if isinstance(result, SendResult) else SendResult(), outbound.guest_address, message)

    async def _sent(self, job: jobs.ClaimedJob, result: SendResult, address: str, known: Mapping[str, Any] | None) -> None:
        # Prepared Core statements, not the ORM: this runs once per message sent, and the unit of work
        # (identity map, change tracking, flush) cost more than the statements themselves.
        with self.app.engine.begin() as connection:
            row = known if known is not None else connection.execute(sql.MESSAGE, {"mid": job.message_id}).mappings().first()
            assert row is not None
            data = dict(row)
            data.update(
                status=result.status or "sent",
                provider_message_id=result.provider_message_id,
                error=None,
                meta={**(row["meta"] or {}), **(result.metadata or {}), "attempts": job.attempts},
                updated_at=now_utc(),
            )
            connection.execute(
                sql.MESSAGE_SENT,
                {"mid": job.message_id, "status": data["status"], "provider_id": data["provider_message_id"], "meta": data["meta"], "at": data["updated_at"]},
            )
            jobs.finish(connection, job.id, self.worker_id, "done")
        message = cast(Message, SimpleNamespace(**data))  # message_dict only reads the columns
        data = message_dict(message, address)
        self.feature.events.publish("message.status", data)
        if result.provider_message_id:
            await self.feature.pipeline.apply_parked_status(message.channel, result.provider_message_id)
        sms = (result.metadata or {}).get("sms")
        costs = self.app.services.find(Costs)
        if isinstance(sms, dict) and costs is not None:
            try:
                await costs.record_sms(sms.get("cost_usd"), int(sms.get("segments") or 1), message_id=job.message_id)
            except Exception:  # the message went out; a ledger problem must not resend it
                log.exception("could not record the SMS cost of message %s", job.message_id)

    async def _retry(self, job: jobs.ClaimedJob, error: str, retry_after: float | None) -> None:
        max_attempts = int(self.setting("OUTBOX_MAX_ATTEMPTS", 6))
        if job.attempts >= max_attempts:
            await self._fail(job, f"gave up after {job.attempts} attempts: {error}")
            return
        base = self.setting("OUTBOX_BACKOFF_SECONDS", 2.0)
        delay = min(base * 2 ** (job.attempts - 1), self.setting("OUTBOX_MAX_BACKOFF_SECONDS", 300.0))
        if retry_after:
            delay = max(delay, float(retry_after))
        log.warning("send of message %s failed (attempt %d/%d), retrying in %.1fs: %s", job.message_id, job.attempts, max_attempts, delay, error)
        with Session(self.app.engine) as session:
            message = session.get(Message, job.message_id)
            if message is not None:
                # Visible to staff while it is retried; cleared when it finally goes out.
                message.error = f"attempt {job.attempts} failed, retrying: {error}"[:1000]
                message.updated_at = now_utc()
                session.add(message)
                session.commit()
        jobs.retry_later(self.app.engine, job.id, self.worker_id, delay, error)
        self.feature.pipeline.send_wake.set()  # the outbox loop learns the new due time

    async def _fail(self, job: jobs.ClaimedJob, reason: str) -> None:
        log.error("message %s failed: %s", job.message_id, reason)
        with Session(self.app.engine, expire_on_commit=False) as session:
            message = session.get(Message, job.message_id)
            assert message is not None
            message.status = "failed"
            message.error = reason[:1000]
            message.meta = {**(message.meta or {}), "attempts": job.attempts}
            message.updated_at = now_utc()
            session.add(message)
            jobs.finish(session, job.id, self.worker_id, "failed", reason[:1000])
            session.commit()
            data = message_dict(message, self._address(session, message))
        self.feature.events.publish("message.status", data)

    @staticmethod
    def _address(session: Session, message: Message) -> str | None:
        conversation: Any = session.get(Conversation, message.conversation_id)
        return conversation.guest_address if conversation else None
