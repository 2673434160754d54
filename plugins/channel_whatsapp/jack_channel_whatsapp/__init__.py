"""WhatsApp Business Cloud API channel for Jack The Butler."""

__version__ = "0.1.0"
