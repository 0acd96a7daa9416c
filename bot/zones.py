"""Which time zones a person's language tag suggests, and the zone of a shared location.

Pure lookups: a tag in, zone keys out ("en-US" -> New York, Chicago, Denver, Los Angeles);
coordinates in, a zone key out, read offline from timezonefinder's bundled boundaries.
Nothing here keeps or logs a location.
"""

from __future__ import annotations

import functools
import math
import re
from importlib import resources

from timezonefinder import TimezoneFinder

from bot import parsing

# Countries spanning several zones people live in: the big ones, most people first. A country
# not listed gets the first zone the tz database gives it (zone.tab).
_COUNTRY_ZONES: dict[str, tuple[str, ...]] = {
    **parsing.MULTI_ZONE_COUNTRIES,
    "ID": ("Asia/Jakarta", "Asia/Makassar", "Asia/Jayapura"),
    "AR": ("America/Argentina/Buenos_Aires",),
    "ES": ("Europe/Madrid",),
    "PT": ("Europe/Lisbon",),
    "NZ": ("Pacific/Auckland",),
    "CN": ("Asia/Shanghai",),
    "DE": ("Europe/Berlin",),
    "GB": ("Europe/London",),
    "UK": ("Europe/London",),  # not a country code, but apps send it
    "KZ": ("Asia/Almaty",),
    "CL": ("America/Santiago",),
    "UA": ("Europe/Kyiv",),
}

# A language alone says less: where most of its speakers live.
_LANGUAGE_ZONES: dict[str, tuple[str, ...]] = {
    "en": (
        "Europe/London",
        "America/New_York",
        "America/Chicago",
        "America/Los_Angeles",
        "Australia/Sydney",
        "Asia/Kolkata",
    ),
    "de": ("Europe/Berlin",),
    "fr": ("Europe/Paris",),
    "es": (
        "Europe/Madrid",
        "America/Mexico_City",
        "America/Bogota",
        "America/Argentina/Buenos_Aires",
    ),
    "pt": ("America/Sao_Paulo", "Europe/Lisbon"),
    "it": ("Europe/Rome",),
    "nl": ("Europe/Amsterdam",),
    "pl": ("Europe/Warsaw",),
    "ru": ("Europe/Moscow",),
    "uk": ("Europe/Kyiv",),
    "ja": ("Asia/Tokyo",),
    "ko": ("Asia/Seoul",),
    "zh": ("Asia/Shanghai", "Asia/Taipei", "Asia/Hong_Kong"),
    "tr": ("Europe/Istanbul",),
    "sv": ("Europe/Stockholm",),
    "da": ("Europe/Copenhagen",),
    "nb": ("Europe/Oslo",),
    "nn": ("Europe/Oslo",),
    "no": ("Europe/Oslo",),
    "fi": ("Europe/Helsinki",),
    "cs": ("Europe/Prague",),
    "sk": ("Europe/Bratislava",),
    "hu": ("Europe/Budapest",),
    "ro": ("Europe/Bucharest",),
    "bg": ("Europe/Sofia",),
    "el": ("Europe/Athens",),
    "hr": ("Europe/Zagreb",),
    "sr": ("Europe/Belgrade",),
    "sl": ("Europe/Ljubljana",),
    "lt": ("Europe/Vilnius",),
    "lv": ("Europe/Riga",),
    "et": ("Europe/Tallinn",),
    "ca": ("Europe/Madrid",),
    "eu": ("Europe/Madrid",),
    "gl": ("Europe/Madrid",),
    "ga": ("Europe/Dublin",),
    "he": ("Asia/Jerusalem",),
    "iw": ("Asia/Jerusalem",),
    "ar": ("Asia/Riyadh", "Africa/Cairo", "Asia/Dubai"),
    "fa": ("Asia/Tehran",),
    "hi": ("Asia/Kolkata",),
    "id": ("Asia/Jakarta",),
    "ms": ("Asia/Kuala_Lumpur",),
    "th": ("Asia/Bangkok",),
    "vi": ("Asia/Ho_Chi_Minh",),
}

# No tag at all: a spread of big zones, west of Greenwich to the far east.
WORLD = (
    "Europe/London",
    "Europe/Berlin",
    "America/New_York",
    "America/Chicago",
    "America/Los_Angeles",
    "Australia/Sydney",
)

_TAG = re.compile(r"([a-z]{2,3})(?:[-_][a-z]{4})?(?:[-_]([a-z]{2}|[0-9]{3}))?(?:[-_].*)?")
# timezonefinder names the open sea by its hour offset with POSIX's inverted sign.
_SEA = re.compile(r"Etc/GMT([+-])(\d{1,2})")


@functools.cache
def _country_table() -> dict[str, tuple[str, ...]]:
    """Country code -> its zones in the tz database's order (zone.tab), or {} without it."""
    try:
        table = resources.files("tzdata.zoneinfo").joinpath("zone.tab").read_text("utf-8")
    except (ModuleNotFoundError, FileNotFoundError, OSError):
        return {}
    found: dict[str, list[str]] = {}
    for line in table.splitlines():
        if line and not line.startswith("#"):
            fields = line.split("\t")
            found.setdefault(fields[0], []).append(fields[2])
    return {code: tuple(keys) for code, keys in found.items()}


def likely_zones(locale: str | None) -> tuple[str, ...]:
    """The zones a language tag suggests, likeliest first ("en-US" -> four US zones)."""
    match = _TAG.fullmatch((locale or "").strip().lower())
    if match is None:
        return WORLD
    language, region = match.group(1), (match.group(2) or "").upper()
    if region in _COUNTRY_ZONES:
        return _COUNTRY_ZONES[region]
    if region and (listed := _country_table().get(region)):
        return listed[:1]
    return _LANGUAGE_ZONES.get(language, WORLD)


def label(key: str) -> str:
    """The place a zone is named after, as people write it ("America/New_York" -> "New York").

    parse_timezone reads every label back as its zone, so a label may also arrive typed.
    """
    if "/" not in key:
        return key
    return key.rsplit("/", 1)[-1].replace("_", " ")


@functools.cache
def _finder() -> TimezoneFinder:
    # Reads the boundaries from disk as needed: a few MB of memory, about 0.1 ms a look-up.
    return TimezoneFinder(in_memory=False)


def zone_at(latitude: float, longitude: float) -> str | None:
    """The zone key (as parse_timezone gives them) at a place, None when there is none."""
    if not (math.isfinite(latitude) and math.isfinite(longitude)):
        return None
    if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        return None
    found = _finder().timezone_at(lng=longitude, lat=latitude)
    if found is None:
        return None
    if sea := _SEA.fullmatch(found):
        sign = "-" if sea.group(1) == "+" else "+"
        return parsing.parse_timezone(f"{sign}{sea.group(2)}")
    if found in ("Etc/UTC", "Etc/GMT", "UTC"):
        return "UTC"
    try:
        parsing.zone(found)
    except ValueError:
        return None
    return found
