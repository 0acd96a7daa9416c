"""The fake Telegram server speaks the Bot API the way real python-telegram-bot 22 expects.

Every test drives real PTB objects (Bot, Application, Updater) against the loopback fake,
so a future change in either side shows up here before it confuses an adapter test.
"""

from __future__ import annotations

import asyncio
import datetime as dtm
import html
import socket
import struct
import warnings
import zlib
from collections.abc import AsyncIterator

import aiohttp
import pytest
from hypothesis import given
from hypothesis import strategies as st
from telegram import (
    Bot,
    BotCommand,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Update,
)
from telegram.constants import ParseMode
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Conflict,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
)
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)
from telegram.warnings import PTBDeprecationWarning

from tests.fakes.telegram_server import TelegramFake, parse_html

ADA = 1001
SCORE_KEYBOARD = InlineKeyboardMarkup(
    [[InlineKeyboardButton(str(n), callback_data=f"v1:score:{n}") for n in range(0, 6)]]
)


def tiny_png(width: int = 3, height: int = 2) -> bytes:
    """A valid PNG of the given size, so the photo path sees real image bytes."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body) & 0xFFFFFFFF
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    rows = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def free_port() -> int:
    """A port the OS says is free now, for PTB's webhook server."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
async def fake() -> AsyncIterator[TelegramFake]:
    async with TelegramFake() as server:
        yield server


@pytest.fixture
async def bot(fake: TelegramFake) -> AsyncIterator[Bot]:
    async with Bot(fake.token, base_url=fake.base_url, base_file_url=fake.base_file_url) as b:
        yield b


def build_app(fake: TelegramFake) -> Application:
    return (
        ApplicationBuilder()
        .token(fake.token)
        .base_url(fake.base_url)
        .base_file_url(fake.base_file_url)
        .build()
    )


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.effective_message is not None
    await update.effective_message.reply_text(
        "<b>Welcome</b>. How is your SI joint today?",
        parse_mode=ParseMode.HTML,
        reply_markup=SCORE_KEYBOARD,
    )


async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.effective_message is not None and update.effective_message.text
    await update.effective_message.reply_text(f"Noted: {update.effective_message.text}")


async def tapped(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    assert query is not None and query.data is not None
    score = query.data.rsplit(":", 1)[-1]
    await query.answer(f"Saved {score}")
    await query.edit_message_text(f"Pain {score}/10 saved.")


def add_handlers(app: Application) -> None:
    app.add_handler(CommandHandler("start", start))
    app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, echo))
    app.add_handler(CallbackQueryHandler(tapped))


# ---- plain Bot calls --------------------------------------------------------------------


async def test_get_me_identifies_the_bot(fake: TelegramFake, bot: Bot) -> None:
    me = await bot.get_me()
    assert me.is_bot
    assert me.id == fake.bot.id
    assert bot.username == fake.bot.username


async def test_wrong_token_is_unauthorized(fake: TelegramFake) -> None:
    stranger = Bot("999:not-the-token", base_url=fake.base_url)
    try:
        with pytest.raises(InvalidToken):
            await stranger.initialize()
    finally:
        await stranger.shutdown()  # initialize() failed half-way; close its HTTP clients
    assert fake.requests == []  # a wrong token never reaches a method


async def test_unknown_method_answers_404_in_telegram_shape(fake: TelegramFake) -> None:
    async with (
        aiohttp.ClientSession() as http,
        http.post(f"{fake.base_url}{fake.token}/sendTelepathy", json={}) as response,
    ):
        body = await response.json()
    assert response.status == 404
    assert body == {"ok": False, "error_code": 404, "description": "Not Found"}


async def test_json_and_query_string_bodies_are_understood(fake: TelegramFake) -> None:
    fake.user(ADA)
    markup = {"inline_keyboard": [[{"text": "4", "callback_data": "v1:score:4"}]]}
    async with aiohttp.ClientSession() as http:
        url = f"{fake.base_url}{fake.token}"
        async with http.post(
            f"{url}/sendMessage", json={"chat_id": ADA, "text": "4?", "reply_markup": markup}
        ) as response:
            sent = await response.json()
        async with http.get(f"{url}/getChatMember?chat_id={ADA}&user_id={ADA}") as response:
            member = await response.json()
    assert sent["ok"] and sent["result"]["reply_markup"] == markup
    assert member == {"ok": True, "result": {"status": "member", "user": fake.user(ADA).to_api()}}


async def test_press_refuses_a_button_the_message_never_had(fake: TelegramFake, bot: Bot) -> None:
    ada = fake.user(ADA)
    await bot.send_message(ADA, "How is it?", reply_markup=SCORE_KEYBOARD)
    [message] = fake.messages(ADA)
    with pytest.raises(ValueError, match="never had a button"):
        fake.press(ada, message, "v1:score:9")
    assert fake.pending_updates == []


async def test_send_message_with_keyboard_and_html(fake: TelegramFake, bot: Bot) -> None:
    ada = fake.user(ADA, "Ada")
    sent = await bot.send_message(
        ada.id, "Pain <b>today</b> &amp; now?", parse_mode="HTML", reply_markup=SCORE_KEYBOARD
    )
    assert sent.text == "Pain today & now?"
    assert [(e.type, e.offset, e.length) for e in sent.entities] == [("bold", 5, 5)]
    assert sent.reply_markup == SCORE_KEYBOARD
    assert sent.from_user is not None and sent.from_user.id == fake.bot.id

    [seen] = fake.messages(ada.id)
    assert seen.message_id == sent.message_id
    assert seen.raw == "Pain <b>today</b> &amp; now?"
    assert seen.button_labels == ["0", "1", "2", "3", "4", "5"]
    assert seen.callback_data("4") == "v1:score:4"
    assert fake.calls("sendMessage")[0].params["chat_id"] == ADA


async def test_photo_and_document_uploads_keep_bytes_and_names(
    fake: TelegramFake, bot: Bot
) -> None:
    ada = fake.user(ADA)
    png = tiny_png(30, 20)
    photo = await bot.send_photo(ada.id, png, caption="Your <i>week</i>", parse_mode="HTML")
    doc = await bot.send_document(ada.id, b"date,score\n2026-03-02,4\n", filename="history.csv")

    assert photo.caption == "Your week"
    assert (photo.photo[-1].width, photo.photo[-1].height) == (30, 20)
    assert doc.document is not None and doc.document.file_name == "history.csv"
    shown_photo, shown_doc = fake.messages(ada.id)
    assert shown_photo.photo == png
    assert shown_doc.document == b"date,score\n2026-03-02,4\n"
    assert shown_doc.filename == "history.csv"

    # The file URL works as PTB builds it from base_file_url.
    downloaded = await (await bot.get_file(photo.photo[-1].file_id)).download_as_bytearray()
    assert bytes(downloaded) == png


async def test_photo_must_be_an_image(fake: TelegramFake, bot: Bot) -> None:
    fake.user(ADA)
    with pytest.raises(BadRequest, match=r"(?i)image_process_failed"):
        await bot.send_photo(ADA, b"not an image")
    assert fake.messages(ADA) == []


async def test_edit_reply_markup_and_its_errors(fake: TelegramFake, bot: Bot) -> None:
    fake.user(ADA)
    sent = await bot.send_message(ADA, "How is it?", reply_markup=SCORE_KEYBOARD)
    done = InlineKeyboardMarkup([[InlineKeyboardButton("Undo", callback_data="v1:undo")]])

    edited = await bot.edit_message_reply_markup(ADA, sent.message_id, reply_markup=done)
    assert not isinstance(edited, bool) and edited.reply_markup == done
    [message] = fake.messages(ADA)
    assert message.button_labels == ["Undo"]
    assert len(message.history) == 1

    with pytest.raises(BadRequest, match=r"(?i)message is not modified"):
        await bot.edit_message_reply_markup(ADA, sent.message_id, reply_markup=done)
    with pytest.raises(BadRequest, match=r"(?i)message to edit not found"):
        await bot.edit_message_reply_markup(ADA, 999, reply_markup=done)

    # Like Telegram, editing the text without a keyboard takes the keyboard away.
    await bot.edit_message_text("Saved.", ADA, sent.message_id)
    assert message.text == "Saved." and message.reply_markup is None


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"text": "x" * 4097}, "message is too long"),
        ({"text": "<b>unclosed"}, "can't parse entities"),
        ({"text": "a < b"}, "can't parse entities"),
        ({"text": "fish & chips"}, "can't parse entities"),
        ({"text": "<blink>hi</blink>"}, "can't parse entities: Unsupported start tag"),
        ({"text": "<b><i>x</b></i>"}, "can't parse entities: Unmatched end tag"),
        (
            {
                "text": "tap",
                "reply_markup": InlineKeyboardMarkup(
                    [[InlineKeyboardButton("x", callback_data="d" * 65)]]
                ),
            },
            "BUTTON_DATA_INVALID",
        ),
    ],
)
async def test_bad_requests_are_refused_like_telegram(
    fake: TelegramFake, bot: Bot, kwargs: dict[str, object], error: str
) -> None:
    fake.user(ADA)
    with pytest.raises(BadRequest, match=f"(?i){error}"):
        await bot.send_message(ADA, parse_mode="HTML", **kwargs)  # type: ignore[arg-type]
    assert fake.messages(ADA) == []


async def test_long_caption_and_long_callback_answer_are_refused(
    fake: TelegramFake, bot: Bot
) -> None:
    fake.user(ADA)
    with pytest.raises(BadRequest, match=r"(?i)message caption is too long"):
        await bot.send_photo(ADA, tiny_png(), caption="c" * 1025)
    with pytest.raises(BadRequest, match=r"(?i)query is too old"):
        await bot.answer_callback_query("no-such-query", text="hi")

    await bot.send_message(ADA, "How is it?", reply_markup=SCORE_KEYBOARD)
    tap = fake.press(fake.user(ADA), fake.messages(ADA)[0], "v1:score:2")
    query_id = tap["callback_query"]["id"]
    with pytest.raises(BadRequest, match=r"(?i)message_too_long"):
        await bot.answer_callback_query(query_id, text="x" * 201)
    assert await bot.answer_callback_query(query_id, text="x" * 200)
    assert [a.text for a in fake.callback_answers] == ["x" * 200]


async def test_blocked_chat_raises_forbidden(fake: TelegramFake, bot: Bot) -> None:
    fake.user(ADA)
    fake.block(ADA)
    with pytest.raises(Forbidden, match=r"(?i)bot was blocked by the user"):
        await bot.send_message(ADA, "Time for your check-in")
    assert fake.messages(ADA) == []


async def test_throttle_raises_retry_after_and_nothing_is_sent_twice(
    fake: TelegramFake, bot: Bot
) -> None:
    fake.user(ADA)
    fake.throttle(1, retry_after=3, method="sendMessage")
    with warnings.catch_warnings():
        # PTB 22 warns that retry_after becomes a timedelta; either type carries the 3 s.
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        with pytest.raises(RetryAfter) as caught:
            await bot.send_message(ADA, "first try")
        assert caught.value.retry_after in (3, dtm.timedelta(seconds=3))
    await bot.send_message(ADA, "second try")

    assert [c.status for c in fake.calls("sendMessage")] == [429, 200]
    assert fake.calls("sendMessage")[0].response["parameters"] == {"retry_after": 3}
    assert [m.text for m in fake.messages(ADA)] == ["second try"]


async def test_server_errors_raise_network_error(fake: TelegramFake, bot: Bot) -> None:
    fake.user(ADA)
    fake.fail(1, status=502)
    with pytest.raises(NetworkError):
        await bot.send_message(ADA, "hello")
    await bot.send_message(ADA, "hello")
    assert len(fake.messages(ADA)) == 1


async def test_delayed_call_times_out_but_still_lands(fake: TelegramFake, bot: Bot) -> None:
    fake.user(ADA)
    fake.delay(0.5, method="sendMessage")
    with pytest.raises(NetworkError):  # TimedOut is a NetworkError
        await bot.send_message(ADA, "slow", read_timeout=0.05)
    # Like the real server, the slow call takes effect after all: retrying would duplicate.
    landed = await fake.wait_for_message(ADA, contains="slow")
    assert landed.text == "slow"


async def test_commands_chat_member_and_chat_info(fake: TelegramFake, bot: Bot) -> None:
    coach, ada = fake.user(7, "Coach"), fake.user(ADA, "Ada")
    club = fake.group(-1001234, "Tuesday Runners", admins=[coach], members=[ada])

    await bot.set_my_commands([BotCommand("checkin", "Log today's pain"), BotCommand("help", "?")])
    assert [c.command for c in await bot.get_my_commands()] == ["checkin", "help"]
    with pytest.raises(BadRequest, match=r"(?i)bot_command_invalid"):
        await bot.set_my_commands([BotCommand("Check-In", "bad name")])

    assert (await bot.get_chat_member(club.id, coach.id)).status == "administrator"
    assert (await bot.get_chat_member(club.id, ada.id)).status == "member"
    assert [m.user.id for m in await bot.get_chat_administrators(club.id)] == [coach.id]
    info = await bot.get_chat(club.id)
    assert (info.type, info.title) == ("supergroup", "Tuesday Runners")
    assert await bot.send_chat_action(club.id, "typing")
    assert fake.chat_actions == [(club.id, "typing")]
    assert await bot.leave_chat(club.id)
    with pytest.raises(Forbidden, match=r"(?i)not a member"):
        await bot.send_message(club.id, "still here?")


async def test_migrated_group_raises_chat_migrated(fake: TelegramFake, bot: Bot) -> None:
    ada = fake.user(ADA)
    fake.group(-42, "Club", members=[ada])
    old_side, _ = fake.migrate_group(-42, -1009999)
    assert old_side["message"]["migrate_to_chat_id"] == -1009999
    with pytest.raises(ChatMigrated) as caught:
        await bot.send_message(-42, "hello club")
    assert caught.value.new_chat_id == -1009999
    assert (await bot.send_message(-1009999, "hello club")).chat.type == "supergroup"

    updates = await bot.get_updates(timeout=0)
    assert [u.message.migrate_from_chat_id for u in updates if u.message] == [None, -42]


async def test_long_poll_waits_for_an_update_and_offset_confirms(
    fake: TelegramFake, bot: Bot
) -> None:
    ada = fake.user(ADA)
    assert await bot.get_updates(timeout=0) == ()
    waiting = asyncio.create_task(bot.get_updates(timeout=5))
    await fake.wait_for(lambda: fake.polling)
    sent = fake.send_text(ada, "/start")

    [update] = await waiting
    assert update.update_id == sent["update_id"]
    assert update.message is not None and update.message.text == "/start"
    assert update.message.entities[0].type == "bot_command"
    assert fake.pending_updates == [sent]  # delivered but not yet confirmed
    assert await bot.get_updates(offset=update.update_id + 1, timeout=0) == ()
    assert fake.pending_updates == []


async def test_second_poller_conflicts_with_the_first(fake: TelegramFake) -> None:
    # Two bot processes polling one token: Telegram ends the older long poll with 409.
    async with (
        Bot(fake.token, base_url=fake.base_url) as first,
        Bot(fake.token, base_url=fake.base_url) as second,
    ):
        polling = asyncio.create_task(first.get_updates(timeout=5))
        await fake.wait_for(lambda: fake.polling)
        assert await second.get_updates(timeout=0) == ()
        with pytest.raises(Conflict, match=r"(?i)terminated by other getUpdates"):
            await polling


async def test_bot_removed_is_a_my_chat_member_update(fake: TelegramFake, bot: Bot) -> None:
    ada = fake.user(ADA)
    fake.bot_removed(fake.private_chat(ada))
    [update] = await bot.get_updates(timeout=0)
    assert update.my_chat_member is not None
    assert update.my_chat_member.new_chat_member.status == "kicked"
    assert update.my_chat_member.from_user.id == ADA
    with pytest.raises(Forbidden):
        await bot.send_message(ADA, "are you there?")


async def test_max_rate_counts_sends_in_any_window() -> None:
    now = [0.0]
    async with TelegramFake(monotonic=lambda: now[0]) as fake:
        fake.user(ADA)
        fake.user(1002)
        async with Bot(fake.token, base_url=fake.base_url) as bot:
            for instant, chat in [(0.5, ADA), (1.0, ADA), (1.25, 1002), (2.5, ADA)]:
                now[0] = instant
                await bot.send_message(chat, "hi")
        assert fake.send_times() == [0.5, 1.0, 1.25, 2.5]
        assert fake.max_rate(window_s=1.0) == 3  # [0.5, 1.5) holds three sends
        assert fake.max_rate(window_s=0.5) == 2  # 1.0 and 1.25
        assert fake.max_rate(ADA, window_s=0.5) == 1  # half-open: 0.5 and 1.0 are apart
        assert fake.max_rate(ADA, window_s=10) == 3


# ---- a real Application, long polling and webhook -----------------------------------------


async def test_application_polling_handles_command_text_and_button(fake: TelegramFake) -> None:
    ada = fake.user(ADA, "Ada")
    app = build_app(fake)
    add_handlers(app)
    async with app:
        await app.updater.start_polling(poll_interval=0, timeout=1)  # type: ignore[union-attr]
        await app.start()
        try:
            fake.send_text(ada, "/start")
            welcome = await fake.wait_for_message(ADA, contains="Welcome")
            assert welcome.text == "Welcome. How is your SI joint today?"

            fake.send_text(ada, "sore after hills")
            echoed = await fake.wait_for_message(ADA)
            assert echoed.text == "Noted: sore after hills"

            tap = fake.press(ada, welcome, welcome.callback_data("4"))
            await fake.wait_for(lambda: welcome.text == "Pain 4/10 saved.")
            answer = fake.answer_for(tap)
            assert answer is not None and answer.text == "Saved 4"
            assert welcome.reply_markup is None

            club = fake.group(-1005, "Tuesday Runners", members=[ada])
            fake.send_text(ada, f"/start@{fake.bot.username}", chat=club)
            in_group = await fake.wait_for_message(club.id, contains="Welcome")
            assert in_group.reply_to_message_id is not None
        finally:
            await app.updater.stop()  # type: ignore[union-attr]
            await app.stop()
    assert fake.pending_updates == []  # the updater confirmed everything on the way out
    assert len(fake.messages(ADA)) == 2
    assert fake.server_errors == []


async def test_application_webhook_receives_posted_updates(fake: TelegramFake) -> None:
    ada = fake.user(ADA, "Ada")
    port = free_port()
    app = build_app(fake)
    add_handlers(app)
    async with app:
        await app.updater.start_webhook(  # type: ignore[union-attr]
            listen="127.0.0.1",
            port=port,
            url_path="telegram",
            webhook_url=f"http://127.0.0.1:{port}/telegram",
            secret_token="s3cret-token",
        )
        await app.start()
        try:
            assert fake.webhook_url == f"http://127.0.0.1:{port}/telegram"
            assert fake.webhook_secret == "s3cret-token"
            with pytest.raises(Conflict, match=r"(?i)webhook is active"):
                await app.bot.get_updates()
            sent = fake.send_text(ada, "/start")
            await fake.wait_for_message(ADA, contains="Welcome")
            assert fake.webhook_deliveries[-1].update_id == sent["update_id"]
            assert fake.webhook_deliveries[-1].status == 200
            assert fake.pending_updates == []
        finally:
            await app.updater.stop()  # type: ignore[union-attr]
            await app.stop()


async def test_webhook_refuses_a_wrong_secret(fake: TelegramFake) -> None:
    # The secret really is checked by PTB on the far side, so the fake must send the right one.
    port = free_port()
    app = build_app(fake)
    async with app:
        await app.updater.start_webhook(  # type: ignore[union-attr]
            listen="127.0.0.1",
            port=port,
            url_path="telegram",
            webhook_url=f"http://127.0.0.1:{port}/telegram",
            secret_token="right",
        )
        try:
            fake.webhook_secret = "wrong"
            fake.send_text(fake.user(ADA), "hi")
            await fake.wait_for(lambda: fake.webhook_deliveries)
            assert fake.webhook_deliveries[0].status == 403
            fake.webhook_secret = "right"
            await fake.wait_for(lambda: not fake.pending_updates)
            assert fake.webhook_deliveries[-1].status == 200
        finally:
            await app.updater.stop()  # type: ignore[union-attr]


# ---- the HTML parser on its own -----------------------------------------------------------


def test_html_entities_use_utf16_offsets_and_nest() -> None:
    text, entities = parse_html(
        '🏃 <b>Run <i>easy</i></b> <a href="https://x.org/?a=1&amp;b=2">plan</a>'
        '<pre><code class="language-text">4/10</code></pre>'
        '<span class="tg-spoiler">s</span>'
    )
    assert text == "🏃 Run easy plan4/10s"
    assert entities == [
        {"type": "bold", "offset": 3, "length": 8},
        {"type": "italic", "offset": 7, "length": 4},
        {"type": "text_link", "offset": 12, "length": 4, "url": "https://x.org/?a=1&b=2"},
        {"type": "pre", "offset": 16, "length": 4, "language": "text"},
        {"type": "spoiler", "offset": 20, "length": 1},
    ]


@given(st.text())
def test_escaped_text_always_parses_back_unchanged(text: str) -> None:
    assert parse_html(html.escape(text, quote=False)) == (text, [])
