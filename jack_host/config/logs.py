"""Logging: JSON lines in production, readable lines in development, with request ids.

A JSON line carries only the fields documented in docs/LOGS.md (:data:`JSON_FIELDS`): libraries
hang their own attributes on records (uvicorn's ANSI-coloured ``color_message``, LiteLLM's
``litellm_redacted`` object), and those never reach the line.  Libraries log at WARNING and above
unless ``LOG_LEVEL=debug``.
"""

from __future__ import annotations

import contextvars
import datetime as dt
import json
import logging
import sys

request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("jack_request_id", default=None)
LEVELS = ("debug", "info", "warning", "warn", "error", "critical")
#: The fields a record's ``extra=`` may add to a JSON line (the access log's and the alert log's).
JSON_FIELDS = ("method", "path", "status", "duration_ms", "client_ip", "alert", "severity", "details")
#: Loggers of libraries whose INFO lines are chatter (seven ``alembic.runtime.plugins`` lines per command...).
LIBRARY_LOGGERS = (
    "alembic", "LiteLLM", "LiteLLM Proxy", "LiteLLM Router", "litellm", "httpx", "httpcore", "botocore",
    "boto3", "s3transfer", "urllib3", "asyncio", "aiosmtplib", "multipart", "python_multipart", "dynaconf",
)


class _RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get()
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        if getattr(record, "request_id", None):
            entry["request_id"] = record.request_id
        for key in JSON_FIELDS:
            if key in record.__dict__:
                entry[key] = record.__dict__[key]
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)-7s %(name)s: %(message)s", "%H:%M:%S")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        request_id = getattr(record, "request_id", None)
        return f"{line} [req {request_id[:8]}]" if request_id else line


def configure_logging(level: str, json_lines: bool) -> None:
    """Configure the root logger once for the process (the CLI calls this, not the app factory)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if json_lines else TextFormatter())
    handler.addFilter(_RequestIdFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    name = "WARNING" if level.lower() == "warn" else level.upper()
    root.setLevel(name)
    debug = root.level <= logging.DEBUG
    for library in LIBRARY_LOGGERS:
        # NOTSET: at debug a library logs what the root lets through.
        logging.getLogger(library).setLevel(logging.NOTSET if debug else max(logging.WARNING, root.level))
