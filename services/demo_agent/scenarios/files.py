"""Files: attached files are summarised (size, SHA-256) and raw ones echoed back byte for byte.

Picked by attachments, not keywords: files win over whatever the text says.
"""

from __future__ import annotations

import hashlib

from a2a.helpers.proto_helpers import new_raw_part, new_text_part
from a2a.types.a2a_pb2 import AgentSkill, Message, Part

from services.demo_agent.scenarios.base import Scenario, Turn

__all__ = ["INPUT_MODES", "SCENARIO", "file_parts"]

INPUT_MODES = [
    "text/plain",
    "image/png",
    "image/jpeg",
    "text/csv",
    "application/json",
    "application/pdf",
]


def file_parts(message: Message) -> list[Part]:
    """The parts of `message` that carry a file (raw bytes or a URL)."""
    return [part for part in message.parts if part.HasField("raw") or part.HasField("url")]


def _describe_file(part: Part, index: int) -> str:
    name = part.filename or f"file {index}"
    media_type = part.media_type or "unknown type"
    if part.HasField("url"):
        # Never fetched: the demo agent makes no network calls.
        return f"**{name}** · {media_type} · link {part.url} (not fetched)"
    digest = hashlib.sha256(part.raw).hexdigest()[:12]
    return f"**{name}** · {media_type} · {len(part.raw):,} bytes · sha256 {digest}"


async def _files(turn: Turn) -> None:
    updater, text = turn.updater, turn.text
    assert turn.context.message  # the executor checked it
    await updater.start_work()
    files = file_parts(turn.context.message)
    lines = [f"Received {len(files)} file(s):", ""]
    lines += [f"- {_describe_file(part, i)}" for i, part in enumerate(files, 1)]
    if text:
        lines += ["", f'You also said: "{text}"']
    await updater.add_artifact(
        [new_text_part("\n".join(lines) + "\n", media_type="text/markdown")],
        name="received",
        last_chunk=True,
    )
    # Echo each raw file untouched, so a client can check the round trip byte for byte.
    for index, part in enumerate(files, 1):
        if part.HasField("raw"):
            name = part.filename or f"file {index}"
            echo = new_raw_part(part.raw, media_type=part.media_type, filename=part.filename)
            await updater.add_artifact([echo], name=name, last_chunk=True)
    await updater.complete()


SCENARIO = Scenario(
    name="files",
    keywords=(),  # chosen by attachments (see scenarios.choose)
    skill=AgentSkill(
        id="files",
        name="Receive files",
        description=(
            "Attach files: a summary with sizes and SHA-256 digests, and each "
            "file echoed back byte for byte."
        ),
        tags=["demo", "files"],
        input_modes=INPUT_MODES,
    ),
    handle=_files,
)
