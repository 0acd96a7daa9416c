"""Where the console keeps the charts and exports it makes: each person's own, named for them and
the moment, readable by nobody else, beside the database they came from."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest

from bot.app import App
from tests.conftest import Chat
from tests.test_console_cli import run_console


def saved_paths(reply: str) -> list[Path]:
    """Every path the console printed as saved, in order."""
    return [Path(p) for p in re.findall(r"\((?:image|file) saved: (.+)\)", reply)]


def csv_rows(path: Path) -> list[list[str]]:
    return list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"))))


async def test_an_export_and_a_chart_carry_the_person_and_the_moment(app: App) -> None:
    ann = Chat(app, "ann", tz="Europe/Berlin")
    await ann.onboard()
    await ann.say("4")
    (export,) = saved_paths(await ann.say("/export"))
    (chart,) = saved_paths(await ann.say("/history"))
    # 07:00 UTC on the simulated clock is 08:00 in Berlin.
    assert export.name == "si-checkin-export-ann-2026-03-02-0800.csv"
    assert chart.name == "si-checkin-history-ann-2026-03-02-0800.png"
    assert export.parent == chart.parent
    assert export.parent.parent == app.settings.data_dir / "files"
    # Health data: only its owner reads the files, and only they open the folder.
    for path in (export, chart):
        assert oct(path.stat().st_mode & 0o777) == "0o600"
    assert oct(export.parent.stat().st_mode & 0o777) == "0o700"


async def test_two_exports_the_same_day_are_both_kept(app: App) -> None:
    ann = Chat(app, "ann", tz="Europe/Berlin")
    await ann.onboard()
    (first,) = saved_paths(await ann.say("/export"))
    await ann.say("4")
    (second,) = saved_paths(await ann.say("/export"))
    ann.later(hours=3)
    await ann.say("/log 5 yesterday")
    (third,) = saved_paths(await ann.say("/export"))
    assert len({first, second, third}) == 3
    assert third.name == "si-checkin-export-ann-2026-03-02-1100.csv"
    # Each file still holds what it held when it was made.
    sizes = [len(csv_rows(p)) for p in (first, second, third)]
    assert sizes[0] < sizes[1] < sizes[2]


async def test_people_sharing_a_data_directory_never_share_a_folder(app: App) -> None:
    ann = Chat(app, "ann", tz="Europe/Berlin")
    bob = Chat(app, "bob", tz="Europe/Berlin")
    for person in (ann, bob):
        await person.onboard()
    (ann_file,) = saved_paths(await ann.say("/export"))
    (bob_file,) = saved_paths(await bob.say("/export"))
    assert ann_file.parent != bob_file.parent
    assert "bob" in bob_file.name and "ann" not in bob_file.name
    assert all(r[3] != "ann" for r in csv_rows(bob_file) if r[2] == "user_id")


async def test_a_folder_swapped_for_a_link_to_another_folder_is_not_written_through(
    app: App,
) -> None:
    ann = Chat(app, "ann", tz="Europe/Berlin")
    bob = Chat(app, "bob", tz="Europe/Berlin")
    for person in (ann, bob):
        await person.onboard()
    (ann_file,) = saved_paths(await ann.say("/export"))
    (bob_file,) = saved_paths(await bob.say("/export"))
    ann_file.unlink()
    ann_file.parent.rmdir()
    ann_file.parent.symlink_to(bob_file.parent, target_is_directory=True)
    reply = await ann.say("/export")
    assert "Could not save the export" in reply
    assert saved_paths(reply) == []
    assert [p.name for p in bob_file.parent.iterdir()] == [bob_file.name]
    # Nothing was lost on the way: the next message is answered as usual.
    assert "Recorded 3/10 for today" in await ann.say("3")


def export_path(out: str) -> Path:
    (path,) = [p for p in saved_paths(out) if p.suffix == ".csv"]
    return path


@pytest.mark.parametrize("how", ["--db", "DATABASE_URL"])
def test_files_go_beside_the_sqlite_database_in_use(tmp_path: Path, how: str) -> None:
    home = tmp_path / "home"
    db = tmp_path / "club" / "ann.sqlite3"
    db.parent.mkdir()
    script = ["/start", "I agree", "4", "/export"]
    if how == "--db":
        done = run_console(script, home, "--user", "ann", "--db", str(db))
    else:
        done = run_console(script, home, "--user", "ann", DATABASE_URL=f"sqlite:///{db}")
    assert done.returncode == 0, done.stderr
    path = export_path(done.stdout)
    assert path.parent.parent == db.parent / "files"
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    assert not (home / "files").exists()


def test_one_name_on_two_databases_is_two_people_with_two_folders(tmp_path: Path) -> None:
    script = ["/start", "I agree", "4", "/export"]
    paths = []
    for name in ("morning.sqlite3", "evening.sqlite3"):
        done = run_console(script, tmp_path, "--user", "ann", "--db", str(tmp_path / name))
        assert done.returncode == 0, done.stderr
        paths.append(export_path(done.stdout))
    morning, evening = paths
    assert morning.parent != evening.parent
    # /delete on one database erases that person's files, never the other's.
    done = run_console(
        ["/delete", "Delete everything"],
        tmp_path,
        "--user",
        "ann",
        "--db",
        str(tmp_path / "morning.sqlite3"),
    )
    assert done.returncode == 0, done.stderr
    assert not morning.exists()
    assert evening.exists()


def test_what_the_console_creates_only_its_owner_can_read(tmp_path: Path) -> None:
    home = tmp_path / "new"
    done = run_console(["/start", "I agree", "4", "/export"], home, "--user", "ann")
    assert done.returncode == 0, done.stderr
    export = export_path(done.stdout)
    # The database holds the same health data as the exports.
    for made in (home, home / "si-checkin.sqlite3", home / "files", export.parent, export):
        assert made.stat().st_mode & 0o077 == 0, f"{made} is {oct(made.stat().st_mode)}"
