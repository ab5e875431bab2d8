"""Static checks on the source: the portal is the only way to the event loop."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FORBIDDEN = re.compile(
    r"asyncio\.run\(|new_event_loop|set_event_loop|run_until_complete|nest_asyncio"
)


# The Loop health page's demonstration of the naive pattern: the one file allowed to
# call asyncio.run, because showing the classic failure is its whole job.
DEMONSTRATION = ROOT / "services" / "health" / "classic_error.py"


def app_sources() -> list[Path]:
    files = [ROOT / "app.py", *sorted((ROOT / "app_pages").rglob("*.py"))]
    files += sorted((ROOT / "services").rglob("*.py"))
    return [f for f in files if f != DEMONSTRATION]


def test_no_event_loop_is_made_or_patched_outside_the_portal():
    offenders = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for path in app_sources()
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if FORBIDDEN.search(line)
    ]
    assert offenders == []


def test_the_check_sees_the_files_it_guards():
    names = {p.relative_to(ROOT).as_posix() for p in app_sources()}
    assert {
        "app.py",
        "app_pages/chat.py",
        "services/runtime/loop.py",
        "services/runtime/stream.py",
        "services/client/agent.py",
    } <= names
    assert "services/health/classic_error.py" not in names


def test_the_demonstration_says_so_at_its_top():
    top = "\n".join(DEMONSTRATION.read_text().splitlines()[:15])
    assert "DEMONSTRATES THE NAIVE PATTERN ON PURPOSE" in top
    assert "asyncio.run(" in DEMONSTRATION.read_text()


def test_only_the_session_bridge_imports_streamlit_in_services():
    importers = sorted(
        path.relative_to(ROOT / "services").parts[0]
        for path in (ROOT / "services").rglob("*.py")
        if re.search(r"^\s*(import streamlit|from streamlit)", path.read_text(), re.M)
    )
    assert set(importers) == {"session"}  # the bridge is one package
