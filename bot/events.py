"""Platform-neutral events: what a person did (Incoming) and what the bot says (Reply)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
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
    # The person's language tag as their app reports it ("en-US", "de"): it suggests zones.
    locale: str | None = None
    # A location the person shared (latitude, longitude): read for its time zone, never kept.
    location: tuple[float, float] | None = field(default=None, repr=False)

    @property
    def address(self) -> Address:
        """The chat this came from."""
        return Address(self.platform, self.chat_id)


class Role(StrEnum):
    """What a button does, so an edge can show it the platform's way (colour, order)."""

    ANSWER = "answer"  # records what the person says: a score, a choice
    CONFIRM = "confirm"  # goes ahead with what was asked
    CANCEL = "cancel"  # leaves things as they are
    DANGER = "danger"  # cannot be undone
    # Asks for the person's location (for their time zone). An edge that can ask shows the
    # reply's buttons as a keyboard that sends each label as typed text, so the core reads
    # those labels as typed answers too; an edge that cannot ask leaves the button out.
    LOCATION = "location"


@dataclass(frozen=True, slots=True)
class Button:
    """A button: what the person sees, the action payload it sends back, and its role."""

    label: str
    action: str
    role: Role = Role.ANSWER


@dataclass(frozen=True, slots=True)
class Attachment:
    """A file the bot sends: a chart image or an export."""

    filename: str
    data: bytes
    mime: str


class Kind(StrEnum):
    """What a reply is. Edges route and render on this, never on the wording."""

    ANSWER = "answer"  # an answer to what the person did: a confirmation, a list, a prompt
    ADVICE = "advice"  # escalation advice; `tier` says which, `urgent` whether it is get-help
    SCREEN = "screen"  # the red-flag screen, with its buttons
    REMINDER = "reminder"  # a reminder the bot starts; `reminder` says which kind
    CLUB_POST = "club_post"  # a post to a group channel, for everyone in it
    ERROR = "error"  # a refusal or a failure, meant for the person who caused it
    ERASED = "erased"  # everything about the person is gone: edges drop what they keep


@dataclass(frozen=True, slots=True)
class Reply:
    """One message from the bot, typed so an edge never has to read its text.

    `private` replies carry personal data: in a group they must reach only the person
    (Telegram callback alert or DM, Discord ephemeral or DM), never the chat. `to` sends the
    reply to another chat (a DM) instead of the current one. `headline` is the part that
    must survive when the reply is cut to fit somewhere small (an alert): the recorded score
    of a confirmation, the title of advice; empty means the first line of `text`.
    """

    text: str
    buttons: tuple[tuple[Button, ...], ...] = ()
    image: Attachment | None = None
    document: Attachment | None = None
    private: bool = False
    to: Address | None = None
    kind: Kind = Kind.ANSWER
    headline: str = ""
    tier: str | None = None
    urgent: bool = False
    reminder: str | None = None
    # When a reminder was due, in the person's own zone ("Mon 07:30"): the console shows it.
    local_time: str | None = None
    # A reminder the queue made late, to go as a Telegram paid broadcast (the dispatcher sets
    # it past TELEGRAM_PAID_BROADCAST_AFTER; other edges ignore it).
    paid_broadcast: bool = False

    @property
    def lead(self) -> str:
        """The headline, or the first line of the text when there is none."""
        return self.headline or self.text.split("\n", 1)[0]

    def sent_to(self, address: Address) -> Reply:
        """The same reply addressed to another chat, privately."""
        return replace(self, private=True, to=address)
