"""The benchmarks and the streaming render they measure, checked for behaviour only.

- Smoke: `python -m benchmarks --quick --json` runs to the end and reports every figure
  as a number (none below zero but the differences, which three noisy rounds can flip).
  No goal is asserted here (machines differ; `python -m benchmarks --check` is where
  goals are judged). Without Chromium the two figures through the real app are
  null and the test says so (it fails instead where A2A_REQUIRE_BROWSER=1, as CI sets);
  the PostgreSQL figure is null unless A2A_BENCH_DATABASE_URL names a database.
- Render: replies are drawn as markdown blocks that join back to the exact text, cut
  only where the rendering cannot change, and a streamed reply ends up drawn exactly as
  the same reply is drawn from history.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest
from streamlit.testing.v1.element_tree import Block

from app_pages.ui.reply import markdown_blocks
from benchmarks.browser import browser_unavailable
from benchmarks.cli import BROWSER_FIGURES, FIGURES, POSTGRES_FIGURES, SIGNED_FIGURES
from benchmarks.store import PG_URL_VARIABLE
from services.demo_agent import LONG_ANSWER
from services.session import HISTORY_PAGE

ROOT = Path(__file__).resolve().parents[1]
RUN_TIMEOUT = 240  # seconds; a quick run takes about 20 s on an idle 2-core machine


@pytest.mark.timeout(RUN_TIMEOUT + 30)
def test_a_quick_run_reports_every_figure_as_a_number() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--quick", "--json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT,
    )
    assert result.returncode == 0, result.stderr
    figures = json.loads(result.stdout)

    assert list(figures) == list(FIGURES)
    unavailable = browser_unavailable()
    for name, value in figures.items():
        if name in BROWSER_FIGURES and unavailable:
            assert value is None, (name, value)
            continue
        if name in POSTGRES_FIGURES and not os.environ.get(PG_URL_VARIABLE, "").strip():
            assert value is None, (name, value)  # measured only on a database given to it
            continue
        assert isinstance(value, int | float) and not isinstance(value, bool), (name, value)
        assert math.isfinite(value), (name, value)
        assert value >= 0 or name in SIGNED_FIGURES, (name, value)
    # The store's figures: the Chat page draws its latest page of the 200 stored messages.
    assert figures["restore_turns_drawn"] == HISTORY_PAGE, figures["restore_turns_drawn"]
    assert figures["persist_stream_eps_on"] > 0 and figures["persist_stream_eps_off"] > 0
    if unavailable:
        if os.environ.get("A2A_REQUIRE_BROWSER") == "1":
            pytest.fail(f"browser figures not measured: {unavailable} (A2A_REQUIRE_BROWSER=1)")
        pytest.skip(f"browser figures not measured: {unavailable}")


@pytest.mark.parametrize(
    ("text", "blocks"),
    [
        ("", [""]),
        ("One paragraph.", ["One paragraph."]),
        ("First.\n\nSecond.\n", ["First.\n\n", "Second.\n"]),
        # not inside a fence, not before an indented line, not between items of one list
        ("```\na\n\nb\n```\n\nAfter.", ["```\na\n\nb\n```\n\n", "After."]),
        ("- a\n\n  more of a\n\n- b\n\nAfter.", ["- a\n\n  more of a\n\n- b\n\n", "After."]),
        ("1. a\n\n2. b", ["1. a\n\n2. b"]),
        ("$$\nx\n\ny\n$$\n\nz", ["$$\nx\n\ny\n$$\n\n", "z"]),
        ("    indented code\n\nText.", None),  # st.markdown would dedent a first block
        # a link reference serves the whole text: kept whole
        ("See [the spec][s].\n\n[s]: https://a2a-protocol.org", None),
    ],
)
def test_markdown_blocks_cut_only_where_rendering_cannot_change(
    text: str, blocks: list[str] | None
) -> None:
    assert markdown_blocks(text) == (blocks if blocks is not None else [text])


@pytest.mark.parametrize("text", [LONG_ANSWER, "- a\n\n- b\n\nText.\n\n10. c\n\nEnd"])
def test_streamed_blocks_join_to_the_text_and_a_cut_once_made_holds(text: str) -> None:
    final = markdown_blocks(text)
    assert "".join(final) == text
    for end in range(len(text) + 1):  # every prefix the stream can show
        live = markdown_blocks(text[:end], final=False)
        assert "".join(live) == text[:end]
        assert live[:-1] == final[: len(live) - 1], text[:end]  # finished blocks never change


def _bubble_view(at: AppTest, index: int) -> list[tuple[str, str]]:
    """The bubble's elements in order (what a reader sees), without layout blocks."""
    return [
        (type(e).__name__, str(getattr(e, "value", getattr(e, "label", ""))))
        for e in at.chat_message[index]
        if not isinstance(e, Block) and e.type != "empty"
    ]


@pytest.mark.parametrize(
    "prompt",
    ["Explain how A2A streaming works", "Search for A2A news", "Generate a sales report"],
)
def test_a_streamed_reply_ends_drawn_as_history_draws_it(app: AppTest, prompt: str) -> None:
    app.run()
    app.chat_input(key="chat_prompt").set_value(prompt).run()
    assert not app.exception
    streamed = _bubble_view(app, -1)
    if prompt.startswith("Explain"):  # the long answer: whole blocks, exact and in order
        blocks = [b.strip() for b in markdown_blocks(LONG_ANSWER)]  # st.markdown strips
        assert [value for kind, value in streamed if kind == "Markdown"][: len(blocks)] == blocks

    app.run()  # a plain rerun: the reply is drawn from history now
    assert not app.exception
    assert _bubble_view(app, -1) == streamed
