"""Startup failures of the real CLI: one line on stderr saying what to fix, exit 2, no traceback."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError

from bot.settings import Settings
from bot.store.db import make_engine, upgrade
from tests.fakes.discord_server import DiscordFake
from tests.fakes.telegram_server import TelegramFake

ROOT = Path(__file__).resolve().parents[1]
# Nothing listens on port 1: the Telegram adapter would fail fast if it were ever reached.
DEAD_API = "http://127.0.0.1:1/bot"
FAKE_TOKEN = "123456789:TEST-never-used-token_for-si-checkin"
COMMANDS = {
    "console": ["console"],
    "run": ["run"],
    "db upgrade": ["db", "upgrade"],
}


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """A clean environment: no inherited bot settings, a private data directory."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("TELEGRAM_", "DISCORD_", "DATABASE_URL", "SI_CHECKIN_"))
    }
    env |= {"SI_CHECKIN_DATA_DIR": str(tmp_path / "data"), "PYTHONPATH": str(ROOT)}
    return env | extra


def cli(
    tmp_path: Path, *args: str, stdin: str = "", **env: str
) -> subprocess.CompletedProcess[str]:
    """Run `python -m adapters ARGS` from a directory without a .env, stdin at end of input."""
    return subprocess.run(
        [sys.executable, "-m", "adapters", *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=_env(tmp_path, **env),
        timeout=120,
    )


def one_line(done: subprocess.CompletedProcess[str], *words: str) -> str:
    """Assert the CLI failed the way the issue asks, and return the line."""
    both = done.stdout + done.stderr
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert done.returncode == 2, both[-3000:]
    assert "Traceback" not in both, both[-3000:]
    assert len(lines) == 1, done.stderr[-3000:]
    line = lines[0]
    assert line.startswith("si-checkin: "), line
    for word in words:
        assert word in line, line
    return line


def run_env(tmp_path: Path, db: str | None = None) -> dict[str, str]:
    """Settings `si-checkin run` needs to get past its token check without any network."""
    env = {"TELEGRAM_TOKEN": FAKE_TOKEN, "TELEGRAM_API_URL": DEAD_API}
    if db is not None:
        env["DATABASE_URL"] = db if "://" in db else f"sqlite:///{db}"
    return env


def _sys_is_read_only() -> bool:
    """Whether /sys refuses new files (it does even for root, which ignores permission bits)."""
    try:
        Path("/sys/si-checkin-probe").touch()
    except OSError:
        return True
    Path("/sys/si-checkin-probe").unlink()
    return False


needs_read_only_sys = pytest.mark.skipif(
    not _sys_is_read_only(), reason="needs a directory even root cannot write in (/sys)"
)


# ---- the database file --------------------------------------------------------------------


@pytest.mark.parametrize("command", [*COMMANDS, "console with DATABASE_URL"])
def test_a_file_that_is_not_a_database(tmp_path: Path, command: str) -> None:
    db = tmp_path / "notes.sqlite3"
    db.write_bytes(os.urandom(8192))
    if command == "console with DATABASE_URL":
        done = cli(tmp_path, "console", DATABASE_URL=f"sqlite:///{db}")
    elif command == "run":
        done = cli(tmp_path, "run", **run_env(tmp_path, str(db)))
    else:
        done = cli(tmp_path, *COMMANDS[command], "--db", str(db))
    one_line(done, f"cannot open the database {db}", "not a SQLite database", "--db")
    assert db.stat().st_size == 8192  # left as it was


def _real_database(path: Path) -> None:
    async def make() -> None:
        engine = make_engine(f"sqlite+aiosqlite:///{path}")
        try:
            await upgrade(engine)
        finally:
            await engine.dispose()

    asyncio.run(make())


@pytest.mark.parametrize("keep", [6000, 50])
def test_a_truncated_database(tmp_path: Path, keep: int) -> None:
    db = tmp_path / "si-checkin.sqlite3"
    _real_database(db)
    with db.open("r+b") as f:
        f.truncate(keep)
    one_line(cli(tmp_path, "console", "--db", str(db)), str(db), "damaged")
    one_line(cli(tmp_path, "run", **run_env(tmp_path, str(db))), str(db), "damaged")


@needs_read_only_sys
@pytest.mark.parametrize("command", list(COMMANDS))
def test_a_database_directory_nobody_can_write(tmp_path: Path, command: str) -> None:
    db = "/sys/si-checkin.sqlite3"
    if command == "run":
        done = cli(tmp_path, "run", **run_env(tmp_path, db))
    else:
        done = cli(tmp_path, *COMMANDS[command], "--db", db)
    one_line(done, "/sys/si-checkin.sqlite3", "cannot write in its directory /sys", "--db")


@needs_read_only_sys
def test_a_database_directory_that_cannot_be_created(tmp_path: Path) -> None:
    blocker = tmp_path / "blocker"
    blocker.write_text("a file where a directory should be\n")
    done = cli(tmp_path, "console", "--db", str(blocker / "db" / "x.sqlite3"))
    one_line(done, f"cannot create the directory {blocker / 'db'}", "--db")
    done = cli(tmp_path, "db", "upgrade", "--db", "/sys/si-checkin-new/x.sqlite3")
    one_line(done, "cannot create the directory /sys/si-checkin-new", "not writable")


def test_a_directory_given_as_the_database(tmp_path: Path) -> None:
    folder = tmp_path / "folder"
    folder.mkdir()
    one_line(cli(tmp_path, "console", "--db", str(folder)), str(folder), "is a directory")


# ---- the data directory -------------------------------------------------------------------


@pytest.mark.parametrize("command", list(COMMANDS))
def test_a_data_directory_that_is_a_file(tmp_path: Path, command: str) -> None:
    data = tmp_path / "data"
    data.write_text("not a directory\n")
    env = run_env(tmp_path) if command == "run" else {}
    done = cli(tmp_path, *COMMANDS[command], **env)
    one_line(done, f"cannot use the data directory {data}", "SI_CHECKIN_DATA_DIR")


@needs_read_only_sys
@pytest.mark.parametrize("data", ["/sys", "/sys/si-checkin"])
def test_a_data_directory_nobody_can_write(tmp_path: Path, data: str) -> None:
    done = cli(tmp_path, "console", SI_CHECKIN_DATA_DIR=data)
    one_line(done, f"cannot use the data directory {data}", "not writable", "SI_CHECKIN_DATA_DIR")


# ---- PostgreSQL ---------------------------------------------------------------------------


@pytest.mark.parametrize("command", list(COMMANDS))
def test_postgresql_unreachable_never_shows_the_password(tmp_path: Path, command: str) -> None:
    password = "s3cret-Pa55word"
    url = f"postgresql://postgres:{password}@127.0.0.1:1/si"
    env = {**run_env(tmp_path), "DATABASE_URL": url}
    done = cli(tmp_path, *COMMANDS[command], **env)
    line = one_line(done, "cannot connect to the database", "127.0.0.1:1", "DATABASE_URL")
    assert "postgresql+asyncpg://postgres:***@127.0.0.1:1/si" in line
    assert password not in done.stdout + done.stderr


def test_postgresql_database_that_does_not_exist(tmp_path: Path) -> None:
    base = os.environ.get("TEST_DATABASE_URL")
    if not base:
        pytest.skip("needs a PostgreSQL server (TEST_DATABASE_URL)")
    from sqlalchemy.engine import make_url

    url = make_url(Settings(database_url=base).database_url or "").set(database="si_no_such_db")
    done = cli(tmp_path, "db", "upgrade", "--db", url.render_as_string(hide_password=False))
    one_line(done, "the database does not exist", "si_no_such_db")


# ---- content ------------------------------------------------------------------------------


def _shadow_content(tmp_path: Path) -> Path:
    """A copy of the content package that shadows the real one (PYTHONPATH comes first)."""
    packages = tmp_path / "packages"
    shutil.copytree(
        ROOT / "content", packages / "content", ignore=shutil.ignore_patterns("__pycache__")
    )
    return packages


@pytest.mark.parametrize(
    ("damage", "words"),
    [
        ("missing", "tiers.yaml: file not found"),
        ("empty", "exercises.yaml"),
        ("broken", "exercises.yaml: not valid YAML"),
    ],
)
@pytest.mark.parametrize("command", ["console", "run"])
def test_broken_content_is_the_one_line_shown(
    tmp_path: Path, damage: str, words: str, command: str
) -> None:
    packages = _shadow_content(tmp_path)
    content = packages / "content"
    if damage == "missing":
        (content / "tiers.yaml").unlink()
    elif damage == "empty":
        (content / "exercises.yaml").write_text("")
    else:
        (content / "exercises.yaml").write_text("exercises:\n  - id: [unclosed\n")
    env = run_env(tmp_path) if command == "run" else {}
    done = cli(tmp_path, command, PYTHONPATH=f"{packages}{os.pathsep}{ROOT}", **env)
    one_line(done, f"content files in {content} are broken", words)


# ---- settings -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url", ["http://hooks.example.net/si", "hooks.example.net/si", "https:///x"]
)
def test_a_webhook_url_that_is_not_https(tmp_path: Path, url: str) -> None:
    done = cli(tmp_path, "run", TELEGRAM_WEBHOOK_URL=url, **run_env(tmp_path))
    line = one_line(done, "TELEGRAM_WEBHOOK_URL", "https://")
    assert url not in line


def test_settings_take_https_webhook_urls_only() -> None:
    url = "https://bot.example.org/telegram"
    assert Settings(telegram_webhook_url=url).telegram_webhook_url == url
    with pytest.raises(ValidationError, match="https://"):
        Settings(telegram_webhook_url="http://bot.example.org/telegram")


# ---- tokens the platforms reject ----------------------------------------------------------


async def _run_cli(tmp_path: Path, **env: str) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "adapters",
        "run",
        cwd=tmp_path,
        env=_env(tmp_path, **env),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), timeout=120)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


async def test_a_telegram_token_telegram_rejects(tmp_path: Path) -> None:
    wrong = "987654321:WRONG-token_abcdefghijklmnopqrstuvw"
    async with TelegramFake() as fake:  # it answers 401 Unauthorized to any other token
        code, out, err = await _run_cli(
            tmp_path, TELEGRAM_TOKEN=wrong, TELEGRAM_API_URL=fake.base_url
        )
    done = subprocess.CompletedProcess([], code, out, err)
    one_line(done, "Telegram rejected the bot token (401 Unauthorized): check TELEGRAM_TOKEN")
    for secret in (wrong, wrong.split(":", 1)[1]):
        assert secret not in out + err


async def test_a_discord_token_discord_rejects(tmp_path: Path) -> None:
    right = "MTA4NzY1NDMyMTA5ODc2NTQzMg.GhIjKl.abcdefghijklmnopqrstuvwxyz0123"
    wrong = "MTA4NzY1NDMyMTA5ODc2NTQzMg.WrOnGx.zyxwvutsrqponmlkjihgfedcba9876"
    async with DiscordFake(token=right, app_id=900_000_000_000_000_001) as fake:
        code, out, err = await _run_cli(
            tmp_path,
            DISCORD_TOKEN=wrong,
            DISCORD_API_URL=fake.api_base,
            DISCORD_GATEWAY_URL=fake.gateway_url,
            # discord.py logs "logging in using static token" at INFO before it fails.
            SI_CHECKIN_LOG_LEVEL="WARNING",
        )
    done = subprocess.CompletedProcess([], code, out, err)
    one_line(done, "Discord rejected the bot token (401 Unauthorized): check DISCORD_TOKEN")
    assert wrong not in out + err


# ---- concurrent first starts ----------------------------------------------------------------


def test_processes_starting_together_on_a_new_sqlite_file_all_succeed(tmp_path: Path) -> None:
    # One round loses the race often but not always on an unlocked migration: do several.
    for round_ in range(3):
        db = tmp_path / f"new-{round_}.sqlite3"
        procs = [
            subprocess.Popen(
                [sys.executable, "-m", "adapters", "db", "upgrade", "--db", str(db)],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                cwd=tmp_path,
                env=_env(tmp_path),
            )
            for _ in range(4)
        ]
        results = [(p.wait(timeout=120), *p.communicate()) for p in procs]
        for code, out, err in results:
            assert code == 0, err[-3000:]
            assert "database at revision" in out


# ---- the console's files --------------------------------------------------------------------


def test_the_console_keeps_going_when_it_cannot_save_files(tmp_path: Path) -> None:
    # Root ignores permission bits, so a regular file stands where the directory must go.
    files = tmp_path / "data" / "files"
    files.parent.mkdir()
    files.write_text("in the way\n")
    script = ["/start", "I agree", "4", "/history", "/export", "/help"]
    done = cli(tmp_path, "console", stdin="\n".join(script) + "\n")
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Traceback" not in done.stdout + done.stderr
    out = done.stdout
    assert f"Could not save the chart: {files} is not writable." in out
    assert f"Could not save the export: {files} is not writable." in out
    # Lines after the failures are still read and answered.
    assert out.index("/delete - ") > out.index("Could not save the export")
