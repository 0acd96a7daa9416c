"""Answers typed instead of tapped: yes or no to the consent question, and command typos."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from bot.app import App
from bot.clock import ManualClock
from bot.commands import BY_NAME
from bot.events import ChatKind, Incoming, Kind, Reply
from bot.parsing import parse_command, read_yes_no, suggest_command
from bot.store.models import CheckIn, ClubMember, Person, SymptomReport
from tests.conftest import Chat, row_counts
from tests.test_clubs import GROUP, button, in_group, post

# How people answer "Is that OK?" on a phone.
YES = [
    "yes",
    "Yes",
    "YES",
    "yes.",
    "Yes!",
    "yes!!",
    "yesss",
    "ok",
    "OK",
    "Ok.",
    "okay",
    "Okay!",
    "okey",
    "okie",
    "k",
    "kk",
    "sure",
    "Sure!",
    "yep",
    "yup",
    "yeah",
    "yea",
    "ya",
    "y",
    "Y",
    "👍",
    "👍🏻",
    "👌",
    "✅",
    "ok 👍",
    "yes 😊",
    "i agree",
    "I agree.",
    "agree",
    "agreed",
    "yes please",
    "Yes please!",
    "ok sure",
    "sure thing",
    "yes i agree",
    "yes, i agree",
    "yes that's fine",
    "yes thats ok",
    "that's fine",
    "fine",
    "fine by me",
    "ok thanks",
    "yes thank you",
    "ok cool",
    "sounds good",
    "go ahead",
    "yes go ahead",
    "alright",
    "all right",
    "of course",
    "absolutely",
    "definitely",
    "yeah sure",
    "yep that's ok",
    "ok 👌",
    "yes, that's ok with me",
    "why not",
    "i do",
]
NO = [
    "no",
    "No",
    "NO!",
    "no.",
    "nope",
    "nah",
    "n",
    "N",
    "no thanks",
    "No thank you",
    "no thx",
    "no, thanks",
    "nooo",
    "👎",
    "❌",
    "no way",
    "not ok",
    "not really",
    "not now",
    "i don't agree",
    "i dont agree",
    "don't agree",
    "disagree",
    "i disagree",
    "no i don't",
    "nah thanks",
    "no sorry",
    "rather not",
    "i'd rather not",
    "no, not ok",
    "maybe later",  # not now: nothing is stored, and the question can come again
]
# Neither a yes nor a no: a score, a red flag, a question, or something else entirely.
NEITHER = [
    "no pain",
    "No pain today",
    "no numbness",
    "not sure",
    "i'm not sure",
    "yes 4",
    "ok 4",
    "4",
    "yesterday",
    "yes but what do you store?",
    "ok so my back hurts",
    "what do you store?",
    "why?",
    "maybe",
    "hello",
    "hi",
    "thanks",
    "ok but my groin is numb",
    "no but my groin is numb",
    "yes i peed myself",
    "not ok i can't feel my legs",
    "no idea",
    "nobody",
    "note",
    "okapi",
    "yesno",
    "yes no",
    "no yes",
    "y n",
    "👍👎",
    "",
    "?",
    "lol",
    "hmm",
    "stop",
    "/start",
    "agree to what?",
    "how do i delete my data",
    "i'm fine",
]

Said = list[Reply]


class Phone:
    """One person typing to the bot on Telegram, in a private chat (or a group)."""

    def __init__(self, app: App, user: str) -> None:
        self.app = app
        self.user = user
        self.last: Said = []

    async def say(self, text: str, group: bool = False) -> str:
        chat = GROUP if group else self.user
        kind = ChatKind.GROUP if group else ChatKind.PRIVATE
        self.last = await self.app.engine.handle(
            Incoming("telegram", self.user, chat, text=text, chat_kind=kind)
        )
        return "\n".join(r.text for r in self.last)

    async def tap(self, label: str) -> str:
        action = next(
            b.action for r in self.last for row in r.buttons for b in row if b.label == label
        )
        self.last = await self.app.engine.handle(
            Incoming("telegram", self.user, self.user, action=action)
        )
        return "\n".join(r.text for r in self.last)


async def people(app: App) -> int:
    return (await row_counts(app))["people"]


async def daily(app: App, user: str) -> dict[date, int]:
    async with app.sessions() as s:
        person = await s.scalar(select(Person).where(Person.user_id == user))
        if person is None:
            return {}
        rows = await s.execute(
            select(CheckIn.day, CheckIn.score).where(CheckIn.person_id == person.id)
        )
        return dict(rows.tuples().all())


# ---------------------------------------------------------------------------
# The reader, measured
# ---------------------------------------------------------------------------


def test_yes_and_no_as_people_type_them_measured_on_a_corpus(capsys) -> None:
    got = {text: read_yes_no(text) for text in [*YES, *NO, *NEITHER]}
    yes_right = [t for t in YES if got[t] is True]
    no_right = [t for t in NO if got[t] is False]
    false_yes = [t for t in [*NO, *NEITHER] if got[t] is True]
    false_no = [t for t in [*YES, *NEITHER] if got[t] is False]
    with capsys.disabled():
        print(
            f"\nyes/no corpus: yes {len(yes_right)}/{len(YES)}, no {len(no_right)}/{len(NO)}, "
            f"false yes {len(false_yes)}/{len(NO) + len(NEITHER)}, "
            f"false no {len(false_no)}/{len(YES) + len(NEITHER)}"
        )
        for text in sorted({*YES, *NO} - {*yes_right, *no_right}):
            print(f"  missed: {text!r} -> {got[text]}")
        for text in false_yes + false_no:
            print(f"  wrong: {text!r} -> {got[text]}")
    # A false yes would store health data nobody agreed to store: none at all.
    assert false_yes == []
    assert false_no == []
    assert len(yes_right) == len(YES)
    assert len(no_right) == len(NO)


# ---------------------------------------------------------------------------
# Typed answers to the consent question
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "answer", ["yes", "ok", "okay", "sure", "yep", "Yeah!", "y", "👍", "I agree", "yes please"]
)
async def test_a_typed_yes_keeps_the_score_waiting_for_consent(app: App, answer: str) -> None:
    ann = Phone(app, "ann")
    assert "I'll record 4/10 as soon as you say yes" in await ann.say("4")
    assert await people(app) == 0
    agreed = await ann.say(answer)
    assert "you're set up" in agreed
    assert "Recorded 4/10 for today" in agreed
    assert await daily(app, "ann") == {date(2026, 3, 2): 4}


async def test_a_typed_yes_in_the_console_keeps_the_score(app: App) -> None:
    ann = Chat(app, "ann")
    await ann.say("6")
    agreed = await ann.say("ok sure")
    assert "Recorded 6/10 for today" in agreed


@pytest.mark.parametrize("answer", ["no", "nope", "nah", "no thanks", "👎"])
async def test_a_typed_no_declines_like_the_button(app: App, answer: str) -> None:
    bob = Phone(app, "bob")
    await bob.say("5")
    declined = await bob.say(answer)
    assert "I haven't stored anything" in declined
    assert (await row_counts(app))["people"] == 0
    # The score went with the no: a later yes asks afresh, it does not store the 5.
    again = await bob.say("yes")
    assert "Is that OK?" in again
    assert await people(app) == 0


async def test_a_first_yes_gets_the_welcome_and_the_question_not_consent(app: App) -> None:
    cy = Phone(app, "cy")
    hello = await cy.say("yes")
    assert "Hi! I'm si-checkin" in hello and "Is that OK?" in hello
    assert "I can't diagnose you" in hello
    assert await people(app) == 0
    # Now a question was asked: the next yes answers it.
    assert "you're set up" in await cy.say("yes")
    assert await people(app) == 1


async def test_a_first_no_stores_nothing(app: App) -> None:
    dee = Phone(app, "dee")
    hello = await dee.say("no")
    assert "Is that OK?" in hello
    assert await people(app) == 0


async def test_no_pain_while_consent_waits_is_a_score_not_a_no(app: App) -> None:
    eve = Phone(app, "eve")
    await eve.say("/start")
    reply = await eve.say("no pain today")
    assert "I'll record 0/10 as soon as you say yes" in reply
    assert "you're set up" in await eve.say("yes")
    assert await daily(app, "eve") == {date(2026, 3, 2): 0}


async def test_a_later_yes_still_keeps_the_score_after_another_question(app: App) -> None:
    fay = Phone(app, "fay")
    await fay.say("3")
    await fay.say("/start")  # the plain question again, without the score
    agreed = await fay.say("ok")
    assert "Recorded 3/10 for today" in agreed


async def test_a_typed_yes_after_a_tapped_red_flag_keeps_the_flag_and_the_score(
    app: App,
) -> None:
    gus = Phone(app, "gus")
    first = await gus.say("8")
    assert "A quick safety check" in first
    advice = await gus.tap("Fever with back pain")
    assert "See a doctor today" in advice
    agreed = await gus.say("yes")
    assert "Recorded 8/10 for today" in agreed
    assert await daily(app, "gus") == {date(2026, 3, 2): 8}
    async with app.sessions() as s:
        codes = list(await s.scalars(select(SymptomReport.code)))
    assert codes == ["fever"]


async def test_a_typed_yes_after_a_club_tap_joins_the_club(app: App) -> None:
    await in_group(app, "ada", "/club on 07:30", admin=True)
    reply = await post(app)
    ask = await in_group(app, "hal", action=button(reply, "4"))
    assert any("I'll record 4/10 as soon as you say yes" in r.text for r in ask)
    hal = Phone(app, "hal")
    agreed = await hal.say("yes")  # in the private chat the question was sent to
    assert "Recorded 4/10" in agreed
    async with app.sessions() as s:
        assert len(list(await s.scalars(select(ClubMember)))) == 1


async def test_a_typed_yes_in_a_group_never_consents(app: App) -> None:
    await in_group(app, "ada", "/club on 07:30", admin=True)
    reply = await post(app)
    await in_group(app, "ivy", action=button(reply, "6"))
    ivy = Phone(app, "ivy")
    for answer in ("yes", "ok", "I agree", "👍"):
        assert await ivy.say(answer, group=True) == ""
    assert await people(app) == 0
    assert (await row_counts(app))["checkins"] == 0


async def test_a_tapped_answer_clears_what_a_typed_one_would_answer(app: App) -> None:
    jo = Phone(app, "jo")
    await jo.say("5")
    assert "I haven't stored anything" in await jo.tap("No thanks")
    assert "Is that OK?" in await jo.say("yes")
    assert await people(app) == 0


async def test_yes_from_someone_set_up_is_not_read_as_consent_again(app: App) -> None:
    kim = Phone(app, "kim")
    await kim.say("4")
    await kim.say("yes")
    reply = await kim.say("yes")
    assert "Recorded" not in reply
    assert all(r.kind is not Kind.ERROR or "went wrong" not in r.text for r in kim.last)
    assert await daily(app, "kim") == {date(2026, 3, 2): 4}


async def test_after_erasing_everything_a_yes_asks_afresh(app: App) -> None:
    max_ = Phone(app, "max")
    await max_.say("7")
    await max_.say("ok")
    await max_.say("/delete")
    assert "everything I stored about you is erased" in await max_.tap("Delete everything")
    again = await max_.say("yes")
    assert "Hi! I'm si-checkin" in again and "Is that OK?" in again
    assert await people(app) == 0


async def test_a_score_typed_yesterday_and_agreed_today_lands_on_yesterday(app: App) -> None:
    lou = Phone(app, "lou")
    await lou.say("4")
    clock = app.clock
    assert isinstance(clock, ManualClock)
    clock.advance(timedelta(hours=20))
    agreed = await lou.say("yes")
    assert "Recorded 4/10 for yesterday" in agreed
    assert await daily(app, "lou") == {date(2026, 3, 2): 4}


# ---------------------------------------------------------------------------
# Command typos
# ---------------------------------------------------------------------------

NAMES = [name for name, spec in BY_NAME.items() if not spec.console_only]
TYPOS = {
    "chekin": "checkin",
    "checkn": "checkin",
    "chekcin": "checkin",
    "chcekin": "checkin",
    "checkim": "checkin",
    "check_in": "checkin",
    "checkins": "checkin",
    "cheking": "checkin",
    "histroy": "history",
    "hisotry": "history",
    "histry": "history",
    "hist": "history",
    "timezon": "timezone",
    "time_zone": "timezone",
    "timezome": "timezone",
    "tz": None,
    "setings": "settings",
    "settigns": "settings",
    "setting": "settings",
    "remnd": "remind",
    "remaind": "remind",
    "reminder": "remind",
    "reminders": "remind",
    "symtoms": "symptoms",
    "symptom": "symptoms",
    "simptoms": "symptoms",
    "excercise": "exercise",
    "exercices": "exercises",
    "exersize": "exercise",
    "strenght": "strength",
    "exprot": "export",
    "expot": "export",
    "delte": "delete",
    "deleet": "delete",
    "hlep": "help",
    "hepl": "help",
    "strat": "start",
    "satrt": "start",
    "strt": "start",
    "puase": "pause",
    "pasue": "pause",
    "resme": "resume",
    "reusme": "resume",
    "quite": "quiet",
    "qiuet": "quiet",
    "stpo": "stop",
    "stopp": "stop",
    "notes": "note",
    "ntoe": "note",
    "lgo": "log",
    "logs": "log",
    "rnu": "run",
    "runs": "run",
    "clubs": "club",
    "streaks": "streak",
    "stresk": "streak",
    "todya": "today",
    "tody": "today",
    "chekced": "checked",
}
NOT_COMMANDS = [
    "hello",
    "hi",
    "weather",
    "foo",
    "x",
    "me",
    "ping",
    "menu",
    "cancel",
    "profile",
    "info",
    "about",
    "version",
    "stats",
    "status",
    "score",
    "scores",
    "report",
    "chart",
    "week",
    "weekly",
    "login",
    "logout",
    "fun",
    "sun",
    "nope",
    "test",
    "admin",
    "unsubscribe",
    "subscribe",
    "reset",
    "remove",
    "pizza",
    "advance",
    "advnce",
    "quit",
    "exit",
    "ban",
    "kick",
    "poll",
    "feedback",
    "privacy",
    "terms",
    "data",
]


def test_command_typos_measured_on_a_corpus(capsys) -> None:
    right = [t for t, want in TYPOS.items() if suggest_command(t, NAMES) == want]
    wrong = [(t, want, suggest_command(t, NAMES)) for t, want in TYPOS.items() if t not in right]
    false = [(t, s) for t in NOT_COMMANDS if (s := suggest_command(t, NAMES)) is not None]
    with capsys.disabled():
        print(
            f"\ncommand typos: {len(right)}/{len(TYPOS)} suggested right, "
            f"{len(false)} suggestions for {len(NOT_COMMANDS)} non-commands"
        )
        for typo, want, got in wrong:
            print(f"  {typo!r}: expected {want}, suggested {got}")
        for text, got in false:
            print(f"  {text!r}: suggested {got} for a non-command")
    assert false == []
    assert len(right) >= 0.9 * len(TYPOS)


async def test_a_command_typo_gets_a_suggestion(app: App) -> None:
    ann = Chat(app, "ann")
    await ann.onboard()
    reply = await ann.say("/chekin")
    assert "Did you mean /checkin?" in reply
    assert "Did you mean /history?" in await ann.say("/histroy")


async def test_a_command_split_in_two_is_suggested_whole(app: App) -> None:
    ann = Chat(app, "ann")
    await ann.onboard()
    assert "Did you mean /checkin?" in await ann.say("/check in 4")
    assert "Did you mean /timezone?" in await ann.say("/time zone Berlin")


async def test_something_that_is_not_a_command_gets_the_plain_answer(app: App) -> None:
    ann = Phone(app, "ann")
    reply = await ann.say("/weather")
    assert reply == "I don't know /weather. Send /help to see what I can do."


async def test_console_commands_are_not_suggested_off_the_console(app: App) -> None:
    ann = Phone(app, "ann")
    reply = await ann.say("/advnce 1d")
    assert "Did you mean" not in reply
    assert parse_command("/advnce 1d") is not None


async def test_a_command_typo_is_answered_in_a_group_too(app: App) -> None:
    replies = await in_group(app, "ada", "/hlep")
    assert any("Did you mean /help?" in r.text for r in replies)


# ---------------------------------------------------------------------------
# A score over the scale
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("typed", ["11", "12", "11/10", "15/10 horrible", "pain 12"])
async def test_a_score_over_the_scale_is_taken_as_10_with_the_screen(app: App, typed: str) -> None:
    ann = Chat(app, "ann")
    await ann.onboard()
    reply = await ann.say(typed)
    assert "The scale stops at 10, so I've taken that as 10/10." in reply
    assert "Recorded 10/10 for today" in reply
    assert "A quick safety check" in reply


async def test_a_score_over_the_scale_before_consent_waits_with_the_screen(app: App) -> None:
    bob = Phone(app, "bob")
    reply = await bob.say("11")
    assert "A quick safety check" in reply
    assert "I'll record 10/10 as soon as you say yes" in reply
    assert await people(app) == 0


# ---------------------------------------------------------------------------
# A denial, a comma, then a report
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("typed", ["not numb, leg gave way", "5, no fever, numb groin"])
async def test_a_denial_does_not_reach_past_a_comma_to_a_report(app: App, typed: str) -> None:
    ann = Chat(app, "ann")
    await ann.onboard()
    reply = await ann.say(typed)
    assert "Call emergency services or go to the emergency department now." in reply


async def test_what_the_pain_is_not_is_not_recorded(app: App) -> None:
    ann = Chat(app, "ann", tz="UTC")
    await ann.onboard()
    await ann.say("0")
    reply = await ann.say("my pain is not 7")
    assert "Recorded" not in reply and "Changed" not in reply
    assert len(reply.strip().splitlines()) == 1
    assert "0/10" in await ann.say("/history")


async def test_a_command_typed_with_a_mark_or_a_digit_stuck_on_is_understood(app: App) -> None:
    ann = Chat(app, "ann", tz="UTC")
    await ann.onboard()
    assert "Nothing to undo today." in await ann.say("/undo!")
    assert "Did you mean /checkin?" in await ann.say("/checkin4")
    assert "Did you mean /run?" in await ann.say("/run3")
