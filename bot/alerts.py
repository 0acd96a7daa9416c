"""What a tap on a club post says in the small private alert a platform shows only the tapper.

A club post lives in a group, so nothing a member taps may answer in the group. Where the
platform has a private alert (Telegram's callback answer, at most 200 characters), the short
acknowledgement goes there and everything else (advice, the safety check, the consent step)
goes by direct message. This module decides what the alert says from the typed replies, so an
edge never reads or cuts the wording itself.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.events import Kind, Reply

# What the person must do next when the direct message could not reach them.
SENT_PRIVATELY = "I've sent you a private message."
# A club tap from someone the bot cannot message: nothing was stored (consent comes first).
OPEN_CHAT_FIRST = "Open a chat with @{bot} and press Start, then tap again."
# A club tap that was recorded, but what follows it (advice, a safety check) could not go.
OPEN_CHAT = "I have a private message for you: open a chat with @{bot} and press Start."
MORE_IN_CHAT = "More in a chat with @{bot}."
DM_ME = "Message me directly (open my profile and tap Start) so your answers stay private."
# Below this the acknowledgement cannot keep its first sentence ("Recorded 10/10 for today.")
# beside the notice, and the notice alone is said.
MIN_ACKNOWLEDGEMENT = 25


def shorten(text: str, limit: int) -> str:
    """Text within `limit` characters, cut at a word with an ellipsis when it must be."""
    if len(text) <= limit:
        return text
    cut = text[: max(limit - 1, 0)]
    if " " in cut:
        cut = cut.rsplit(" ", 1)[0]
    return cut.rstrip() + "…"


def alert_text(acknowledgement: str, notice: str, limit: int) -> str:
    """One alert: the acknowledgement, then a notice, within `limit` characters.

    The notice is what the person must do next, so it is kept whole and the acknowledgement
    gives way (its first sentence, the recorded score, comes first and survives a cut).
    """
    if not notice or not acknowledgement:
        return shorten(acknowledgement or notice, limit)
    room = limit - len(notice) - 2
    if room < MIN_ACKNOWLEDGEMENT:
        return shorten(notice, limit)
    return f"{shorten(acknowledgement, room)}\n\n{notice}"


def club_tap_alert(
    said: Sequence[Reply], direct: Sequence[Reply], reached: bool, bot: str, limit: int
) -> str:
    """The alert for a club tap.

    `said` are the replies short enough for the alert, `direct` the ones sent by direct
    message, and `reached` whether those arrived. When they could not: get-help advice is
    said in the alert itself (it cannot wait for a chat to be opened), other advice is named
    by its headline so it is not silently missed, and the notice says how to open the chat.
    """
    acknowledgement = "\n".join(r.text for r in said)
    if reached:
        return alert_text(acknowledgement, SENT_PRIVATELY if direct else "", limit)
    urgent = next((r for r in direct if r.kind is Kind.ADVICE and r.urgent), None)
    if urgent is not None:
        return alert_text(urgent.lead, MORE_IN_CHAT.format(bot=bot), limit)
    advice = next((r for r in direct if r.kind is Kind.ADVICE), None)
    if advice is not None and said:
        title = advice.lead.split(". ", 1)[0].rstrip(".")
        acknowledgement = f"{said[0].lead} {title}."
    notice = OPEN_CHAT if acknowledgement else OPEN_CHAT_FIRST
    return alert_text(acknowledgement, notice.format(bot=bot), limit)
