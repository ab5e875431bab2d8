"""The store's error: one sentence a person can act on, like the rest of the app's."""

from __future__ import annotations

from services.errors import AppError

__all__ = ["StoreError", "explain"]

_UNREACHABLE = (
    "connection refused",
    "could not connect",
    "timeout",
    "connection is closed",
    "server closed",
    "terminating",
)


class StoreError(AppError):
    """The database cannot be opened, read or written; `str()` says why and what to do."""


def explain(error: Exception, where: str) -> StoreError:
    """The sentence for a database failure (raise it `from error`). `where` names the
    database for a person: its file, or its host with no password."""
    text = str(error).lower()
    if "not a database" in text or "malformed" in text:
        message = (
            f"The database file {where} is damaged or is not a database: move it away "
            "(nothing is deleted) and restart, or set A2A_DATA_DIR to another folder."
        )
    elif "readonly" in text or "read-only" in text:
        message = (
            f"The database {where} is read-only, so history is not being saved: make the "
            "file and its folder writable, or set A2A_DATA_DIR to a writable folder."
        )
    elif "disk is full" in text or "no space left" in text or "database or disk is full" in text:
        message = (
            f"The disk holding {where} is full, so history is not being saved: free some "
            "space; the app saves what it holds once it can."
        )
    elif "unable to open" in text or "permission denied" in text:
        message = (
            f"The database {where} cannot be opened (no such folder, or no permission): "
            "check A2A_DATA_DIR, or the file's permissions."
        )
    elif any(word in text for word in _UNREACHABLE):
        message = (
            f"The database at {where} cannot be reached, so history is not being saved: "
            "the app goes on in memory and saves what it holds when the database is back."
        )
    else:
        message = (
            f"The database {where} could not be written, so history is not being saved "
            "for now: the app goes on in memory and tries again."
        )
    return StoreError(message, detail=f"{type(error).__name__}: {error}"[:2_000])
