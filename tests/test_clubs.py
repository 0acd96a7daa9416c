"""Club mode in the core: admins set it up, members tap privately, the group sees totals only."""

from __future__ import annotations

import asyncio
import itertools
from datetime import timedelta

from sqlalchemy import select

from bot.app import App
from bot.clock import ManualClock
from bot.delivery import Unreachable
from bot.events import Address, ChatKind, Incoming, Kind, Reply
from bot.handlers.clubs import ONLY_ADMINS, bot_removed, chat_migrated
from bot.store import club_repo
from bot.store.models import Club, ClubMember, ClubPost
from scheduler.club_posts import post_due_clubs

GROUP = "-100123"


class Recorder:
    """A Sender that keeps what it is given (the platform side is tested with the fakes)."""

    platform = "telegram"

    def __init__(self) -> None:
        self.sent: list[tuple[Address, Reply]] = []
        self.unreachable = False

    async def send(self, address: Address, reply: Reply) -> None:
        if self.unreachable:
            raise Unreachable("bot removed")
        self.sent.append((address, reply))


async def in_group(
    app: App,
    user: str,
    text: str | None = None,
    action: str | None = None,
    admin: bool = False,
    name: str | None = None,
) -> list[Reply]:
    return await app.engine.handle(
        Incoming(
            "telegram",
            user,
            GROUP,
            text=text,
            action=action,
            chat_kind=ChatKind.GROUP,
            is_admin=admin,
            display_name=name,
        )
    )


async def in_private(
    app: App, user: str, text: str | None = None, action: str | None = None
) -> list[Reply]:
    return await app.engine.handle(Incoming("telegram", user, user, text=text, action=action))


def button(reply: Reply, label: str) -> str:
    return next(b.action for row in reply.buttons for b in row if b.label == label)


async def club(app: App) -> Club:
    async with app.sessions() as s:
        found = await club_repo.find(s, "telegram", GROUP)
        assert found is not None
        return found


async def post(app: App) -> Reply:
    out = Recorder()
    clock = app.clock
    assert isinstance(clock, ManualClock)
    c = await club(app)
    assert c.next_post_at is not None
    clock.set(max(clock.now(), c.next_post_at))
    assert await post_due_clubs(app, {"telegram": out}) == 1
    ((address, reply),) = out.sent
    assert address == Address("telegram", GROUP)
    return reply


async def tap(app: App, user: str, reply: Reply, score: int) -> list[Reply]:
    """A member taps a score on the club post (agreeing to storage first if needed)."""
    first = await in_group(app, user, action=button(reply, str(score)))
    consent = [r for r in first if r.buttons and r.buttons[0][0].label == "I agree"]
    if consent:
        assert all(r.private for r in first)
        return await in_group(app, user, action=button(consent[0], "I agree"))
    return first


async def test_only_admins_change_club_settings(app: App) -> None:
    refused = await in_group(app, "mallory", "/club on 06:00")
    assert [r.text for r in refused] == [ONLY_ADMINS]
    async with app.sessions() as s:
        assert await club_repo.find(s, "telegram", GROUP) is None
    ok = await in_group(app, "ada", "/club on 07:30", admin=True)
    assert "I'll post every day at 07:30" in ok[0].text
    assert [r.text for r in await in_group(app, "mallory", "/club off")] == [ONLY_ADMINS]
    assert (await club(app)).enabled


async def test_the_post_fires_at_the_clubs_local_time(app: App) -> None:
    await in_group(app, "ada", "/club timezone Berlin", admin=True)
    await in_group(app, "ada", "/club on 07:30", admin=True)
    c = await club(app)
    # START is Monday 2 March 07:00 UTC = 08:00 in Berlin: the first post is Tuesday 07:30 CET.
    assert c.next_post_at is not None
    assert c.next_post_at.isoformat() == "2026-03-03T06:30:00+00:00"
    reply = await post(app)
    assert "Tap a score" in reply.text
    assert [b.label for row in reply.buttons for b in row] == [str(n) for n in range(11)]
    again = Recorder()
    assert await post_due_clubs(app, {"telegram": again}) == 0  # once a day
    assert (await club(app)).next_post_at.isoformat() == "2026-03-04T06:30:00+00:00"


async def test_members_tap_privately_and_the_group_sees_only_totals(app: App) -> None:
    await in_group(app, "ada", "/club on 07:30", admin=True)
    reply = await post(app)
    for user, score in (("ann", 2), ("bob", 5), ("cy", 8)):
        answers = await tap(app, user, reply, score)
        assert answers and all(r.private for r in answers)
        assert any(f"Recorded {score}/10 for today" in r.text for r in answers)
    async with app.sessions() as s:
        members = list(await s.scalars(select(ClubMember)))
    assert len(members) == 3
    summary = (await in_group(app, "ann", "/club summary"))[0]
    assert not summary.private
    assert "3 members checked in this week" in summary.text
    assert "/10" not in summary.text  # today is still open: no figure moves with a tap
    await post(app)  # the next day's post closes the day
    summary = (await in_group(app, "ann", "/club summary"))[0]
    for score in (2, 8):
        assert f"{score}/10" not in summary.text  # no one's score, only the average of 3+
    assert "the 7 days to Mon 2 Mar: 5.0/10" in summary.text


async def test_no_average_with_fewer_than_three_reporters(app: App) -> None:
    await in_group(app, "ada", "/club on 07:30", admin=True)
    reply = await post(app)
    await tap(app, "ann", reply, 2)
    await tap(app, "bob", reply, 6)
    summary = (await in_group(app, "ann", "/club summary"))[0].text
    assert "2 members checked in" in summary
    assert "/10" not in summary


async def test_consent_is_asked_privately_and_nothing_stored_before_it(app: App) -> None:
    await in_group(app, "ada", "/club on 07:30", admin=True)
    reply = await post(app)
    ask = await in_group(app, "newbie", action=button(reply, "4"))
    assert ask and all(r.private for r in ask)
    assert any("I'll record 4/10 as soon as you say yes" in r.text for r in ask)
    async with app.sessions() as s:
        assert list(await s.scalars(select(ClubMember))) == []
    done = await in_group(app, "newbie", action=button(ask[-1], "I agree"))
    assert any("Recorded 4/10" in r.text for r in done)
    async with app.sessions() as s:
        assert len(list(await s.scalars(select(ClubMember)))) == 1


async def test_a_high_tap_before_consent_brings_the_screen_privately_first(app: App) -> None:
    await in_group(app, "ada", "/club on 07:30", admin=True)
    reply = await post(app)
    ask = await in_group(app, "newbie", action=button(reply, "9"))
    assert all(r.private for r in ask)
    assert "A quick safety check" in ask[0].text and ask[0].kind is Kind.SCREEN
    assert "I can't diagnose you" in ask[-1].text and "I'll record 9/10" in ask[-1].text
    async with app.sessions() as s:
        assert list(await s.scalars(select(ClubMember))) == []
    advice = await in_group(app, "newbie", action=button(ask[0], "Fever with back pain"))
    assert advice[0].text.startswith("See a doctor today") and advice[0].private


async def test_escalation_goes_to_the_members_dm_never_the_group(app: App) -> None:
    await in_group(app, "ada", "/club on 07:30", admin=True)
    clock = app.clock
    assert isinstance(clock, ManualClock)
    replies: list[Reply] = []
    for score in (2, 2, 2, 6):
        reply = await post(app)
        replies = await tap(app, "ann", reply, score)
        clock.advance(timedelta(hours=1))
    advice = [r for r in replies if r.kind is Kind.ADVICE]
    assert advice and "Ease off today" in advice[0].text
    assert all(r.private for r in replies)
    assert all(r.to == Address("telegram", "ann") for r in advice)
    acknowledgement = [r for r in replies if r.to is None]
    assert acknowledgement and "Only you can see this" in acknowledgement[0].text


async def test_streaks_are_opt_in_and_show_no_scores(app: App) -> None:
    await in_group(app, "ada", "/club on 07:30", admin=True)
    await in_group(app, "ada", "/club streaks on", admin=True)
    clock = app.clock
    assert isinstance(clock, ManualClock)
    for _ in range(3):
        reply = await post(app)
        for user in ("ann", "bob", "cy"):
            await tap(app, user, reply, 3)
        clock.advance(timedelta(hours=1))
    summary = (await in_group(app, "ann", "/club summary"))[0].text
    assert "streak" not in summary.lower()  # nobody opted in yet
    await in_group(app, "ann", "/streak share", name="Ann")
    summary = (await in_group(app, "bob", "/club summary"))[0].text
    assert "Check-in streaks: Ann 3 days." in summary
    assert "bob" not in summary.lower() and "cy" not in summary.lower()
    await in_private(app, "ann", "/streak hide")
    assert "streaks" not in (await in_group(app, "bob", "/club summary"))[0].text.lower()


async def test_a_group_that_removed_the_bot_is_deactivated(app: App) -> None:
    await in_group(app, "ada", "/club on 07:30", admin=True)
    removed = Recorder()
    removed.unreachable = True
    c = await club(app)
    clock = app.clock
    assert isinstance(clock, ManualClock)
    clock.set(c.next_post_at)
    assert await post_due_clubs(app, {"telegram": removed}) == 0
    c = await club(app)
    assert not c.enabled and c.next_post_at is None
    async with app.sessions() as s:
        assert list(await s.scalars(select(ClubPost))) == []  # nothing counted as posted


async def test_a_migrated_group_keeps_its_club(app: App) -> None:
    await in_group(app, "ada", "/club on 07:30", admin=True)
    assert await chat_migrated(app.sessions, "telegram", GROUP, "-100999")
    async with app.sessions() as s:
        moved = await club_repo.find(s, "telegram", "-100999")
        assert await club_repo.find(s, "telegram", GROUP) is None
    assert moved is not None and moved.enabled
    assert await bot_removed(app.sessions, "telegram", "-100999")
    async with app.sessions() as s:
        gone = await club_repo.find(s, "telegram", "-100999")
    assert gone is not None and not gone.enabled


async def test_club_commands_in_private_explain_where_they_work(app: App) -> None:
    reply = await in_private(app, "ann", "/club on 07:30")
    assert "run in a group" in reply[0].text


async def test_personal_commands_in_a_group_stay_private(app: App) -> None:
    for text in ("/history", "/checkin 4", "/export"):
        replies = await in_group(app, "ann", text)
        assert replies and all(r.private for r in replies), text


async def test_the_running_scheduler_posts_the_club_check_in(app: App) -> None:
    from scheduler.runtime import start_scheduler

    await in_group(app, "ada", "/club on 07:30", admin=True)
    c = await club(app)
    clock = app.clock
    assert isinstance(clock, ManualClock) and c.next_post_at is not None
    clock.set(c.next_post_at)
    out = Recorder()
    runtime = await start_scheduler(app, {"telegram": out}, poll_seconds=0.05)
    try:
        for _ in range(200):
            if out.sent:
                break
            await asyncio.sleep(0.05)
    finally:
        await runtime.stop()
    assert [a for a, _ in out.sent] == [Address("telegram", GROUP)]
    assert "Tap a score" in out.sent[0][1].text


async def test_a_month_of_daily_club_check_ins(app: App) -> None:
    await in_group(app, "ada", "/club timezone Berlin", admin=True)
    await in_group(app, "ada", "/club on 07:30", admin=True)
    clock = app.clock
    assert isinstance(clock, ManualClock)
    posts: list[Reply] = []
    for day in range(30):
        reply = await post(app)  # exactly one post, to the group, at the club's local time
        posts.append(reply)
        for user, base in (("ann", 2), ("bob", 4), ("cy", 5)):
            answers = await tap(app, user, reply, (base + day) % 4 + base // 2)
            assert answers and all(r.private for r in answers)
        clock.advance(timedelta(hours=2))
    async with app.sessions() as s:
        ledger = list(await s.scalars(select(ClubPost).order_by(ClubPost.day)))
    assert len(ledger) == 30
    assert [(b.day - a.day).days for a, b in itertools.pairwise(ledger)] == [1] * 29
    summary = (await in_group(app, "bob", "/club summary"))[0]
    assert not summary.private and "3 members checked in this week" in summary.text
    assert all("Yesterday 3 checked in" in p.text for p in posts[1:])
    for text in [p.text for p in posts] + [summary.text]:
        # group-visible text carries counts and averages of 3+, never one person's score
        assert "Recorded" not in text
        scored = [line for line in text.splitlines() if "/10" in line]
        assert all(line.startswith("Average pain on days with 3+") for line in scored), text
