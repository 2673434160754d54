"""Web chat channel: WebSocket and embeddable widget for Jack The Butler."""

__version__ = "0.1.0"
