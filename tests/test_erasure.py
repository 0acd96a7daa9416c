"""What /export gives and what /delete erases: everything stored, and then nothing left."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from bot.app import App
from bot.events import ChatKind, Incoming, Reply
from tests.conftest import Chat


def export_rows(reply: str) -> list[list[str]]:
    path = reply.split("(file saved: ")[1].split(")")[0]
    return list(csv.reader(io.StringIO(Path(path).read_text(encoding="utf-8"))))


async def test_export_holds_ids_club_membership_streak_name_and_episode(app: App) -> None:
    ann = Chat(app, "ann")
    await ann.onboard()
    await ann.say("/club on 07:30")  # in a private chat: refused, nothing stored
    group = "-100555"

    async def in_group(text: str | None = None, action: str | None = None) -> list[Reply]:
        inc = Incoming(
            "console",
            "ann",
            group,
            text=text,
            action=action,
            chat_kind=ChatKind.GROUP,
            is_admin=True,
            display_name="Ann R",
        )
        return await app.engine.handle(inc)

    await in_group("/club on 07:30")
    from bot.handlers.clubs import club_post
    from bot.store import club_repo

    async with app.sessions() as s:
        club = await club_repo.find(s, "console", group)
        assert club is not None
        post = await club_post(s, club, app.clock.now())
        await s.commit()
    tap = next(b.action for row in post.buttons for b in row if b.label == "3")
    await in_group(action=tap)
    await in_group("/streak share")
    await ann.say("/symptoms")
    await ann.say("Fever with back pain")
    rows = export_rows(await ann.say("/export"))
    kinds = {(r[0], r[2]) for r in rows}
    assert ("person", "user_id") in kinds
    assert any(r[0] == "person" and r[3] == "ann" and r[4] == "chat_id=ann" for r in rows)
    assert any(r[0] == "club_member" and "name=Ann R" in r[4] for r in rows)
    assert any(r[0] == "person" and r[2] == "episode_open" and r[3] == "urgent" for r in rows)


async def test_delete_leaves_no_trace_in_the_database_its_wal_or_the_files(
    app: App, tmp_path: Path
) -> None:
    if app.settings.database_url.startswith("postgresql"):
        return  # the files checked here are SQLite's; PostgreSQL's erasure is its VACUUM
    marker = "zq-marker-7731-groin"
    ann = Chat(app, "ann")
    await ann.onboard()
    await ann.say("5")
    assert "Note added" in await ann.say(f"/note {marker}")
    export = await ann.say("/export")
    await ann.say("/history")
    saved = Path(export.split("(file saved: ")[1].split(")")[0])
    assert marker in saved.read_text(encoding="utf-8")
    assert oct(saved.stat().st_mode & 0o777) == "0o600"  # only its owner reads health data
    assert oct(saved.parent.stat().st_mode & 0o777) == "0o700"
    await ann.say("/delete")
    assert "everything I stored about you is erased" in await ann.say("Delete everything")
    db = Path(app.settings.database_url.split("///", 1)[1])
    for path in (db, Path(f"{db}-wal")):
        if path.exists():
            assert marker.encode() not in path.read_bytes(), path
    files = app.settings.data_dir / "files"
    leftovers = [p for p in files.rglob("*") if p.is_file()] if files.exists() else []
    assert all(marker.encode() not in p.read_bytes() for p in leftovers)
    assert not saved.parent.exists()  # the person's folder of charts and exports is gone


async def test_an_old_delete_button_does_not_erase_what_was_stored_after_it(app: App) -> None:
    """Erased, then set up again the same day: the first confirmation's button, tapped again
    (a second tap, an old message scrolled back to), must not erase the new consent and
    scores unasked."""
    ann = Chat(app, "ann", tz="UTC")
    await ann.onboard()
    await ann.say("3")

    async def tap(payload: str) -> list[Reply]:
        return await app.engine.handle(Incoming("console", "ann", "ann", action=payload))

    [ask] = await app.engine.handle(Incoming("console", "ann", "ann", text="/delete"))
    delete_button = ask.buttons[0][0]
    assert delete_button.label == "Delete everything"
    assert "is erased" in (await tap(delete_button.action))[0].text
    ann.later(minutes=5)
    await ann.onboard()
    await ann.say("7")
    ann.later(minutes=1)
    [again] = await tap(delete_button.action)
    assert again.text == "That confirmation was for what you erased before: send /delete again."
    assert "7/10" in await ann.say("/history")


async def test_the_export_opens_in_a_spreadsheet_as_text_not_formulas(app: App) -> None:
    """The export goes to a physio's spreadsheet: a note that looks like a formula is shown
    as the words typed, never run (OWASP's CSV injection advice: a leading quote)."""
    ann = Chat(app, "ann", tz="UTC")
    await ann.onboard()
    await ann.say("4")
    await ann.say('/note =HYPERLINK("http://evil.example","x")')
    [reply] = await app.engine.handle(Incoming("console", "ann", "ann", text="/export"))
    assert reply.document is not None
    cells = [c for row in csv.reader(io.StringIO(reply.document.data.decode())) for c in row]
    typed = [c for c in cells if "HYPERLINK" in c]
    assert typed == ['\'=HYPERLINK("http://evil.example","x")']
    assert not any(c[:1] in ("=", "+", "@") for c in cells)


async def test_the_delete_question_counts_what_it_erases_in_words(app: App) -> None:
    ann = Chat(app, "ann", tz="UTC")
    await ann.onboard()
    await ann.say("3")
    asked = await ann.say("/delete")
    assert "(1 score, " in asked and "1 checkins" not in asked
    assert " reminders)" in asked or " reminder)" in asked
