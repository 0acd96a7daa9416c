"""Shared bits for benchmarks: peak memory, percentiles, the machine, and the JSON last line."""

from __future__ import annotations

import gc
import json
import os
import platform
import resource
import statistics
import sys
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bot.app import App


def frozen_heap() -> None:
    """Freeze what the process holds, so garbage collection skips it from here on.

    The tap benchmarks run several bots one after another against one in-process fake, which
    keeps every request it served. Without this, each bot's full collections would also scan
    the records of the bots before it, and the bot measured last (ours) would pay the most.
    """
    gc.collect()
    gc.freeze()


def peak_rss_mb(children: bool = False) -> float:
    """Peak resident memory of this process (and, optionally, its finished children), in MB."""
    kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    if children:
        kib += resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return round(kib / 1024, 1)


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0-100) of values."""
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[max(0, min(98, round(q) - 1))]


def machine() -> str:
    """A one-line description of where the figures were measured."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} cores, Python {sys.version.split()[0]}"


def emit(result: dict[str, object]) -> None:
    """Print the figures for people, then one JSON object as the last line."""
    for key, value in result.items():
        print(f"{key:>14}: {value}")
    print(json.dumps(result), flush=True)


def hwm_mb() -> float:
    """Peak resident memory of this process alone, in MB (VmHWM).

    getrusage's figure for a child started from a big parent can carry the parent's size
    over the exec; the kernel's high-water mark of this process's own memory does not."""
    try:
        with open("/proc/self/status", encoding="utf-8") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return peak_rss_mb()


BOTS = ("bare", "same", "ours")


def round_orders(rounds: int) -> list[tuple[str, ...]]:
    """The order the three tap bots run in, per round: each round starts one place further on,
    so over three rounds each bot runs first, second and last once."""
    return [BOTS[r % 3 :] + BOTS[: r % 3] for r in range(rounds)]


async def run_rounds(
    updates: int,
    rounds: int,
    first_user: int,
    one: Callable[[str, list[int]], Awaitable[dict[str, Any]]],
) -> list[dict[str, dict[str, Any]]]:
    """Rounds of the three bots, each round in a turned order, each bot with `updates` people
    of its own (ids from `first_user`): `one(bot, people)` runs a bot and gives its figures."""
    groups = iter([first_user + k * updates + i for i in range(updates)] for k in range(3 * rounds))
    results = []
    for order in round_orders(rounds):
        figures = {bot: await one(bot, next(groups)) for bot in order}
        print(round_line(len(results) + 1, figures), flush=True)
        results.append(figures)
    return results


def round_line(number: int, figures: dict[str, dict[str, Any]]) -> str:
    """One round's rates, in the order the bots ran."""
    rates = ", ".join(f"{bot} {f['updates_per_s']} taps/s" for bot, f in figures.items())
    return f"round {number}: {rates}"


def _median_round(rounds: list[dict[str, Any]]) -> dict[str, Any]:
    """The figures of the round with the median rate (the lower one of an even count), with
    every round's rate beside them."""
    ordered = sorted(rounds, key=lambda f: f["updates_per_s"])
    figures = dict(ordered[(len(ordered) - 1) // 2])
    figures["updates_per_s_rounds"] = [f["updates_per_s"] for f in rounds]
    return figures


def emit_taps(
    name: str,
    updates: int,
    db: str | None,
    rounds: list[dict[str, dict[str, Any]]],
    bare_name: str,
) -> None:
    """The tap benchmarks' last line, from rounds of {"bare", "same", "ours": figures}: ours
    beside a bare bot answering only (`bare_name`) and a bare bot making the same platform
    calls, on one library. Each bot's figures are those of its median round, and the ratios
    are those of the medians; each round's `ratio_same_calls` is listed too."""
    ours, bare, same = (_median_round([r[bot] for r in rounds]) for bot in ("ours", "bare", "same"))

    emit(
        {
            "benchmark": name,
            "updates": updates,
            "rounds": len(rounds),
            "database": (db or "sqlite").split("://")[0],
            "ours": ours,
            bare_name: bare,
            "bare_same_calls": same,
            "ratio": round(ours["updates_per_s"] / bare["updates_per_s"], 3),
            "ratio_same_calls": round(ours["updates_per_s"] / same["updates_per_s"], 3),
            "ratio_same_calls_rounds": [
                round(r["ours"]["updates_per_s"] / r["same"]["updates_per_s"], 3) for r in rounds
            ],
            "cpu_ms_beyond_calls": round(ours["cpu_ms_per_tap"] - same["cpu_ms_per_tap"], 2),
            "peak_rss_mb": peak_rss_mb(),
            "machine": machine(),
        }
    )


async def seed_consented(app: App, platform: str, people: list[int]) -> None:
    """People who agreed to the bot already, in UTC, one row each (the tap benchmarks' setup)."""
    # Imported here: the fan-out's in-memory child reads its peak memory through this module.
    from sqlalchemy import insert

    from bot.store.models import Person

    now = datetime.now(UTC)
    rows = [
        {
            "platform": platform,
            "user_id": str(u),
            "chat_id": str(u),
            "tz": "UTC",
            "consent_at": now,
            "created_at": now,
            "reachable": True,
        }
        for u in people
    ]
    async with app.sessions() as s:
        await s.execute(insert(Person), rows)
        await s.commit()
