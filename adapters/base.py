"""What every platform edge does the same way: where a reply goes and how it is cut to fit.

A platform adapter translates its events into `Incoming`, hands them to the engine, and renders
the typed `Reply`s it gets back. Deciding the destination of a reply, splitting its text, laying
out its buttons and cutting labels happen here, once, from each platform's limits; the adapter
only turns the resulting `Part`s into its own API calls (and escapes text its own way).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from bot.events import Address, Attachment, Button, ChatKind, Incoming, Reply, Role
from bot.formatting import split_text


@dataclass(frozen=True, slots=True)
class PlatformLimits:
    """One platform's message limits, as its API documents them."""

    text: int  # characters of text in one message
    caption: int  # characters of text that may go with a file in the same message
    row_width: int  # buttons per row
    max_rows: int | None = None  # rows per message; None: as many as needed
    label: int | None = None  # characters per button label
    payload: int | None = None  # bytes of a button's payload
    files_per_message: int = 1
    location: bool = False  # can ask for the person's location (a Role.LOCATION button)


# The console prints everything as it is.
UNLIMITED = PlatformLimits(text=1 << 30, caption=1 << 30, row_width=1 << 10)


@dataclass(slots=True)
class Part:
    """One platform message: text, a keyboard, files (at least one of them)."""

    text: str = ""
    rows: list[list[Button]] = field(default_factory=list)
    files: list[Attachment] = field(default_factory=list)

    @property
    def file(self) -> Attachment | None:
        """The file of a platform that sends one per message."""
        return self.files[0] if self.files else None


def destination(inc: Incoming, reply: Reply) -> Address:
    """Where a reply to an event goes: its `to`, the person's own chat for a private reply to
    something done in a group (the platform has no message only one member sees), or back
    where the event came from."""
    if reply.to is not None:
        return reply.to
    if reply.private and inc.chat_kind is ChatKind.GROUP:
        return Address(inc.platform, inc.user_id)
    return inc.address


def cut_label(text: str, limit: int | None) -> str:
    """A button label within `limit` characters, an ellipsis where it was cut."""
    if limit is None or len(text) <= limit:
        return text
    return text[: limit - 1] + "…"


def layout(buttons: Sequence[Sequence[Button]], limits: PlatformLimits) -> list[list[list[Button]]]:
    """The reply's button rows as keyboards: kept as they are when they fit, else reflowed in
    order, rows of `row_width`; one keyboard per message needed.

    Labels are cut to the limit; a button whose payload the platform would refuse (which
    would lose the whole message) is left out, and so is a location request where the
    platform cannot ask for one; more buttons than one message holds spill onto further
    messages rather than being dropped.
    """
    rows = [
        [
            Button(cut_label(b.label, limits.label), b.action, b.role)
            for b in row
            if (limits.payload is None or len(b.action.encode()) <= limits.payload)
            and (limits.location or b.role is not Role.LOCATION)
        ]
        for row in buttons
    ]
    rows = [row for row in rows if row]
    if not rows:
        return []
    fits = all(len(row) <= limits.row_width for row in rows)
    if fits and (limits.max_rows is None or len(rows) <= limits.max_rows):
        return [rows]
    flat = [b for row in rows for b in row]
    reflowed = [flat[i : i + limits.row_width] for i in range(0, len(flat), limits.row_width)]
    per_message = limits.max_rows or len(reflowed)
    return [reflowed[i : i + per_message] for i in range(0, len(reflowed), per_message)]


def parts(reply: Reply, limits: PlatformLimits) -> list[Part]:
    """A reply as platform messages, in the order they are sent.

    Files first (the reply's text goes with the last one when it fits there whole), then the
    text split at paragraph, line or word boundaries; the keyboard rides on the last message,
    and any further keyboard (more buttons than one message holds) follows on its own.
    """
    texts = split_text(reply.text, limits.text) if reply.text.strip() else []
    files = [a for a in (reply.image, reply.document) if a is not None]
    out: list[Part] = []
    step = max(limits.files_per_message, 1)
    for i in range(0, len(files), step):
        out.append(Part(files=files[i : i + step]))
    if out and len(texts) == 1 and len(texts[0]) <= limits.caption:
        out[-1].text = texts.pop()
    out += [Part(text=t) for t in texts]
    keyboards = layout(reply.buttons, limits)
    if keyboards:
        if out:
            out[-1].rows = keyboards[0]
        else:
            out.append(Part(rows=keyboards[0]))
        out += [Part(rows=k) for k in keyboards[1:]]
    return out
