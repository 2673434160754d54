"""Guest conversations: the durable pipeline from a channel's inbound message to a reply.

``receive`` stores the message and a job in one transaction; the worker claims
jobs from the ``jobs`` table, asks the model (or the knowledge base) for a reply,
escalates to staff when needed, and the outbox delivers replies through the
guest's channel.  See docs/ARCHITECTURE.md, "Pipeline API".
"""
