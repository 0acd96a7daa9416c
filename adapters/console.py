"""A terminal chat with the bot: the embedded default, no token, no network.

Interactive on a terminal; scriptable when stdin is not one (one message per line until
end of input, every reply on stdout). Buttons print as [label]; typing a label presses it.
Files the bot sends are saved under the data directory, in a folder of each person's own that
only they can read, and their path is printed; /delete removes the folder.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
import shutil
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TextIO

from adapters import base
from bot.engine import Engine
from bot.events import Address, Attachment, Incoming, Kind, Reply

PLATFORM = "console"
# A terminal shows everything: text whole, buttons in the rows the core made.
LIMITS = base.UNLIMITED


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
        self.own_dir = files_dir / _folder_name(user)
        self.out = out or sys.stdout
        self.labels: dict[str, str] = {}
        # Console-only commands (like /advance) are answered here; the scheduler plugs in.
        self.local_commands: dict[str, Callable[[str], Awaitable[list[str]]]] = {}

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
        for reply in await self.engine.handle(self.incoming(line)):
            self.render(reply)

    async def send(self, address: Address, reply: Reply) -> None:
        """Deliver a reminder (or any bot-initiated message) to the terminal."""
        self.render(reply)

    def render(self, reply: Reply) -> None:
        """Print a reply: its text, buttons as [label], and saved files' paths."""
        stamp = f"[{reply.local_time}] " if reply.local_time else ""
        for part in base.parts(reply, LIMITS):
            if part.text:
                self.write(stamp + part.text)
            if part.rows:
                self.labels = {b.label.casefold(): b.action for row in part.rows for b in row}
                for row in part.rows:
                    self.write(" ".join(f"[{b.label}]" for b in row))
            for attachment in part.files:
                self._save(attachment, "chart" if attachment is reply.image else "export")
        if reply.kind is Kind.ERASED:
            # Everything stored about the person is gone; so are the files made for them.
            shutil.rmtree(self.own_dir, ignore_errors=True)

    def _save(self, attachment: Attachment, noun: str) -> None:
        path = self.own_dir / attachment.filename
        try:
            _save_private(path, attachment.data)
        except OSError:
            # One lost file must not end the conversation and the rest of its input.
            self.write(f"Could not save the {noun}: {self.files_dir} is not writable.")
            return
        self.write(f"({'image' if noun == 'chart' else 'file'} saved: {path})")

    def write(self, text: str) -> None:
        """One block of output, followed by a blank line between messages."""
        print(text, file=self.out, flush=True)

    async def run(self, stdin: TextIO | None = None) -> int:
        """The read-reply loop until end of input (or /quit on a terminal)."""
        stdin = stdin or sys.stdin
        interactive = stdin.isatty()
        if interactive:
            self.write("si-checkin in your terminal. Type /start to begin, /quit to leave.")
        while True:
            if interactive:
                print("you> ", end="", file=self.out, flush=True)
            line = await asyncio.to_thread(stdin.readline)
            if not line:
                return 0
            line = line.rstrip("\n")
            if interactive and line.strip() in ("/quit", "/exit"):
                return 0
            await self.handle_line(line)


def _folder_name(user: str) -> str:
    """A safe, distinct folder name for a console user: readable prefix, then a short hash."""
    readable = re.sub(r"[^A-Za-z0-9_-]", "_", user)[:32] or "user"
    digest = hashlib.sha256(user.encode()).hexdigest()[:8]
    return f"{readable}-{digest}"


def _save_private(path: Path, data: bytes) -> None:
    """Write a file only its owner can read (health data), in a folder only they can open."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(path.parent, 0o700)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
