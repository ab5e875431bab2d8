"""Errors on the page: one sentence a person can act on, details folded, never markup.

Sentences often quote what an agent or a file said (an error message, a card field, a
URL), so they are shown as plain text: nothing in them can format, link or load.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

import streamlit as st

from services import session
from services.errors import AppError
from services.safe_text import plain

__all__ = ["show_error", "turn_boundary"]

log = logging.getLogger(__name__)
_DETAIL_CHARS = 4_000


def show_error(error: AppError | str, *, icon: str = ":material/warning:") -> None:
    """`error`'s sentence as plain text, and its technical detail (secrets masked) folded."""
    st.error(plain(str(error)), icon=icon)
    detail = error.detail if isinstance(error, AppError) else ""
    if detail:
        with st.expander("Details"):
            st.code(session.redact(detail)[:_DETAIL_CHARS], language=None, wrap_lines=True)


@contextmanager
def turn_boundary(what: str) -> Iterator[None]:
    """Draw one part of a page (a chat turn, say) so that if drawing it fails, only it is
    replaced by a sentence: the rest of the page, its menus and buttons keep working."""
    slot = st.empty()
    try:
        with slot.container():
            yield
    except Exception as error:  # noqa: BLE001 - Stop and rerun are BaseExceptions: they pass
        log.exception("drawing %s failed", what)
        with slot.container():
            st.error(
                f"{what} could not be drawn ({type(error).__name__}). The rest of the "
                "conversation is not affected; the details say what went wrong.",
                icon=":material/broken_image:",
            )
            with st.expander("Details"):
                text = session.redact(f"{type(error).__name__}: {error}")[:_DETAIL_CHARS]
                st.code(text, language=None, wrap_lines=True)
