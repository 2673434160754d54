"""E-mail channel (SMTP out, IMAP/webhook in) for Jack The Butler."""

__version__ = "0.1.0"
