"""Agent-provided text, made safe to hand to Streamlit's markdown.

Streamlit already escapes raw HTML (`unsafe_allow_html` stays off) and drops
`javascript:` link targets. What is left to an agent: markdown images, which make every
viewer's browser fetch a URL the agent chose (a tracking pixel, or a request to an
internal address), and markdown or Streamlit directives hidden in short strings such as
names (`:red[...]`, `[click](...)`, `**`). So:

- `safe_markdown` keeps formatting for message bodies, but no image is ever loaded.
- `plain` escapes everything markdown would act on, for names, labels and sentences.

How images are neutralised: in CommonMark an image always begins with the two
characters `![` side by side (spec 6.4: "an exclamation mark followed by a link
description"), whatever its form (inline, full, collapsed or shortcut reference, nested
brackets, a line break in the alt text). So every `![` in the text is broken up, which no
parser can read as an image. A real CommonMark parser (markdown-it-py) says which of them
were images, so those read well: the bang becomes an image icon and the rest a plain link
the viewer may choose to open. The others (in code, say) get an invisible zero-width
space between the two characters and look as they did. Safety does not depend on the
parser agreeing with Streamlit's: every `![` is broken either way.
"""

from __future__ import annotations

import re
from typing import Any

from markdown_it import MarkdownIt
from markdown_it.rules_inline import StateInline
from markdown_it.rules_inline.image import image as _image_rule

__all__ = ["IMAGE_ICON", "code", "link", "plain", "safe_markdown"]

IMAGE_ICON = ":material/image:"
_BANG = "!["
_INVISIBLE_BREAK = "!\u200b["  # a zero-width space: shows as "![", parses as text
# What markdown (and Streamlit's own syntax) acts on anywhere in a line; brackets escaped,
# "(", ")" and "!" can no longer make a link or an image, so they stay as they are.
_INLINE_SYNTAX = re.compile(r"([\\`*_{}\[\]<>~$|])")
# :red[...], :material/icon:, :emoji: (a digit after a colon is a port: "host:8080")
_DIRECTIVE = re.compile(r":(?=[A-Za-z])")
# A list item, heading or rule at the start: its marker must be followed by a space or end.
_BLOCK_START = re.compile(r"(\d{1,9}[.)]|[#+\-=]+)(?=\s|$)")
_FOUND = "a2a_images"  # env key: (id of an inline token's content, offset) of each image
_URL_UNSAFE = re.compile(r"[\x00-\x20()<>\[\]\\\"'`\x7f]")


def _spot_images(state: StateInline, silent: bool) -> bool:
    """An inline rule that only watches: notes where an image starts, then lets the
    real image rule run (it returns False, so the parse is unchanged)."""
    start = state.pos
    if state.src.startswith(_BANG, start):
        if _image_rule(state, True):
            state.env.setdefault(_FOUND, set()).add((id(state.src), start))
        state.pos = start
    return False


_parser = MarkdownIt("commonmark").enable(["table", "strikethrough"])
_parser.inline.ruler.before("image", "a2a_spot_images", _spot_images)


def _image_flags(text: str) -> list[bool] | None:
    """For each `![` in `text`, in order: whether the parser reads an image there.

    None when the parse cannot be matched to the text occurrence by occurrence (an
    `![` inside a link reference definition, which no token keeps).
    """
    env: dict[str, Any] = {}
    tokens = _parser.parse(text, env)
    found: set[tuple[int, int]] = env.get(_FOUND, set())
    flags: list[bool] = []
    for token in tokens:
        if token.type == "inline":
            source = id(token.content)  # the very string the inline parser read
            flags += [(source, at) in found for at in _offsets(token.content)]
        elif token.type in ("fence", "code_block", "html_block"):
            flags += [False] * token.content.count(_BANG)
    return flags if len(flags) == text.count(_BANG) else None


def _offsets(text: str) -> list[int]:
    return [m.start() for m in re.finditer(re.escape(_BANG), text)]


def safe_markdown(text: str) -> str:
    """Markdown from an agent, with images shown as links (never loaded)."""
    if _BANG not in text:
        return text  # no image is possible (the fast path: most text)
    flags = _image_flags(text) or []
    pieces = text.split(_BANG)
    out = [pieces[0]]
    for index, piece in enumerate(pieces[1:]):
        if index < len(flags) and flags[index]:
            # ![alt](url) -> icon [alt](url); an empty alt gets a word to click on.
            out.append(f"{IMAGE_ICON} [{'image' if piece.startswith(']') else ''}{piece}")
        else:
            out.append(_INVISIBLE_BREAK + piece)
    return "".join(out)


def plain(text: str) -> str:
    """A short agent-provided string (a name, a label, a sentence quoting one) shown as
    itself, on one line, with nothing markdown or Streamlit could act on."""
    text = _DIRECTIVE.sub(r"\\:", _INLINE_SYNTAX.sub(r"\\\1", " ".join(text.split())))
    start = _BLOCK_START.match(text)
    if start is None:
        return text
    marker = start.end() - 1  # "1." -> "1\.", "# " -> "\# "
    return f"{text[:marker]}\\{text[marker:]}"


def code(text: str) -> str:
    """`text` (a URL, an id) as inline code: shown exactly, never linked or formatted."""
    text = " ".join(text.split())
    fence = "`" * (max((len(run) for run in re.findall(r"`+", text)), default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def link(label: str, url: str) -> str:
    """A markdown link to an agent-chosen http(s) URL, with `label` shown as plain text.

    The URL's characters that could end the link or start new markdown (brackets,
    parentheses, spaces, quotes) are percent-encoded, so no URL can smuggle in markup.
    """
    target = _URL_UNSAFE.sub(lambda m: "".join(f"%{b:02X}" for b in m.group().encode()), url)
    return f"[{plain(label) or 'link'}]({target})"
