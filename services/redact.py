"""Keeps secrets out of everything the app shows, exports or logs."""

from __future__ import annotations

import logging
import threading
import traceback
from collections.abc import Iterable
from typing import Any

__all__ = ["REDACTED", "Redactor", "redact_logs"]

REDACTED = "[redacted]"
# Header names that carry credentials, whatever the agent calls them.
_SECRET_HEADER_WORDS = ("authorization", "cookie", "api-key", "apikey", "token", "secret")
_MIN_SECRET_LENGTH = 4  # shorter values would redact ordinary words


class Redactor:
    """Masks secret header values, and known secret strings anywhere in text."""

    def __init__(self, secrets: Iterable[str] = (), secret_headers: Iterable[str] = ()) -> None:
        self._secrets: list[str] = []
        self._headers = {h.lower() for h in secret_headers}
        self.add(secrets)

    def add(self, secrets: Iterable[str]) -> None:
        """Mask these too from now on (credentials typed in the session, say)."""
        known = set(self._secrets) | {s for s in secrets if len(s) >= _MIN_SECRET_LENGTH}
        # Longest first, so a secret that contains another is masked whole.
        self._secrets = sorted(known, key=len, reverse=True)

    def is_secret_header(self, name: str) -> bool:
        name = name.lower()
        return name in self._headers or any(word in name for word in _SECRET_HEADER_WORDS)

    def headers(self, items: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
        return [
            (name, REDACTED if self.is_secret_header(name) else self.text(value))
            for name, value in items
        ]

    def text(self, text: str) -> str:
        for secret in self._secrets:
            if secret in text:
                text = text.replace(secret, REDACTED)
        return text


_log_secrets: set[str] = set()
_log_lock = threading.Lock()
_log_factory_installed = False


def redact_logs(secrets: Iterable[str]) -> None:
    """Mask `secrets` in every log record this process makes from now on.

    Libraries log what they like (a2a-sdk's server logs request headers at DEBUG), so
    the masking sits where every record is made, not in our own log calls.
    """
    global _log_factory_installed
    with _log_lock:
        _log_secrets.update(s for s in secrets if len(s) >= _MIN_SECRET_LENGTH)
        if _log_factory_installed or not _log_secrets:
            return
        _log_factory_installed = True
    make_record = logging.getLogRecordFactory()

    def redacting_factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = make_record(*args, **kwargs)
        redactor = Redactor(_log_secrets)
        message = record.getMessage()
        masked = redactor.text(message)
        if masked != message:
            record.msg, record.args = masked, None
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = redactor.text("".join(traceback.format_exception(*record.exc_info)))
        return record

    logging.setLogRecordFactory(redacting_factory)
