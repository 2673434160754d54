"""A channel that knows a message's thread (e-mail In-Reply-To) picks its conversation, not the sender's address."""

from __future__ import annotations

import asyncio

import jack_host.testing.channel
from jack_host.contract.interfaces import InboundMessage
from jack_host.testing import make_app


def test_a_thread_hint_joins_that_conversation_and_a_new_thread_opens_one(tmp_path):
    app = make_app(tmp_path, plugins=[("test_channel", jack_host.testing.channel)])
    inbox = app.services.inbox

    def receive(message_id: str, **thread) -> int:
        message = InboundMessage(channel="test", channel_message_id=message_id, body="hello",
                                 sender_address="agent@travel.example", **thread)
        return asyncio.run(inbox.receive(message)).conversation_id

    first = receive("m1")
    second = receive("m2", starts_conversation=True)  # the agent's new mail, for another guest
    assert second != first
    assert receive("m3") == second  # no hint: the address's newest open conversation
    assert receive("m4", conversation_id=first) == first  # the agent answers the first thread
    app.services.conversations.close(first)
    reopened = receive("m5", conversation_id=first)  # a closed thread: the reply opens a new conversation
    assert reopened not in (first, second)
