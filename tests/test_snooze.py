"""Snoozing the core-work reminder next to quiet hours: the evening routine is not moved to the
next morning without a word."""

from __future__ import annotations

from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

from bot.app import App
from bot.schedule import quiet_began
from tests.test_reminders import Person_, kinds


async def ann_at_her_evening_reminder(app: App, core_at: str, wait_minutes: int) -> Person_:
    """Ann (UTC, Mon 07:00) with core work at `core_at`, quiet hours 22:00-07:00, after the
    reminder went out."""
    ann = Person_(app, "ann")
    await ann.chat.onboard()
    await ann.say(f"/remind core {core_at}")
    assert "waits until 07:00" in await ann.say("/quiet 22:00-07:00")
    sent = kinds(await ann.wait(minutes=wait_minutes))
    assert sent["core"] == [("2026-03-02", core_at)]
    return ann


async def test_a_snooze_into_quiet_hours_offers_before_they_start(app: App) -> None:
    ann = await ann_at_her_evening_reminder(app, "21:30", 14 * 60 + 30)  # 21:30
    offered = await ann.say("Snooze 1h")
    assert "quiet hours (22:00-07:00)" in offered
    assert "again at 07:00" not in offered
    assert "[Before quiet hours] [Tomorrow]" in offered
    assert "I'll remind you again at 21:45" in await ann.say("Before quiet hours")
    by_kind = kinds(await ann.wait(hours=12))
    assert by_kind["core"] == [("2026-03-02", "21:45")]
    assert "core work" in ann.chat.out.getvalue()


async def test_tomorrow_keeps_the_evening_routine_in_the_evening(app: App) -> None:
    ann = await ann_at_her_evening_reminder(app, "21:30", 14 * 60 + 30)
    await ann.say("Snooze 1h")
    answer = await ann.say("Tomorrow")
    assert "tomorrow 21:30" in answer
    assert len(answer.strip().splitlines()) == 1
    by_kind = kinds(await ann.wait(days=1))
    assert by_kind["core"] == [("2026-03-03", "21:30")]  # nothing at 07:00


async def test_too_close_to_quiet_hours_only_tomorrow_is_offered(app: App) -> None:
    ann = await ann_at_her_evening_reminder(app, "21:55", 14 * 60 + 55)
    offered = await ann.say("Snooze 1h")
    assert "quiet hours (22:00-07:00)" in offered
    assert "[Tomorrow]" in offered
    assert "Before quiet hours" not in offered
    # Nothing changed until a choice is made: no extra reminder in the morning.
    assert "core" not in kinds(await ann.wait(hours=10))


async def test_a_snooze_clear_of_quiet_hours_is_an_hour_as_before(app: App) -> None:
    ann = await ann_at_her_evening_reminder(app, "19:00", 12 * 60)
    assert "I'll remind you again at 20:00" in await ann.say("Snooze 1h")
    assert kinds(await ann.wait(hours=2))["core"] == [("2026-03-02", "20:00")]


def test_quiet_began_finds_the_start_of_the_window_holding_an_instant() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    night = (time(22), time(7))

    def local(text: str) -> datetime:
        return datetime.fromisoformat(text).replace(tzinfo=berlin)

    assert quiet_began(local("2026-03-02T22:30"), berlin, night) == local("2026-03-02T22:00")
    # The early-morning part of a window that wraps midnight began the evening before.
    assert quiet_began(local("2026-03-03T06:59"), berlin, night) == local("2026-03-02T22:00")
    assert quiet_began(local("2026-03-03T07:00"), berlin, night) is None
    assert quiet_began(local("2026-03-02T21:59"), berlin, night) is None
    assert quiet_began(local("2026-03-02T13:30"), berlin, (time(13), time(14))) == local(
        "2026-03-02T13:00"
    )
    assert quiet_began(local("2026-03-02T13:30"), berlin, None) is None
    # Across the spring change the start is still the local 22:00 (UTC+1 that night).
    began = quiet_began(local("2026-03-29T03:30"), berlin, night)
    assert began == datetime(2026, 3, 28, 21, tzinfo=UTC)
