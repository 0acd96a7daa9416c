"""The bot writes dates in English on any server, whatever its locale (LC_TIME) says."""

from __future__ import annotations

import locale
from collections.abc import Iterator
from datetime import date, timedelta

import pytest

from bot import clubstats, formatting
from bot.chart import format_day

SUNDAY = date(2026, 3, 1)
# Every weekday and every month at least once.
A_YEAR = [date(2026, 1, 1) + timedelta(days=i) for i in range(365)]
# Locales a server may have installed, none of them English; `locale -a` lists a machine's.
FOREIGN_LOCALES = (
    "de_DE.UTF-8",
    "de_DE.utf8",
    "fr_FR.UTF-8",
    "fr_FR.utf8",
    "es_ES.UTF-8",
    "es_ES.utf8",
    "it_IT.UTF-8",
    "nl_NL.UTF-8",
    "pt_BR.UTF-8",
    "ru_RU.UTF-8",
)


class _NoStrftime(date):
    """A date that refuses strftime, so a label built with %a or %b fails loudly."""

    def strftime(self, fmt: str) -> str:
        raise AssertionError(f"strftime({fmt!r}) follows the server's locale")

    def __format__(self, spec: str) -> str:
        if spec:
            raise AssertionError(f"format spec {spec!r} follows the server's locale")
        return super().__format__(spec)


@pytest.fixture
def lc_time() -> Iterator[None]:
    """Put the process's LC_TIME back after a test that changes it."""
    saved = locale.setlocale(locale.LC_TIME)
    yield
    locale.setlocale(locale.LC_TIME, saved)


def test_a_server_in_germany_still_says_sun_1_mar(lc_time: None) -> None:
    for name in FOREIGN_LOCALES:
        try:
            locale.setlocale(locale.LC_TIME, name)
            break
        except locale.Error:
            continue
    else:
        pytest.skip("no non-English locale installed on this machine")
    assert SUNDAY.strftime("%a %b") != "Sun Mar"  # the locale really speaks another language
    assert formatting.day(SUNDAY) == "Sun 1 Mar"
    assert clubstats.period(SUNDAY) == "Sun 1 Mar"
    assert format_day(SUNDAY) == "1 Mar"


def test_day_and_month_names_do_not_come_from_strftime() -> None:
    for d in A_YEAR:
        plain = _NoStrftime(d.year, d.month, d.day)
        assert formatting.day(plain) == formatting.day(d)
        assert clubstats.period(plain) == formatting.day(d)
        assert format_day(plain) == format_day(d)


def test_the_names_are_the_ones_strftime_gives_in_the_c_locale(lc_time: None) -> None:
    locale.setlocale(locale.LC_TIME, "C")
    for d in A_YEAR:
        assert formatting.day(d) == f"{d:%a} {d.day} {d:%b}"
        assert format_day(d) == f"{d.day} {d:%b}"


def test_today_and_yesterday_are_words() -> None:
    assert formatting.day(SUNDAY, SUNDAY) == "today"
    assert formatting.day(SUNDAY - timedelta(days=1), SUNDAY) == "yesterday"
    assert formatting.day(SUNDAY - timedelta(days=2), SUNDAY) == "Fri 27 Feb"
