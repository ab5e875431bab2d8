"""The finding type, and the typed reads every field check makes of a card.

A check reads a field through `CardReport` (`required`, `optional`, `objects`,
`strings`): a value that is missing, mistyped or empty becomes a finding, and the read
returns None (or skips the item) so the check goes on with what is sound.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from packaging.version import InvalidVersion, Version

Severity = Literal["error", "warning"]
CardVersion = Literal["1.0", "0.3"]


@dataclass(frozen=True)
class CardWarning:
    """One problem with a card: the field's path (`skills[2].id`), a sentence, a severity."""

    field: str
    message: str
    severity: Severity


_EXPECTED = {str: "a string", list: "a list", dict: "an object", bool: "a boolean"}


class CardReport:
    """The findings on one card so far, and typed reads of its fields that add to them."""

    def __init__(
        self, card: Mapping[str, Any], version: CardVersion, aliases: Mapping[str, str]
    ) -> None:
        self.card = card
        self.version = version
        self.spec = f"A2A {version}"
        self.aliases = aliases  # canonical name -> the key the card uses instead
        self.found: list[CardWarning] = []

    def error(self, where: str, message: str) -> None:
        self.found.append(CardWarning(where, message, "error"))

    def warn(self, where: str, message: str) -> None:
        self.found.append(CardWarning(where, message, "warning"))

    def typed(self, where: str, value: Any, kind: type) -> bool:
        """True if `value` is of `kind` (str, list, dict or bool); else reports it."""
        if _is(value, kind):
            return True
        self.error(
            where,
            f"`{where}` is {typename(value)} but must be {_EXPECTED[kind]}; "
            "fix its type in the card's JSON.",
        )
        return False

    def required(self, obj: Mapping[str, Any], prefix: str, key: str, kind: type, hint: str) -> Any:
        """A REQUIRED field's value, or None after reporting it missing, mistyped or empty
        (spec 5.7: required lists need at least one element)."""
        where = join(prefix, key)
        if obj.get(key) is None:
            alias = self.aliases.get(key) if not prefix else None
            if alias:
                self.error(
                    where,
                    f"`{key}` is missing but the card has `{alias}`; rename it to `{key}`, "
                    f"the field name the {self.spec} spec uses.",
                )
            else:
                self.error(
                    where, f"`{where}` is missing, but the {self.spec} spec requires it; {hint}."
                )
            return None
        value = obj[key]
        if not self.typed(where, value, kind):
            return None
        if (isinstance(value, str) and not value.strip()) or (
            isinstance(value, list) and not value
        ):
            self.error(
                where, f"`{where}` is empty, but the {self.spec} spec requires a value; {hint}."
            )
            return None
        return value

    def optional(self, obj: Mapping[str, Any], prefix: str, key: str, kind: type) -> Any:
        """An optional field's value, or None if absent or mistyped (reported)."""
        value = obj.get(key)
        if value is None:
            return None
        return value if self.typed(join(prefix, key), value, kind) else None

    def strings(self, where: str, values: Sequence[Any]) -> list[tuple[int, str]]:
        """The (index, item) strings of a list; reports items that are not strings."""
        out = []
        for i, item in enumerate(values):
            if self.typed(f"{where}[{i}]", item, str):
                out.append((i, item))
        return out

    def objects(self, where: str, values: Sequence[Any]) -> Iterator[tuple[str, Mapping[str, Any]]]:
        """The (path, item) objects of a list; reports items that are not objects."""
        for i, item in enumerate(values):
            if self.typed(f"{where}[{i}]", item, dict):
                yield f"{where}[{i}]", item


def join(prefix: str, key: str) -> str:
    """A field's path: `key` under `prefix` (`skills[0]` + `id` is `skills[0].id`)."""
    return f"{prefix}.{key}" if prefix else key


def typename(value: Any) -> str:
    """A JSON value's type, as a sentence says it ("a number", "null")."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, Mapping):
        return "an object"
    return type(value).__name__


def major_minor(version: str) -> tuple[int, int] | None:
    """`Major.Minor` of a protocol version, as a2a-sdk's ClientFactory reads it."""
    try:
        parsed = Version(version)
    except InvalidVersion:
        return None
    return (parsed.major, parsed.minor)


def _is(value: Any, kind: type) -> bool:
    if kind is dict:
        return isinstance(value, Mapping)
    if kind is str:
        return isinstance(value, str)
    if kind is list:
        return isinstance(value, list)
    return isinstance(value, bool)
