"""Which files a user may send an agent: by the agent's input modes, size and count."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from services.replies import PartView

__all__ = ["MAX_FILES", "Upload", "accepts", "accepts_files", "check_uploads", "to_parts"]

MAX_FILES = 5


@dataclass(frozen=True)
class Upload:
    name: str
    media_type: str
    data: bytes


def accepts(modes: Sequence[str], media_type: str) -> bool:
    """Whether an agent taking `modes` (MIME types, `type/*` or `*/*`) takes `media_type`."""
    kind = media_type.split("/", 1)[0]
    return any(m in ("*/*", "*", media_type, f"{kind}/*") for m in modes)


def accepts_files(modes: Sequence[str]) -> bool:
    """Whether the agent takes anything besides plain text."""
    return any(m not in ("text/plain", "text") for m in modes)


def check_uploads(uploads: Sequence[Upload], modes: Sequence[str], max_bytes: int) -> list[str]:
    """One sentence per file the agent or the app will not take; empty when all are fine."""
    refusals = []
    if len(uploads) > MAX_FILES:
        refusals.append(f"{len(uploads)} files attached; send at most {MAX_FILES} at a time.")
    for upload in uploads:
        if len(upload.data) > max_bytes:
            refusals.append(
                f"{upload.name} is {len(upload.data) / 1e6:.1f} MB; the limit is "
                f"{max_bytes / 1e6:.0f} MB (set A2A_MAX_UPLOAD_MB to change it)."
            )
        elif not accepts(modes, upload.media_type):
            refusals.append(
                f"{upload.name} is {upload.media_type or 'of unknown type'}, which this agent "
                f"does not accept (it takes {', '.join(modes) or 'nothing but text'})."
            )
    return refusals


def to_parts(uploads: Sequence[Upload]) -> list[PartView]:
    """Raw file parts, with name and media type, for the message."""
    return [PartView("file", raw=u.data, filename=u.name, media_type=u.media_type) for u in uploads]
