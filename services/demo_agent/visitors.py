"""Per-visitor task lists: the call-context builder that keeps each app visitor's tasks apart.

Every session of the app shares the one embedded demo agent; the SDK scopes tasks by user
name, so without this every visitor of a public deployment would list (and open)
everyone's tasks. The app sends `X-A2A-Demo-Visitor` to its own agent only.
"""

from __future__ import annotations

import unicodedata

from a2a.auth.user import User
from a2a.server.routes import DefaultServerCallContextBuilder
from starlette.requests import Request

__all__ = ["MAX_VISITOR_LENGTH", "VISITOR_HEADER", "PerVisitor", "narrow_to_visitor"]

VISITOR_HEADER = "X-A2A-Demo-Visitor"
MAX_VISITOR_LENGTH = 200  # longer keys count as no visitor


class _Visitor(User):
    """The caller, with the tasks it owns narrowed to one visitor of the app."""

    def __init__(self, user: User, visitor: str) -> None:
        self._user = user
        self._visitor = visitor

    @property
    def is_authenticated(self) -> bool:
        return self._user.is_authenticated  # a partition, not a credential

    @property
    def user_name(self) -> str:
        return f"{self._user.user_name}/visitor:{self._visitor}"


class PerVisitor(DefaultServerCallContextBuilder):
    """Narrows the caller to the visitor named in `X-A2A-Demo-Visitor`, if any."""

    def build_user(self, request: Request) -> User:
        user = super().build_user(request)
        return narrow_to_visitor(user, request.headers.get(VISITOR_HEADER, ""))


def narrow_to_visitor(user: User, header: str) -> User:
    """`user` narrowed to the visitor `header` names (the HTTP and gRPC routes alike)."""
    visitor = _visitor_key(header)
    return _Visitor(user, visitor) if visitor else user


def _visitor_key(value: str) -> str:
    """The partition key in `value`, or "" (no visitor) if it is too long or has controls.

    Any other string is an opaque key (a session id today, a workspace id tomorrow). The
    bound keeps the owner ("<user>/visitor:<key>") inside the task table's 255-character
    owner column.
    """
    if len(value) > MAX_VISITOR_LENGTH or any(unicodedata.category(c) == "Cc" for c in value):
        return ""
    return value
