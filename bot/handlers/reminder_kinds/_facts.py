"""Facts several reminder kinds read, each in a few queries for a whole batch of people.

A kind that needs something of its own defines its Fact in its own module (the check-in's
"yesterday I said" is one).
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.handlers import advice
from bot.handlers.reminder_kinds import Fact, Wanted
from bot.store import repo
from bot.store.arrays import among, dialect
from bot.store.models import Activity, CheckIn
from bot.trends import HistoryView

CORE_DONE_KINDS = ("core_done", "core_skipped")


def _people(wanted: Wanted) -> tuple[list[int], date]:
    """The people of a batch, and the earliest of their dates."""
    return sorted({pid for pid, _ in wanted}), min(day for _, day in wanted)


def _ids_in(s: AsyncSession, column: Any, ids: list[int]) -> ColumnElement[bool]:
    """``column IN ids`` as one parameter: an array on PostgreSQL, a JSON array read by
    json_each on SQLite, so the statement is the same whatever the batch's size and is compiled
    once (an IN list of a batch's hundreds of ids is compiled at every read)."""
    if dialect(s) == "postgresql":
        return among(s, column, ids)
    values = func.json_each(json.dumps(ids)).table_valued("value")
    found: ColumnElement[bool] = column.in_(select(values.c.value))
    return found


async def _scored(s: AsyncSession, wanted: Wanted) -> dict[tuple[int, date], bool]:
    ids, earliest = _people(wanted)
    rows = await s.execute(
        select(CheckIn.person_id, CheckIn.day).where(
            _ids_in(s, CheckIn.person_id, ids), CheckIn.day >= earliest, CheckIn.kind == repo.DAILY
        )
    )
    found = {(pid, day) for pid, day in rows}
    return {pair: pair in found for pair in wanted}


async def _core_marked(s: AsyncSession, wanted: Wanted) -> dict[tuple[int, date], bool]:
    ids, earliest = _people(wanted)
    rows = await s.execute(
        select(Activity.person_id, Activity.day).where(
            among(s, Activity.person_id, ids),
            Activity.day >= earliest,
            Activity.kind.in_(CORE_DONE_KINDS),
        )
    )
    found = {(pid, day) for pid, day in rows}
    return {pair: pair in found for pair in wanted}


async def _views(s: AsyncSession, wanted: Wanted) -> dict[tuple[int, date], HistoryView]:
    """One read per distinct date a person has in the batch (almost always one in all)."""
    rounds: list[dict[int, date]] = []
    for pid, day in sorted(wanted):
        target = next((r for r in rounds if pid not in r), None)
        if target is None:
            target = {}
            rounds.append(target)
        target[pid] = day
    views: dict[tuple[int, date], HistoryView] = {}
    for today_of in rounds:
        for pid, view in (await advice.views_for(s, today_of)).items():
            views[(pid, today_of[pid])] = view
    return views


# A daily score is stored for that day.
SCORED: Fact[bool] = Fact("scored", _scored)
# Core work was marked done or skipped that day.
CORE_MARKED: Fact[bool] = Fact("core_marked", _core_marked)
# The trend rules' view of the person's history as of that day (advice.history_view's view,
# without the episode: kinds add it from the person's columns with advice.with_episode).
VIEW: Fact[HistoryView] = Fact("view", _views)
