"""Side by side: one prompt to several agents at once, against two real demo agents on
loopback and a URL where nothing listens; the run kept in the workspace and reopened."""

from __future__ import annotations

import secrets
import socket
import time
from collections.abc import Iterator

import pytest
from streamlit.testing.v1 import AppTest

from services.client import side_by_side
from services.client.side_by_side import MAX_PROMPT_CHARS, Lane, Target
from services.demo_agent import DemoAgentServer, DemoTiming
from services.formats import FileRejected
from services.runtime import SessionRuntime
from services.session import _store as session_store
from services.store import Store
from services.store.store import SIDE_BY_SIDE_KEPT
from tests.conftest import APP, FAST, close_runtime

PAGE = "app_pages/side_by_side.py"
PROMPT = "Explain how A2A streaming works"


@pytest.fixture(scope="module")
def second_agent() -> Iterator[DemoAgentServer]:
    with DemoAgentServer(timing=FAST) as server:
        yield server


@pytest.fixture
def nowhere() -> str:
    """A loopback URL where nothing listens (a port bound, then closed)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def run_lanes(runtime: SessionRuntime, targets: list[Target], prompt: str) -> list[Lane]:
    lanes = [Lane(t.url, t.name) for t in targets]
    started = time.monotonic()
    for update in side_by_side.run(runtime, targets, prompt):
        lanes[update.index].apply(update, started)
    return lanes


def test_two_agents_answer_at_once_and_an_unreachable_one_gets_its_sentence(
    runtime, demo_agent, second_agent, nowhere
):
    targets = [Target(demo_agent.url, "A"), Target(nowhere, "Gone"), Target(second_agent.url, "B")]
    started = time.monotonic()
    lanes = run_lanes(runtime, targets, PROMPT)
    elapsed = time.monotonic() - started

    a, gone, b = lanes
    for lane in (a, b):
        assert lane.done and not lane.error
        assert lane.state == "completed"
        assert "streaming" in lane.text.lower()
        assert lane.events > 10
        assert lane.first_event_s is not None and lane.duration_s is not None
        assert 0 < lane.first_event_s < lane.duration_s
        assert lane.verdict == "valid"  # the inspector's verdict on the recorded stream
        assert lane.stream_id
    assert a.stream_id != b.stream_id  # each stream recorded on its own
    # Concurrent: the whole run took about as long as the slower reply, not the sum.
    assert elapsed < (a.duration_s or 0) + (b.duration_s or 0)
    assert gone.done and gone.events == 0 and not gone.verdict
    assert gone.error.startswith(f"Could not reach the agent at {nowhere}.")

    kept = side_by_side.lanes_from_json(side_by_side.lanes_to_json(lanes))
    assert [(k.name, k.text, k.verdict, k.error) for k in kept] == [
        (lane.name, lane.text, lane.verdict, lane.error) for lane in lanes
    ]


def test_a_slow_agent_is_cut_at_its_timeout_and_the_others_complete(runtime, demo_agent):
    with DemoAgentServer(timing=DemoTiming(token_delay=0.5)) as slow:
        targets = [Target(slow.url, "slow"), Target(demo_agent.url, "quick")]
        lanes = [Lane(t.url, t.name) for t in targets]
        started = time.monotonic()
        run = runtime.stream(lambda: side_by_side.arun(runtime, targets, PROMPT, limit_s=2))
        for update in run:
            lanes[update.index].apply(update, started)
    cut, quick = lanes
    assert cut.done and cut.error.startswith("No complete reply within 2 s")
    assert cut.events > 0 and cut.text  # what arrived before the limit is kept
    assert quick.done and not quick.error and quick.state == "completed"
    assert quick.verdict == "valid"


def test_the_request_is_bounded():
    one = [Target("http://127.0.0.1:1")]
    five = [Target(f"http://127.0.0.1:{port}") for port in range(1, 6)]
    two = five[:2]
    assert side_by_side.check_request(one, "hi") == "Pick 2 to 4 agents (you picked 1)."
    assert side_by_side.check_request(five, "hi") == "Pick 2 to 4 agents (you picked 5)."
    assert side_by_side.check_request([two[0], two[0]], "hi") == "Pick each agent once."
    assert side_by_side.check_request(two, "  ") == "Type a prompt to send."
    assert "at most 4,000 go" in side_by_side.check_request(two, "x" * (MAX_PROMPT_CHARS + 1))
    assert side_by_side.check_request(two, "hi") == ""
    with pytest.raises(FileRejected):
        side_by_side.lanes_from_json('{"not": "a list"}')
    with pytest.raises(FileRejected):
        side_by_side.lanes_from_json('[{"url": 5}]')
    lane = side_by_side.lanes_from_json('[{"url": "u", "first_event_s": "soon", "events": true}]')
    assert lane[0].first_event_s is None and lane[0].events == 0


def test_a_workspace_keeps_its_latest_runs_only(tmp_path):
    store = Store(f"sqlite:///{tmp_path / 'runs.db'}")
    try:
        for number in range(SIDE_BY_SIDE_KEPT + 3):
            store.save_side_by_side_run("w1", float(number), f"prompt {number}", "[]")
        store.save_side_by_side_run("w2", 1.0, "other", "[]")
        runs = store.side_by_side_runs("w1")
        assert len(runs) == SIDE_BY_SIDE_KEPT
        assert runs[0][2] == f"prompt {SIDE_BY_SIDE_KEPT + 2}"  # newest first
        assert [r[2] for r in store.side_by_side_runs("w2")] == ["other"]
        assert store.forget("w1").result(10) is None
        assert store.side_by_side_runs("w1") == []
    finally:
        store.close()


def _open(monkeypatch: pytest.MonkeyPatch, agents: list[dict[str, str]], workspace: str) -> AppTest:
    monkeypatch.delenv("A2A_AGENT_URL", raising=False)
    at = AppTest.from_file(APP, default_timeout=60)
    at.secrets["agents"] = agents
    at.session_state["workspace_id"] = workspace
    at.run()
    return at.switch_page(PAGE).run()


def _columns(at: AppTest) -> list[str]:
    return [
        "\n".join(str(e.value) for e in [*c.markdown, *c.caption, *c.error]) for c in at.columns
    ]


def test_the_page_sends_to_all_at_once_and_keeps_the_run_to_reopen(
    monkeypatch, demo_agent, second_agent, nowhere
):
    agents = [
        {"url": demo_agent.url, "name": "First demo"},
        {"url": second_agent.url, "name": "Second demo"},
        {"url": nowhere, "name": "Nobody home"},
    ]
    workspace = f"sbs-{secrets.token_hex(8)}"
    at = _open(monkeypatch, agents, workspace)
    try:
        assert not at.exception
        picker = at.multiselect(key="side_by_side_agents")
        assert picker.value == [demo_agent.url, second_agent.url]  # the first two at first
        picker.set_value([demo_agent.url, second_agent.url, nowhere])
        at.text_area(key="side_by_side_prompt").set_value(PROMPT)
        at.button(key="side_by_side_send").click().run()
        assert not at.exception

        first, second, gone = _columns(at)
        for column, name in ((first, "First demo"), (second, "Second demo")):
            assert name in column and "streaming" in column.lower()
            assert "first event" in column and "duration" in column and "events" in column
            assert "valid" in column  # the verdict
        assert "Nobody home" in gone and f"Could not reach the agent at {nowhere}." in gone
        store = session_store._store_slot().store
        assert store is not None
        assert [r[2] for r in store.side_by_side_runs(workspace)] == [PROMPT]
    finally:
        close_runtime(at)

    again = _open(monkeypatch, agents, workspace)  # a new session of the workspace
    try:
        assert not again.exception
        assert not again.columns  # nothing shown until a run is opened
        earlier = again.selectbox(key="side_by_side_earlier")
        assert len(earlier.options) == 1 and PROMPT in earlier.options[0]
        earlier.set_value(0).run()
        again.button(key="side_by_side_open").click().run()
        first, second, gone = _columns(again)
        assert "First demo" in first and "streaming" in first.lower() and "valid" in first
        assert "Second demo" in second and "valid" in second
        assert f"Could not reach the agent at {nowhere}." in gone
    finally:
        close_runtime(again)


def test_one_agent_picked_gets_a_sentence_and_nothing_is_sent(monkeypatch, demo_agent):
    at = _open(monkeypatch, [{"url": demo_agent.url, "name": "Only"}], "sbs-one")
    try:
        assert "at least two agents" in at.info[0].value
        at.text_area(key="side_by_side_prompt").set_value("hi")
        at.button(key="side_by_side_send").click().run()
        assert [e.value for e in at.error] == ["Pick 2 to 4 agents (you picked 1)."]
        assert not at.columns
    finally:
        close_runtime(at)
