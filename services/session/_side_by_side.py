"""The Side by side page's runs: one prompt to 2-4 of the workspace's agents at once, each
with its own settings (binding, tenant, credentials by origin); a finished run is kept in
the workspace (its latest 20), to reopen in a later session."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

from services.client import side_by_side
from services.client.side_by_side import Lane, LaneUpdate, Target
from services.errors import AppError
from services.formats import FileRejected
from services.runtime import EventStream
from services.session import _keys as keys
from services.session._agents import agents
from services.session._runtime import checkpoint, runtime
from services.session._store import save_stream, store, workspace_id
from services.store import StoreError
from services.store.workspace import AgentEntry

__all__ = [
    "SideBySideRun",
    "finish_side_by_side",
    "open_side_by_side_run",
    "shown_side_by_side",
    "side_by_side_agents",
    "side_by_side_runs",
    "start_side_by_side",
]

log = logging.getLogger(__name__)
RUNS_KEPT = 20  # in the session, when the workspace has no database


@dataclass
class SideBySideRun:
    """A run: its prompt and one lane per agent (live while it streams, then kept)."""

    prompt: str
    created_at: float = field(default_factory=time.time)
    lanes: list[Lane] = field(default_factory=list)
    started_at: float = field(default_factory=time.monotonic)
    id: int = 0  # the store's id once kept
    done: bool = False

    def apply(self, updates: list[LaneUpdate]) -> None:
        for update in updates:
            self.lanes[update.index].apply(update, self.started_at)


def side_by_side_agents() -> list[AgentEntry]:
    """The workspace's agents, the ones a run can pick from."""
    return agents()


def start_side_by_side(
    urls: list[str], prompt: str
) -> tuple[SideBySideRun, EventStream[LaneUpdate]]:
    """Send `prompt` to the agents at `urls` at once; the page reads the stream."""
    known = {entry.url: entry for entry in agents()}
    targets = [
        Target(url, known[url].label, known[url].binding, known[url].tenant)
        for url in urls
        if url in known
    ]
    if problem := side_by_side.check_request(targets, prompt):
        raise AppError(problem)
    run = SideBySideRun(prompt, lanes=[Lane(t.url, t.name) for t in targets])
    stream = side_by_side.run(runtime(), targets, prompt, checkpoint=checkpoint)
    keys.SIDE_BY_SIDE.set(run)
    return run, stream


def finish_side_by_side(run: SideBySideRun) -> None:
    """Keep a finished run in the workspace (and its streams, for the inspector)."""
    if run.done:
        return
    run.done = True
    for lane in run.lanes:
        lane.done = True
        if lane.stream_id:
            save_stream(lane.stream_id)
    kept = store()
    if kept is None:
        runs = keys.SIDE_BY_SIDE_RUNS.setdefault(list)
        runs.insert(0, run)
        del runs[RUNS_KEPT:]
        return
    try:
        run.id = kept.save_side_by_side_run(
            workspace_id(), run.created_at, run.prompt, side_by_side.lanes_to_json(run.lanes)
        )
    except StoreError as error:
        log.warning("side by side: the run was not kept: %s", error)


def side_by_side_runs() -> list[SideBySideRun]:
    """This workspace's kept runs, newest first."""
    kept = store()
    if kept is None:
        return list(keys.SIDE_BY_SIDE_RUNS.get_or([]))
    try:
        rows = kept.side_by_side_runs(workspace_id())
    except StoreError as error:
        log.warning("side by side: the kept runs could not be read: %s", error)
        return []
    runs = []
    for run_id, created_at, prompt, lanes_json in rows:
        try:
            lanes = side_by_side.lanes_from_json(lanes_json)
        except FileRejected as error:
            log.warning("side by side: skipped run %s: %s", run_id, error)
            continue
        runs.append(SideBySideRun(prompt, created_at, lanes, id=run_id, done=True))
    return runs


def open_side_by_side_run(run: SideBySideRun) -> None:
    """Show a kept run on the page."""
    keys.SIDE_BY_SIDE.set(run)


def shown_side_by_side() -> SideBySideRun | None:
    """The run the page shows: the latest one started or reopened in this session. One
    a rerun or Stop cut short is kept as far as it got, its open lanes marked so."""
    run = keys.SIDE_BY_SIDE.get()
    if run is not None and not run.done:
        for lane in run.lanes:
            if not lane.done:
                lane.error = "Stopped before this reply finished (the page reran or stopped)."
        finish_side_by_side(run)
    return run
