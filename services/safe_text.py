"""Agent-provided text, made safe to hand to Streamlit's markdown.

Streamlit already escapes raw HTML (`unsafe_allow_html` stays off) and drops
`javascript:` link targets. What is left to an agent: markdown images, which make every
viewer's browser fetch a URL the agent chose (a tracking pixel, or a request to an
internal address), and markdown or Streamlit directives hidden in short strings such as
names (`:red[...]`, `[click](...)`, `**`). So:

- `safe_markdown` keeps formatting for message bodies, but turns images into plain links.
- `plain` escapes everything markdown would act on, for names and labels.
"""

from __future__ import annotations

import re

__all__ = ["plain", "safe_markdown"]

# ![alt](target "title") and ![alt][ref]: the bang makes the browser load it.
_INLINE_IMAGE = re.compile(r"!\[([^\]\n]*)\]\(([^)\n]*)\)")
_REFERENCE_IMAGE = re.compile(r"!\[([^\]\n]*)\]\[([^\]\n]*)\]")
_MARKDOWN_CHARS = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:])")


def safe_markdown(text: str) -> str:
    """Markdown from an agent, with images shown as links (never loaded)."""
    text = _INLINE_IMAGE.sub(lambda m: f"[image: {m.group(1) or 'untitled'}]({m.group(2)})", text)
    return _REFERENCE_IMAGE.sub(
        lambda m: f"[image: {m.group(1) or 'untitled'}][{m.group(2)}]", text
    )


def plain(text: str) -> str:
    """A short agent-provided string (a name, a label) shown as itself, formatting off."""
    return _MARKDOWN_CHARS.sub(r"\\\1", " ".join(text.split()))
