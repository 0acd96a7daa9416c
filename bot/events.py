"""Platform-neutral events: what a person did (Incoming) and what the bot says (Reply)."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class ChatKind(StrEnum):
    """Where a message came from: a one-to-one chat or a group/channel."""

    PRIVATE = "private"
    GROUP = "group"


@dataclass(frozen=True, slots=True)
class Address:
    """Where to send something: a chat on one platform."""

    platform: str
    chat_id: str


@dataclass(frozen=True, slots=True)
class Incoming:
    """One thing a person did: typed text or pressed a button (action payload)."""

    platform: str
    user_id: str
    chat_id: str
    text: str | None = None
    action: str | None = None
    chat_kind: ChatKind = ChatKind.PRIVATE
    is_admin: bool = False
    tz_hint: str | None = None
    # Only stored for someone who opts in to appear in club streaks.
    display_name: str | None = None

    @property
    def address(self) -> Address:
        """The chat this came from."""
        return Address(self.platform, self.chat_id)


@dataclass(frozen=True, slots=True)
class Button:
    """A button: what the person sees and the action payload it sends back."""

    label: str
    action: str


@dataclass(frozen=True, slots=True)
class Attachment:
    """A file the bot sends: a chart image or an export."""

    filename: str
    data: bytes
    mime: str


@dataclass(frozen=True, slots=True)
class Reply:
    """One message from the bot.

    `private` replies carry personal data: in a group they must reach only the
    person (Telegram callback alert or DM, Discord ephemeral or DM), never the chat.
    `to` sends the reply to another chat (a DM) instead of the current one.
    """

    text: str
    buttons: tuple[tuple[Button, ...], ...] = ()
    image: Attachment | None = None
    document: Attachment | None = None
    private: bool = False
    to: Address | None = None
    meta: dict[str, str] = field(default_factory=dict, compare=False)
