"""What a command is called, says and takes, and where it may be used."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Option:
    """A typed argument of a command (a slash-command option on Discord)."""

    name: str
    description: str
    kind: str = "str"  # "str" | "int"
    required: bool = False
    min_value: int | None = None
    max_value: int | None = None
    choices: tuple[str, ...] = ()
    autocomplete: str | None = None  # "timezone"


@dataclass(frozen=True, slots=True)
class CommandSpec:
    """One command: its name, one-line help, options, and where it may be used."""

    name: str
    description: str
    options: tuple[Option, ...] = field(default=())
    needs_consent: bool = True
    in_help: bool = True
    console_only: bool = False
    group_ok: bool = False
    # Its words are read like a message before consent too (red flags, a score to carry).
    reads_text: bool = False
