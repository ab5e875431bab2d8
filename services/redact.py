"""Keeps secrets out of everything the app shows, exports or logs."""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["REDACTED", "Redactor"]

REDACTED = "[redacted]"
# Header names that carry credentials, whatever the agent calls them.
_SECRET_HEADER_WORDS = ("authorization", "cookie", "api-key", "apikey", "token", "secret")
_MIN_SECRET_LENGTH = 4  # shorter values would redact ordinary words


class Redactor:
    """Masks secret header values, and known secret strings anywhere in text."""

    def __init__(self, secrets: Iterable[str] = (), secret_headers: Iterable[str] = ()) -> None:
        # Longest first, so a secret that contains another is masked whole.
        self._secrets = sorted(
            {s for s in secrets if len(s) >= _MIN_SECRET_LENGTH}, key=len, reverse=True
        )
        self._headers = {h.lower() for h in secret_headers}

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
