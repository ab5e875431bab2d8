"""What the agent does: its skills, and the media types it accepts and produces."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from services.inspector.card_check.findings import CardReport
from services.inspector.card_check.security import check_requirements

_HINTS = {
    "defaultInputModes": 'list the media types the agent accepts, such as ["text/plain"]',
    "defaultOutputModes": 'list the media types the agent produces, such as ["text/plain"]',
    "skills": "describe at least one skill with id, name, description and tags",
}
# type/subtype with optional parameters (RFC 6838 names, plus `*` wildcards).
_MEDIA_TYPE = re.compile(r"[A-Za-z0-9*][\w!#$&^.+*-]*/[A-Za-z0-9*][\w!#$&^.+*-]*(\s*;.*)?")


def check_default_modes(report: CardReport, key: str) -> None:
    """`defaultInputModes` or `defaultOutputModes`: a non-empty list of media types."""
    _check_modes(report, key, report.required(report.card, "", key, list, _HINTS[key]))


def check_skills_10(report: CardReport, key: str) -> None:
    """1.0: skills, whose own requirements are `securityRequirements`."""
    _check_skills(report, key, security="securityRequirements")


def check_skills_03(report: CardReport, key: str) -> None:
    """0.3: skills, whose own requirements are `security`."""
    _check_skills(report, key, security="security")


def _check_skills(report: CardReport, key: str, *, security: str) -> None:
    skills = report.required(report.card, "", key, list, _HINTS[key])
    ids: dict[str, str] = {}
    for where, skill in report.objects(key, skills or []):
        skill_id = report.required(skill, where, "id", str, "give the skill a unique id")
        report.required(skill, where, "name", str, "give the skill a human-readable name")
        report.required(skill, where, "description", str, "say what the skill does")
        tags = report.required(
            skill, where, "tags", list, "add at least one keyword describing the skill"
        )
        report.strings(f"{where}.tags", tags or [])
        report.strings(f"{where}.examples", report.optional(skill, where, "examples", list) or [])
        for modes in ("inputModes", "outputModes"):
            _check_modes(report, f"{where}.{modes}", report.optional(skill, where, modes, list))
        check_requirements(report, security, skill, where)
        if skill_id is not None:
            if skill_id in ids:
                report.error(
                    f"{where}.id",
                    f"The skill id {skill_id!r} is also used by `{ids[skill_id]}`; give "
                    "each skill a unique id.",
                )
            else:
                ids[skill_id] = where


def _check_modes(report: CardReport, where: str, values: Sequence[Any] | None) -> None:
    for i, mode in report.strings(where, values or []):
        if not _MEDIA_TYPE.fullmatch(mode.strip()):
            report.warn(
                f"{where}[{i}]",
                f"`{where}[{i}]` is {mode!r}, which is not a media type; use a MIME type "
                "such as text/plain or application/json.",
            )
