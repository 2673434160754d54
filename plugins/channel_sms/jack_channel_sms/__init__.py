"""SMS channel through Twilio for Jack The Butler."""

__version__ = "0.1.0"
