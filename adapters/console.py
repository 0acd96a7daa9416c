"""A terminal chat with the bot: the embedded default, no token, no network.

Interactive on a terminal; scriptable when stdin is not one (one message per line until
end of input, every reply on stdout). Buttons print as [label]; typing a label presses it.

Files the bot sends (charts, exports) are saved in a `files` folder beside the SQLite database
in use (so in the data directory for the default one), or in the data directory's `files`
folder when the database is a server (PostgreSQL). Each person has a folder there that only
they can open, named for them and the database; each file is named for the person and the
moment, e.g. `si-checkin-export-ann-2026-03-02-0800.csv`, readable only by its owner. The
path is printed; /delete removes the folder.
"""

from __future__ import annotations

import asyncio
import codecs
import contextlib
import hashlib
import os
import re
import shutil
import stat
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import tzinfo
from pathlib import Path
from typing import TextIO

from sqlalchemy.engine import make_url

from adapters import base
from bot import parsing, schedule
from bot.engine import Engine
from bot.events import Address, Attachment, Incoming, Kind, Reply
from bot.settings import Settings

PLATFORM = "console"
# A terminal shows everything: text whole, buttons in the rows the core made.
LIMITS = base.UNLIMITED
READ_CHUNK = 65536
# The core names a file for what it is and the person's day ("si-checkin-export-2026-03-02");
# the console puts the person and the minute in place of the day.
_CORE_DAY = re.compile(r"-\d{4}-\d{2}-\d{2}$")
# A second file in the same minute gets -2, -3...: never written over, never endless.
MAX_SAME_MINUTE = 1000


def files_home(settings: Settings) -> Path:
    """Where the console keeps people's files: beside the SQLite file, else the data directory."""
    url = make_url(settings.resolved_database_url())
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        return Path(url.database).absolute().parent / "files"
    return settings.data_dir / "files"


def database_key(settings: Settings) -> str:
    """What tells one database's people from another's whose files share a folder."""
    url = make_url(settings.resolved_database_url())
    if url.get_backend_name() == "sqlite":
        name = Path(url.database or ":memory:").name
        default = make_url(
            settings.model_copy(update={"database_url": None}).resolved_database_url()
        )
        # The default database keeps the folder names it always had, so /delete still finds them.
        return "" if name == Path(default.database or "").name else name
    return f"{url.get_backend_name()}://{url.host or ''}:{url.port or ''}/{url.database or ''}"


class ConsoleAdapter:
    """Reads lines as one person, renders replies as text; also the Sender for reminders."""

    platform = PLATFORM

    def __init__(
        self,
        engine: Engine,
        user: str,
        files_dir: Path,
        tz: str | None = None,
        out: TextIO | None = None,
    ) -> None:
        self.engine = engine
        self.user = user
        self.tz = tz
        self.files_dir = files_dir
        # Each person's charts and exports in a folder of their own, which /delete removes.
        self.own_dir = files_dir / _folder_name(user, database_key(engine.settings))
        self.out = out or sys.stdout
        self.labels: dict[str, str] = {}
        # Whether the buttons of the answer being printed join those already shown in it: an
        # answer can hold several keyboards (the safety screen, then an optional question),
        # and each stays pressable by its label until the next answer brings buttons.
        self.joining = False
        # Console-only commands (like /advance) are answered here; the scheduler plugs in.
        self.local_commands: dict[str, Callable[[str], Awaitable[list[str]]]] = {}
        # Set when whoever read our output has gone (`... | head -1`): the conversation is over.
        self.output_closed = False
        # Whether the terminal shows "you> " and waits for a line.
        self.prompting = False

    @property
    def address(self) -> Address:
        """The one chat this console is."""
        return Address(PLATFORM, self.user)

    def incoming(self, line: str) -> Incoming:
        """A typed line: a button press when it matches a shown label, else text."""
        action = self.labels.get(line.strip().casefold())
        return Incoming(
            platform=PLATFORM,
            user_id=self.user,
            chat_id=self.user,
            text=None if action else line,
            action=action,
            tz_hint=self.tz,
        )

    async def handle_line(self, line: str) -> None:
        """Send one line to the engine and print the replies."""
        name, _, rest = line.strip().partition(" ")
        local = self.local_commands.get(name.lower())
        if local is not None:
            for text in await local(rest.strip()):
                self.write(text)
            return
        replies = await self.engine.handle(self.incoming(line))
        self.joining = False
        try:
            for reply in replies:
                self.render(reply)
        finally:
            self.joining = False

    async def send(self, address: Address, reply: Reply) -> None:
        """Deliver a reminder (or any bot-initiated message) to the terminal."""
        self.joining = False  # a message of its own: its buttons replace the last ones
        if not self.prompting:
            self.render(reply)
            return
        # Arriving while the person sits at the prompt: on lines of its own, then the prompt again.
        self._print("")
        self.render(reply)
        self._print("you> ", end="")

    def render(self, reply: Reply) -> None:
        """Print a reply: its text, buttons as [label], and saved files' paths."""
        stamp = f"[{reply.local_time}] " if reply.local_time else ""
        for part in base.parts(reply, LIMITS):
            if part.text:
                self.write(stamp + part.text)
            if part.rows:
                shown = {b.label.casefold(): b.action for row in part.rows for b in row}
                # On a label two keyboards share, the first (the safety screen leads) wins.
                self.labels = {**shown, **self.labels} if self.joining else shown
                self.joining = True
                for row in part.rows:
                    self.write(" ".join(f"[{b.label}]" for b in row))
            for attachment in part.files:
                self._save(attachment, "chart" if attachment is reply.image else "export")
        if reply.kind is Kind.ERASED:
            # Everything stored about the person is gone; so are the files made for them.
            shutil.rmtree(self.own_dir, ignore_errors=True)

    def _save(self, attachment: Attachment, noun: str) -> None:
        try:
            path = _save_private(self.own_dir, self._file_name(attachment), attachment.data)
        except OSError:
            # One lost file must not end the conversation and the rest of its input.
            self.write(f"Could not save the {noun}: {self.files_dir} is not writable.")
            return
        self.write(f"({'image' if noun == 'chart' else 'file'} saved: {path})")

    def _file_name(self, attachment: Attachment) -> str:
        """The core's name with the person and the minute in place of the day."""
        core = Path(attachment.filename)
        when = self.engine.clock.now().astimezone(self._zone())
        what = _CORE_DAY.sub("", core.stem)
        return f"{what}-{_readable(self.user)}-{when:%Y-%m-%d-%H%M}{core.suffix}"

    def _zone(self) -> tzinfo | None:
        """The zone given with --tz, else this machine's (None): the times its person reads."""
        key = parsing.parse_timezone(self.tz) if self.tz else None
        return schedule.zone(key) if key else None

    def write(self, text: str) -> None:
        """One block of output, followed by a blank line between messages."""
        self._print(text)

    def _print(self, text: str, end: str = "\n") -> None:
        if self.output_closed:
            return
        try:
            print(text, end=end, file=self.out, flush=True)
        except BrokenPipeError:
            # The reader has gone: say nothing more, and let the exit's flush go nowhere
            # rather than fail a second time.
            self.output_closed = True
            devnull = os.open(os.devnull, os.O_WRONLY)
            try:
                os.dup2(devnull, self.out.fileno())
            finally:
                os.close(devnull)

    async def run(self, stdin: TextIO | None = None) -> int:
        """The read-reply loop until end of input (or /quit on a terminal)."""
        stdin = stdin or sys.stdin
        if stdin is None:  # started with its input closed: nothing will ever be typed
            return 0
        interactive = stdin.isatty()
        if interactive:
            self.write("si-checkin in your terminal. Type /start to begin, /quit to leave.")
            self._print("you> ", end="")
        self.prompting = interactive
        try:
            async for line in read_lines(stdin):
                self.prompting = False
                if interactive and line.strip() in ("/quit", "/exit"):
                    return 0
                await self.handle_line(line)
                if self.output_closed:
                    return 0
                if interactive:
                    self._print("you> ", end="")
                    self.prompting = True
        finally:
            if self.prompting:
                # Ctrl-D or Ctrl-C at the prompt: the shell's prompt starts on a line of its own.
                self._print("")
                self.prompting = False
        return 0


async def read_lines(stream: TextIO) -> AsyncIterator[str]:
    """Lines typed or piped in, without their line ends, until end of input.

    No thread waits on the input, so Ctrl-C or SIGTERM ends the wait at once. Bytes that are not
    text in the stream's encoding are read as U+FFFD, as a message like any other.
    """
    try:
        fd = stream.fileno()
    except (OSError, ValueError):  # text in memory: there is nothing to wait for
        for line in stream:
            yield line.rstrip("\r\n")
        return
    decoder = codecs.getincrementaldecoder(stream.encoding or "utf-8")(errors="replace")
    loop = asyncio.get_running_loop()
    pending = ""
    while True:
        chunk = await _read(loop, fd)
        pending += decoder.decode(chunk, final=not chunk)
        *lines, pending = pending.split("\n")
        for line in lines:
            yield line.rstrip("\r")
        if not chunk:
            if pending:
                yield pending.rstrip("\r")
            return


async def _read(loop: asyncio.AbstractEventLoop, fd: int) -> bytes:
    """What fd holds once it holds something; b"" at its end."""
    ready: asyncio.Future[None] = loop.create_future()

    def wake() -> None:
        if not ready.done():
            ready.set_result(None)

    try:
        loop.add_reader(fd, wake)
    except OSError:
        # A regular file (`< script`) cannot be watched, and reading one never waits.
        return _read_now(fd)
    try:
        await ready
    finally:
        loop.remove_reader(fd)
    return _read_now(fd)


def _read_now(fd: int) -> bytes:
    try:
        return os.read(fd, READ_CHUNK)
    except OSError:  # a terminal that hung up, an input closed under us: the end of input
        return b""


def _readable(user: str) -> str:
    """The console user's name as it can stand in a file name."""
    return re.sub(r"[^A-Za-z0-9_-]", "_", user)[:32] or "user"


def _folder_name(user: str, database: str = "") -> str:
    """A safe, distinct folder name for a console user: readable prefix, then a short hash.

    The hash covers the database too, so one name on two databases beside each other (two
    different people) never shares a folder.
    """
    key = f"{database}\0{user}" if database else user
    digest = hashlib.sha256(key.encode()).hexdigest()[:8]
    return f"{_readable(user)}-{digest}"


def _save_private(folder: Path, name: str, data: bytes) -> Path:
    """Write a new file only its owner can read (health data), in a folder only they can open.

    Never through a link, and never over an earlier file: a second one the same minute is -2.
    """
    folder.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(FileExistsError):
        folder.mkdir(mode=0o700)
    # A link in the person's place could lead into someone else's folder.
    info = folder.lstat()
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid():
        raise PermissionError(f"{folder} is not this person's folder")
    os.chmod(folder, 0o700)
    first = Path(name)
    for n in range(1, MAX_SAME_MINUTE + 1):
        path = folder / (name if n == 1 else f"{first.stem}-{n}{first.suffix}")
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        except FileExistsError:
            continue
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        return path
    raise FileExistsError(f"{folder} already holds {MAX_SAME_MINUTE} files named {name}")
