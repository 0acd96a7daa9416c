"""The one registry the engine runs: every listed command has a handler, every handler is
listed, every button kind is handled once, and /help shows the catalogue as it stands."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from types import ModuleType

import pytest

from bot import actions, handlers
from bot.app import App
from bot.commands import BY_NAME, COMMANDS, HANDLERS, public_commands
from bot.context import Handlers
from tests.conftest import Chat

# What /help, Telegram's menu and Discord's slash commands show, in this order: changing it
# changes what people see, so it changes here on purpose.
SHOWN = (
    "start",
    "checkin",
    "log",
    "run",
    "note",
    "undo",
    "history",
    "report",
    "today",
    "symptoms",
    "checked",
    "exercises",
    "exercise",
    "strength",
    "ladder",
    "timezone",
    "settings",
    "remind",
    "quiet",
    "pause",
    "resume",
    "stop",
    "club",
    "streak",
    "export",
    "delete",
    "help",
)


def handler_modules() -> list[ModuleType]:
    """Every module of bot.handlers, imported."""
    return [
        importlib.import_module(f"{handlers.__name__}.{info.name}")
        for info in pkgutil.iter_modules(handlers.__path__)
    ]


def test_every_listed_command_has_a_handler() -> None:
    for spec, handler in COMMANDS:
        assert inspect.iscoroutinefunction(handler), spec.name
        assert HANDLERS.command(spec.name) == (spec, handler)


def test_every_command_handler_is_listed_with_a_spec() -> None:
    listed = {handler for _, handler in COMMANDS}
    written = {
        f"{module.__name__}.{name}": function
        for module in handler_modules()
        for name, function in vars(module).items()
        if name.startswith("cmd_") and getattr(function, "__module__", None) == module.__name__
    }
    assert written, "no command handlers found: the search above is broken"
    assert sorted(name for name, function in written.items() if function not in listed) == []


def test_every_button_kind_has_exactly_one_handler() -> None:
    assert sorted(HANDLERS.actions) == sorted(actions._KINDS)
    for kind, handler in HANDLERS.actions.items():
        assert inspect.iscoroutinefunction(handler), kind


def test_the_catalogue_keeps_its_order_and_the_console_command_last() -> None:
    assert tuple(spec.name for spec in public_commands()) == SHOWN
    assert list(BY_NAME) == [*SHOWN, "advance"]
    assert BY_NAME["advance"].console_only


def test_a_command_listed_twice_fails_when_the_registry_is_built() -> None:
    with pytest.raises(ValueError, match="commands registered twice: start"):
        Handlers(commands=(COMMANDS[0], COMMANDS[0]), actions={})


async def test_the_running_engine_uses_the_registry(app: App) -> None:
    assert app.engine.handlers is HANDLERS


async def test_help_shows_the_catalogue_in_order_with_its_wording(app: App) -> None:
    reply = await Chat(app, "ann").say("/help")
    lines = [line for line in reply.splitlines() if line.startswith("/")]
    assert lines == [f"/{spec.name} - {spec.description}" for spec in public_commands()]
