"""Serve's log: text on a terminal, JSON lines otherwise, one stream for everything.

Serve's own lines, the engine's and the client's, and APScheduler's (its job errors only
reach its own loggers) all go through one handler, with secrets masked. Structured
fields travel in ``extra={"fields": {...}}``.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from typing import IO, Any

from runner.secrets import mask_secrets

__all__ = ["JsonFormatter", "TextFormatter", "configure_logging"]

_LOGGERS = ("runner", "apscheduler")


class _MaskSecrets(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.msg, record.args = mask_secrets(record.getMessage()), None
        return True


def _fields(record: logging.LogRecord) -> dict[str, Any]:
    fields = getattr(record, "fields", None)
    return dict(fields) if isinstance(fields, dict) else {}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            **_fields(record),
        }
        if record.exc_info:
            line["exception"] = mask_secrets(self.formatException(record.exc_info))
        return json.dumps(line, default=str)


class TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        stamp = time.strftime("%H:%M:%S", time.localtime(record.created))
        fields = " ".join(f"{key}={value}" for key, value in _fields(record).items())
        text = f"{stamp} {record.levelname.lower():7} {record.getMessage()}"
        text += f"  {fields}" if fields else ""
        if record.exc_info:
            text += "\n" + mask_secrets(self.formatException(record.exc_info))
        return text


def configure_logging(
    stream: IO[str] | None = None, *, json_lines: bool | None = None, level: int = logging.INFO
) -> logging.Handler:
    """Route serve's loggers (and APScheduler's warnings and errors) to ``stream``."""
    stream = stream or sys.stderr
    if json_lines is None:
        json_lines = not stream.isatty()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter() if json_lines else TextFormatter())
    handler.addFilter(_MaskSecrets())
    for name in _LOGGERS:
        logger = logging.getLogger(name)
        for old in list(logger.handlers):
            logger.removeHandler(old)
        logger.addHandler(handler)
        logger.propagate = False
    logging.getLogger("runner").setLevel(level)
    # its INFO lines ("Added job", "Running job") would be one per playbook and per fire
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    return handler
