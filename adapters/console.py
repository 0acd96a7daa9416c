"""A terminal chat with the bot: the embedded default, no token, no network.

Interactive on a terminal; scriptable when stdin is not one (one message per line until
end of input, every reply on stdout). Buttons print as [label]; typing a label presses it.
Files the bot sends are saved under the data directory and their path is printed.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TextIO

from bot.engine import Engine
from bot.events import Address, Incoming, Reply

PLATFORM = "console"


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
        text = reply.text
        if stamp := reply.meta.get("local_time"):
            text = f"[{stamp}] {text}"
        self.write(text)
        if reply.buttons:
            self.labels = {b.label.casefold(): b.action for row in reply.buttons for b in row}
            for row in reply.buttons:
                self.write(" ".join(f"[{b.label}]" for b in row))
        for kind, noun, attachment in (
            ("image", "chart", reply.image),
            ("file", "export", reply.document),
        ):
            if attachment is not None:
                path = self.files_dir / attachment.filename
                try:
                    self.files_dir.mkdir(parents=True, exist_ok=True)
                    path.write_bytes(attachment.data)
                except OSError:
                    # One lost file must not end the session and the rest of its input.
                    self.write(f"Could not save the {noun}: {self.files_dir} is not writable.")
                    continue
                self.write(f"({kind} saved: {path})")

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
