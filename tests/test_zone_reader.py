"""Time zones as people type them: abbreviations, cities (misspelt too), offsets."""

from __future__ import annotations

import pytest

from bot.app import App
from bot.parsing import parse_timezone, suggest_timezones, zone, zone_label
from tests.conftest import Chat

NEW_YORK = "America/New_York"
CHICAGO = "America/Chicago"
DENVER = "America/Denver"
LA = "America/Los_Angeles"
LONDON = "Europe/London"
BERLIN = "Europe/Berlin"

# What people type for their zone, and the zone they mean.
ZONES = {
    # Abbreviations: the zone that follows the clocks where people say them, summer time too.
    "EST": NEW_YORK,
    "est": NEW_YORK,
    "EDT": NEW_YORK,
    "ET": NEW_YORK,
    "Eastern": NEW_YORK,
    "eastern time": NEW_YORK,
    "US Eastern": NEW_YORK,
    "CST": CHICAGO,
    "CDT": CHICAGO,
    "CT": CHICAGO,
    "central time": CHICAGO,
    "MST": DENVER,
    "MDT": DENVER,
    "MT": DENVER,
    "mountain time": DENVER,
    "PST": LA,
    "PDT": LA,
    "PT": LA,
    "pacific time": LA,
    "AKST": "America/Anchorage",
    "AKDT": "America/Anchorage",
    "HST": "Pacific/Honolulu",
    "Hawaii": "Pacific/Honolulu",
    "AST": "America/Halifax",
    "NST": "America/St_Johns",
    "GMT": "UTC",
    "UTC": "UTC",
    "BST": LONDON,
    "UK time": LONDON,
    "IST": "Asia/Kolkata",
    "CET": BERLIN,
    "CEST": BERLIN,
    "MEZ": BERLIN,
    "EET": "Europe/Athens",
    "EEST": "Europe/Athens",
    "WET": "Europe/Lisbon",
    "west coast": LA,
    "MSK": "Europe/Moscow",
    "JST": "Asia/Tokyo",
    "KST": "Asia/Seoul",
    "AEST": "Australia/Sydney",
    "AEDT": "Australia/Sydney",
    "ACST": "Australia/Adelaide",
    "ACDT": "Australia/Adelaide",
    "AWST": "Australia/Perth",
    "NZST": "Pacific/Auckland",
    "NZDT": "Pacific/Auckland",
    "SGT": "Asia/Singapore",
    "HKT": "Asia/Hong_Kong",
    "PHT": "Asia/Manila",
    "WIB": "Asia/Jakarta",
    "ICT": "Asia/Bangkok",
    "PKT": "Asia/Karachi",
    "GST": "Asia/Dubai",
    "SAST": "Africa/Johannesburg",
    "EAT": "Africa/Nairobi",
    "WAT": "Africa/Lagos",
    "CAT": "Africa/Maputo",
    "BRT": "America/Sao_Paulo",
    "ART": "America/Argentina/Buenos_Aires",
    "est.": NEW_YORK,
    "(CET)": BERLIN,
    # Cities, as written and misspelt.
    "Berlin": BERLIN,
    "berlin": BERLIN,
    "berln": BERLIN,
    "Berlim": BERLIN,
    "new york": NEW_YORK,
    "new yrok": NEW_YORK,
    "newyork": NEW_YORK,
    "New York City": NEW_YORK,
    "londn": LONDON,
    "Lodnon": LONDON,
    "london uk": LONDON,
    "Paris": "Europe/Paris",
    "pairs": "Europe/Paris",
    "los angelos": LA,
    "Los Angeles": LA,
    "san fransisco": LA,
    "sydeny": "Australia/Sydney",
    "melbourn": "Australia/Melbourne",
    "amsterdm": "Europe/Amsterdam",
    "madird": "Europe/Madrid",
    "tokio": "Asia/Tokyo",
    "mumbay": "Asia/Kolkata",
    "kolkatta": "Asia/Kolkata",
    "bangkock": "Asia/Bangkok",
    "singapur": "Asia/Singapore",
    "toronot": "America/Toronto",
    "chicgo": CHICAGO,
    "Zürich": "Europe/Zurich",
    "zurich": "Europe/Zurich",
    "münchen": BERLIN,
    "munich": BERLIN,
    "São Paulo": "America/Sao_Paulo",
    "sao paulo": "America/Sao_Paulo",
    "Europe/Berlin": BERLIN,
    "europe/berlin": BERLIN,
    "America/New York": NEW_YORK,
    "Berlin, Germany": BERLIN,
    # Offsets.
    "+02:00": "UTC+02:00",
    "UTC+2": "UTC+02:00",
    "GMT-3": "UTC-03:00",
    "-0530": "UTC-05:30",
}
# Not a zone, or not one zone: no key, so nothing changes on a guess.
NOT_ZONES = [
    "",
    "Atlantis",
    "Narnia",
    "Mordor",
    "Gotham",
    "Hogwarts",
    "home",
    "here",
    "my place",
    "idk",
    "tomorrow",
    "8",
    "4",
    "asdf",
    "earth",
    "europe",
    "america",
    "usa",
    "us",
    "canada",
    "australia",
    "time",
    "zone",
    "the usual",
    "+15",
    "-13",
    "+05:75",
    "../../etc/passwd",
    "Mars",
    "xyz",
    "abc",
    "hello",
    "yes",
    "ok",
    "the",
    "summer",
    "winter time",
    "local",
]


def test_zones_as_people_type_them_measured_on_a_corpus(capsys) -> None:
    got = {text: parse_timezone(text) for text in [*ZONES, *NOT_ZONES]}
    right = [t for t, want in ZONES.items() if got[t] == want]
    wrong = [(t, want, got[t]) for t, want in ZONES.items() if got[t] != want]
    false = [(t, got[t]) for t in NOT_ZONES if got[t] is not None]
    with capsys.disabled():
        print(
            f"\nzone corpus: {len(right)}/{len(ZONES)} read right, "
            f"{len(false)} zones read from {len(NOT_ZONES)} non-zones"
        )
        for text, want, read in wrong:
            print(f"  {text!r}: expected {want}, read {read}")
        for text, read in false:
            print(f"  {text!r}: read {read} from a non-zone")
    assert false == []
    assert wrong == []
    for key in {key for key in got.values() if key is not None}:
        assert zone(key) is not None


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("CET", "Central European Time"),
        ("cest", "Central European Time"),
        ("EST", "Eastern Time"),
        ("PST", "Pacific Time"),
        ("IST", "India Standard Time"),
        ("BST", "UK time"),
        ("AEST", "Australian Eastern Time"),
    ],
)
def test_an_abbreviation_is_named_in_words(text: str, label: str) -> None:
    assert zone_label(text) == label


def test_a_city_or_key_needs_no_name_in_words() -> None:
    assert zone_label("Berlin") is None
    assert zone_label("Europe/Berlin") is None
    assert zone_label("Atlantis") is None


def test_autocomplete_puts_the_zone_an_abbreviation_means_first() -> None:
    assert suggest_timezones("EST")[0] == NEW_YORK
    assert suggest_timezones("CET")[0] == BERLIN
    assert suggest_timezones("IST")[0] == "Asia/Kolkata"
    assert suggest_timezones("new yrok")[0] == NEW_YORK
    assert suggest_timezones("berln")[0] == BERLIN
    # Three letters are matched at the start of a name, not found inside one.
    assert "Europe/Bucharest" not in suggest_timezones("EST")


def test_a_country_with_several_zones_suggests_them() -> None:
    assert suggest_timezones("usa", limit=4) == [NEW_YORK, CHICAGO, DENVER, LA]


async def test_timezone_takes_an_abbreviation_and_says_what_it_means(app: App) -> None:
    ann = Chat(app, "ann")
    await ann.onboard()
    reply = await ann.say("/timezone CET")
    assert "Time zone set to Central European Time (Europe/Berlin)" in reply
    reply = await ann.say("/timezone EST")
    assert "Time zone set to Eastern Time (America/New_York)" in reply


async def test_timezone_finds_a_misspelt_city(app: App) -> None:
    ann = Chat(app, "ann")
    await ann.onboard()
    assert "Time zone set to America/New_York" in await ann.say("/timezone new yrok")
    assert "Time zone set to Europe/Berlin" in await ann.say("/timezone berln")


async def test_an_unknown_zone_changes_nothing(app: App) -> None:
    ann = Chat(app, "ann")
    await ann.onboard()
    reply = await ann.say("/timezone Atlantis")
    assert "I don't know that time zone" in reply
    assert "Your time zone is UTC" in await ann.say("/timezone")
