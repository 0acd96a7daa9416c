"""Safety before consent on Telegram: the real adapter, real python-telegram-bot, the real engine
and database, against the loopback fake Bot API server. Red flags get help at once, from anyone;
nothing is stored until the person agrees; and a club never sees anything about a member."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select

from adapters.telegram import TelegramAdapter
from bot.alerts import OPEN_CHAT_FIRST, SENT_PRIVATELY
from bot.app import App
from bot.store.models import Escalation, Person, SymptomReport
from bot.trends import SYMPTOMS
from tests import test_telegram
from tests.conftest import row_counts
from tests.fakes.telegram_server import FakeUser, SentMessage, TelegramFake
from tests.test_telegram import ADA, BOB, Phone, no_refused_sends, person_exists, scores, today
from tests.test_telegram_clubs import POST, Group, post_due

# The Telegram fixtures, by name: the fake Bot API server and the started adapter.
fake = test_telegram.fake
tg = test_telegram.tg

CY, DAN = 2004, 2005
CLUB = -1002000000001
EMERGENCY = "Get help now. Call emergency services"
SCREEN = "A quick safety check"
DISCLAIMER = "I can't diagnose you or replace a physio or doctor."
SADDLE = "Numb saddle area (groin, buttocks)"
FEVER = "Fever with back pain"
NONE = "None of these"
pytestmark = pytest.mark.filterwarnings(
    "ignore:.*retry_after.*:telegram.warnings.PTBDeprecationWarning"
)


async def nothing_stored(app: App) -> bool:
    """No row in any table the bot owns."""
    return not any((await row_counts(app)).values())


async def flags_of(app: App, user_id: int) -> list[str]:
    """The red flags stored for a Telegram user."""
    async with app.sessions() as s:
        rows = await s.scalars(
            select(SymptomReport.code)
            .join(Person, Person.id == SymptomReport.person_id)
            .where(Person.platform == "telegram", Person.user_id == str(user_id))
        )
        return list(rows)


async def person_of(app: App, user_id: int) -> Person | None:
    async with app.sessions() as s:
        return await s.scalar(
            select(Person).where(Person.platform == "telegram", Person.user_id == str(user_id))
        )


def is_screen(message: SentMessage) -> bool:
    """The red-flag screen: the safety-check question with one button per symptom."""
    labels = message.button_labels
    return SCREEN in message.content and SADDLE in labels and FEVER in labels and NONE in labels


# ---- before consent ------------------------------------------------------------------------


async def test_emergency_words_before_consent_get_help_first_then_the_screen_and_store_nothing(
    app: App, fake: TelegramFake, tg: TelegramAdapter
) -> None:
    eve = Phone(fake, ADA, "Eve")
    eve.say("I cant feel my groin and I peed myself")
    first = await fake.wait_for_message(ADA)
    assert first.content.startswith(EMERGENCY)
    assert first.buttons == []  # no Snooze, no Skip, nothing to tap past under emergency advice
    screen = await eve.sees(SCREEN)
    assert first.message_id < screen.message_id  # the emergency line leads
    assert is_screen(screen)
    assert screen.button_labels[-1] == NONE
    assert len(screen.button_labels) == len(SYMPTOMS) + 1
    assert "Nothing is stored unless you agree" in screen.content
    assert not any("Is that OK?" in m.content for m in fake.messages(ADA))  # help, not a form
    assert await nothing_stored(app)
    assert not await person_exists(app, ADA)
    assert no_refused_sends(fake)


async def test_a_screen_tap_before_consent_gives_the_advice_and_stores_only_after_i_agree(
    app: App, fake: TelegramFake, tg: TelegramAdapter
) -> None:
    eve = Phone(fake, ADA, "Eve")
    eve.say("/symptoms")
    screen = await eve.sees(SCREEN)
    eve.tap(screen, FEVER)
    advice = await eve.sees("See a doctor today.")
    assert advice.content.startswith("See a doctor today.")
    consent = await eve.sees("Is that OK?")
    assert advice.message_id < consent.message_id  # the advice at once, the question after
    assert DISCLAIMER in consent.content
    assert consent.button_labels == ["I agree", "No thanks"]
    assert NONE in screen.button_labels  # "tap any that apply": the screen stays
    assert await nothing_stored(app)  # the flag waits in the button

    eve.tap(consent, "I agree")
    await fake.wait_for(
        lambda: any("you're set up" in m.content for m in fake.messages(ADA)), timeout=5
    )
    await fake.wait_for(lambda: consent.buttons == [])
    assert await eventually_flags(app, ADA) == ["fever"]
    person = await person_of(app, ADA)
    assert person is not None and person.episode_tier == "urgent"
    assert no_refused_sends(fake)


async def eventually_flags(app: App, user_id: int) -> list[str]:
    """The stored flags, once the consent tap's handler has committed them."""
    for _ in range(200):
        found = await flags_of(app, user_id)
        if found:
            return found
        await asyncio.sleep(0.025)
    return []


async def test_symptoms_works_before_consent_and_none_of_these_stores_nothing(
    app: App, fake: TelegramFake, tg: TelegramAdapter
) -> None:
    eve = Phone(fake, ADA, "Eve")
    eve.say("/symptoms")
    screen = await eve.sees(SCREEN)
    assert is_screen(screen)
    assert screen.button_labels == [s.label for s in SYMPTOMS] + [NONE]
    assert "Is that OK?" not in screen.content  # the screen, not the consent gate
    eve.tap(screen, NONE)
    said = await fake.wait_for(
        lambda: next((m for m in fake.messages(ADA) if "haven't stored" in m.content), None)
    )
    assert "none of the warning signs" in said.content
    assert await nothing_stored(app)
    assert not await person_exists(app, ADA)


async def test_a_high_first_score_before_consent_brings_the_screen_before_the_question(
    app: App, fake: TelegramFake, tg: TelegramAdapter
) -> None:
    eve = Phone(fake, ADA, "Eve")
    eve.say("9")
    screen = await eve.sees(SCREEN)
    consent = await eve.sees("I'll record 9/10 as soon as you say yes")
    assert screen.message_id < consent.message_id
    assert is_screen(screen)
    assert DISCLAIMER in consent.content and "Is that OK?" in consent.content
    assert consent.button_labels == ["I agree", "No thanks"]
    assert await nothing_stored(app)

    eve.tap(consent, "I agree")
    await fake.wait_for(
        lambda: any("Recorded 9/10 for today" in m.content for m in fake.messages(ADA))
    )
    assert await scores(app, ADA) == {today(app): 9}


# ---- after consent -------------------------------------------------------------------------


async def test_a_score_with_emergency_words_is_recorded_and_the_emergency_line_leads(
    app: App, fake: TelegramFake, tg: TelegramAdapter
) -> None:
    ada = Phone(fake, ADA)
    await ada.onboard()
    before = len(fake.messages(ADA))
    ada.say("7, and my inner thighs feel numb")
    recorded = await ada.sees("Recorded 7/10 for today")
    await fake.wait_for(lambda: any(is_screen(m) for m in fake.messages(ADA)[before:]))
    new = fake.messages(ADA)[before:]
    assert new[0].content.startswith(EMERGENCY)
    assert new[0].message_id < recorded.message_id
    assert new[0].buttons == []
    assert await scores(app, ADA) == {today(app): 7}
    person = await person_of(app, ADA)
    assert person is not None and person.episode_tier == "emergency"
    async with app.sessions() as s:
        tiers = list(await s.scalars(select(Escalation.tier)))
    assert "emergency" in tiers
    assert no_refused_sends(fake)


# ---- in a club -----------------------------------------------------------------------------


async def test_a_high_club_tap_from_someone_who_never_agreed_stays_out_of_the_group(
    app: App, fake: TelegramFake, tg: TelegramAdapter
) -> None:
    bob = fake.user(BOB, "Bob")
    cy = Phone(fake, CY, "Cy")  # opened a chat with the bot once, never agreed to storage
    dan = FakeUser(DAN, "Dan")  # in the club, never opened a chat with the bot
    fake.group(CLUB, "Tuesday trail runners", admins=[bob], members=[cy.user, dan])
    group = Group(fake, CLUB)
    group.say(bob, "/club on 07:30")
    await group.sees("Club check-ins are on")
    post = await post_due(app, tg, group)
    shown = group.shown()
    assert shown[-1] == post.content and post.content.startswith(POST)
    stored = await row_counts(app)

    answer = await group.tap(cy.user, post, "9")
    assert answer.show_alert and answer.user_id == CY
    assert answer.text == SENT_PRIVATELY
    screen = await cy.sees(SCREEN)  # a high first score: the safety check comes first
    consent = await cy.sees("I'll record 9/10 as soon as you say yes")
    assert is_screen(screen) and screen.message_id < consent.message_id
    assert DISCLAIMER in consent.content
    assert consent.button_labels == ["I agree", "No thanks"]
    assert all(m.chat_id == CY for m in fake.messages(CY))

    answer = await group.tap(dan, post, "9")
    assert answer.show_alert and answer.user_id == DAN
    assert answer.text == OPEN_CHAT_FIRST.format(bot=fake.bot.username)
    assert fake.messages(DAN) == []

    assert group.shown() == shown  # the group saw nothing of either tap
    assert await row_counts(app) == stored
    assert not await person_exists(app, CY) and not await person_exists(app, DAN)
    assert post.button_labels  # the keyboard stays for everyone else

    cy.tap(consent, "I agree")
    await fake.wait_for(
        lambda: any("Recorded 9/10 for today" in m.content for m in fake.messages(CY))
    )
    await fake.wait_for(lambda: any(is_screen(m) for m in fake.messages(CY)))
    assert await scores(app, CY) == {today(app): 9}
    shown_now = group.shown()
    assert shown_now == shown
    assert not any("9/10" in t or "Cy" in t or SCREEN in t for t in shown_now)


async def test_a_forged_button_on_a_group_post_is_answered_to_the_tapper_alone(
    app: App, fake: TelegramFake, tg: TelegramAdapter
) -> None:
    bob = fake.user(BOB, "Bob")
    cy = Phone(fake, CY, "Cy")
    fake.group(CLUB, "Tuesday trail runners", admins=[bob], members=[cy.user])
    group = Group(fake, CLUB)
    group.say(bob, "/club on 07:30")
    await group.sees("Club check-ins are on")
    post = await post_due(app, tg, group)
    shown = group.shown()
    for forged in ("1:k:999999999999:5", "1:zz:1", "2:s:4"):
        update = fake.press(cy.user, post, forged, check=False)  # a modified client
        answer = await fake.wait_for(lambda u=update: fake.answer_for(u))
        assert answer.show_alert and answer.user_id == CY
        assert answer.text.startswith("This button has expired")
    assert group.shown() == shown  # nothing was posted in the group
    assert fake.messages(CY) == []  # and nothing needed a private message
