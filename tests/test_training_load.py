"""Training load in conversation: /run with its details, the optional distance ranges, the
weekly load in /history and on the chart, and the "hold your mileage" rule of thumb."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from pathlib import Path

from bot.app import App
from bot.chart import ChartData, build_figure, render_history, week_blocks
from bot.trends import HistoryView, Tier, assess, load_jump, pain_rising
from tests.conftest import START, Chat, row_counts

TODAY = START.date()


def export_rows(reply: str) -> list[list[str]]:
    path = reply.split("(file saved: ")[1].split(")")[0]
    return list(csv.reader(io.StringIO(Path(path).read_text(encoding="utf-8"))))


def run_rows(rows: list[list[str]]) -> list[tuple[str, str, str, str]]:
    return [(r[1], r[2], r[3], r[4]) for r in rows if r[0] == "run"]


async def test_a_run_with_its_details_is_stored_and_exported(app: App) -> None:
    ann = Chat(app, "ann")
    await ann.onboard()
    said = await ann.say("/run 4 after 8k 45min trail")
    assert "Recorded 4/10 after your run for today. Run: 8 km, 45 min, trail." in said
    assert "How far was it?" not in said  # the distance is known: no ranges offered
    rows = run_rows(export_rows(await ann.say("/export")))
    day = TODAY.isoformat()
    assert (day, "distance_km", "8", "as km") in rows
    assert (day, "minutes", "45", "") in rows
    assert (day, "surface", "trail", "") in rows


async def test_a_score_without_distance_offers_ranges_and_a_tap_stores_one(app: App) -> None:
    ann = Chat(app, "ann")
    await ann.onboard()
    said = await ann.say("/run 3")
    assert "Recorded 3/10 after your run for today." in said
    assert "How far was it? Tap a range if you like; it's optional." in said
    assert "[Under 5 km] [5-10 km] [10-15 km] [15-21 km] [Over 21 km]" in said
    assert "Noted: 5-10 km for today's run." in await ann.say("5-10 km")
    rows = run_rows(export_rows(await ann.say("/export")))
    assert (TODAY.isoformat(), "distance_km", "7.5", "as km, range 5-10 km") in rows
    # The keyboard went with the tap: the same label typed again is no tap.
    assert (await row_counts(app))["runs"] == 1


async def test_no_one_has_to_answer_the_distance(app: App) -> None:
    ann = Chat(app, "ann")
    await ann.onboard()
    assert "[5-10 km]" in await ann.say("/run 3 during")
    assert "Recorded 4/10 for today" in await ann.say("4")  # the next score goes on as usual
    assert (await row_counts(app))["runs"] == 0


async def test_someone_who_gave_miles_is_offered_miles(app: App) -> None:
    ann = Chat(app, "ann")
    await ann.onboard()
    said = await ann.say("/run 3 after 5 miles yesterday")
    assert "Recorded 3/10 after your run for yesterday. Run: 5 mi." in said
    offered = await ann.say("/run 2")
    assert "[Under 3 mi] [3-6 mi] [6-9 mi] [9-13 mi] [Over 13 mi]" in offered
    assert "Noted: 3-6 mi for today's run." in await ann.say("3-6 mi")


async def test_run_alone_asks_the_score_with_buttons_and_a_tap_offers_ranges(app: App) -> None:
    ann = Chat(app, "ann")
    await ann.onboard()
    asked = await ann.say("/run")
    assert "How was your SI pain after your run, from 0 (none) to 10?" in asked
    assert "[0] [1] [2] [3] [4] [5]" in asked
    tapped = await ann.say("4")
    assert "Recorded 4/10 after your run for today." in tapped
    assert "[Under 5 km]" in tapped
    during = await ann.say("/run during yesterday")
    assert "How was your SI pain during your run (yesterday)" in during
    assert "Recorded 6/10 during your run for yesterday." in await ann.say("6")


async def test_details_without_a_score_are_kept_and_the_score_asked(app: App) -> None:
    ann = Chat(app, "ann")
    await ann.onboard()
    said = await ann.say("/run 10k 55 min road")
    assert "Noted your run for today: 10 km, 55 min, road." in said
    assert "How was your SI pain after your run" in said
    assert "Recorded 2/10 after your run for today." in await ann.say("2")
    assert (await row_counts(app))["runs"] == 1


async def test_yesterday_keeps_working(app: App) -> None:
    ann = Chat(app, "ann")
    await ann.onboard()
    said = await ann.say("/run 4 after yesterday")
    assert "Recorded 4/10 after your run for yesterday." in said
    assert "[Under 5 km]" in said
    tapped = await ann.say("Under 5 km")
    assert "Noted: Under 5 km for yesterday's run." in tapped
    rows = run_rows(export_rows(await ann.say("/export")))
    yesterday = (TODAY - timedelta(days=1)).isoformat()
    assert (yesterday, "distance_km", "3", "as km, range Under 5 km") in rows


async def test_run_words_that_cannot_be_read_get_one_line_and_change_nothing(app: App) -> None:
    ann = Chat(app, "ann")
    await ann.onboard()
    before = await row_counts(app)
    said = await ann.say("/run 4 after 8klm")
    assert said.startswith("I couldn't read “8klm”. Use /run SCORE")
    assert said.count("\n") <= 1
    assert "I couldn't read “8”" in await ann.say("/run 4 after 8")
    assert (await ann.say("/run banana")).startswith("Use /run SCORE")
    assert (await ann.say("/run 11 after 8k")).startswith("Scores are a whole number from 0 to 10.")
    assert await row_counts(app) == before


async def test_delete_erases_runs_too(app: App) -> None:
    ann = Chat(app, "ann")
    await ann.onboard()
    await ann.say("/run 4 after 8k 45min trail")
    assert (await row_counts(app))["runs"] == 1
    await ann.say("/delete")
    await ann.say("Delete everything")
    assert (await row_counts(app))["runs"] == 0


async def test_a_red_flag_in_run_words_leads_and_no_optional_question_follows(app: App) -> None:
    ann = Chat(app, "ann")
    await ann.onboard()
    said = await ann.say("/run 4 after 8k, and my groin is numb")
    assert said.startswith("Get help now")
    assert "How far was it?" not in said and "[Under 5 km]" not in said
    assert "Recorded 4/10 after your run for today" in said


async def test_history_shows_weekly_load_beside_weekly_pain(app: App) -> None:
    ann = Chat(app, "ann")
    await ann.onboard()
    for score in (3, 4, 3):
        await ann.say(str(score))
        ann.later(days=1)
    await ann.say("3")
    await ann.say("/run 2 after 8k 45min")
    history = await ann.say("/history")
    assert "Running load and average pain:" in history
    assert "Last 7 days: 8 km, 45 min over 1 run; pain 3.3/10" in history
    assert "7 days before: no runs logged; too few scores for pain" in history


async def history_png(chat: Chat) -> bytes:
    said = await chat.say("/history")
    [line] = [ln for ln in said.splitlines() if ln.startswith("(image saved: ")]
    return Path(line.removeprefix("(image saved: ").rstrip(")")).read_bytes()


async def test_the_history_chart_draws_the_distances_run(app: App) -> None:
    """Three runners, the same scores and runs: the chart of the two who gave distances is
    the same, and differs from the chart of the one who gave none, by the load row."""
    people = {name: Chat(app, name) for name in ("ann", "bea", "cal")}
    for chat in people.values():
        await chat.onboard()
    for _ in range(3):
        for name, chat in people.items():
            await chat.say("3")
            await chat.say("/run 2 after" if name == "cal" else "/run 2 after 8k 45min")
        for chat in people.values():
            chat.later(days=1)
    ann, bea, cal = [await history_png(chat) for chat in people.values()]
    assert ann == bea
    assert ann != cal


# ------------------------------------------------------------------ the load rule of thumb


async def five_weeks(ann: Chat, fever_on: int | None = None) -> str:
    """Four weeks of 20 km (6k, 6k, 8k), pain 5 settling to 2; then a 30 km week whose pain
    creeps up to 3 on its last two days, without any run the day before. Returns what the
    first 3/10 (day 32) got."""
    plan = {0: "6k", 2: "6k", 5: "8k"}
    first_rise = ""
    for i in range(33):
        if i:
            ann.later(days=1)
        said = await ann.say("5" if i < 7 else "3" if i == 32 else "2")
        if i == 32:
            first_rise = said
        if i < 28 and i % 7 in plan:
            await ann.say(f"/run 2 after {plan[i % 7]}")
        elif i in (28, 30):
            said = await ann.say("/run 2 after 10k")
            assert "hold your mileage" not in said  # more km, but the pain is not rising
        if i == fever_on:
            await ann.say("/symptoms")
            assert "See a doctor today" in await ann.say("Fever with back pain")
    ann.later(days=1)
    assert "Recorded 3/10" in await ann.say("3")  # day 33: the second day at 3
    return first_rise


async def test_more_than_30_percent_more_km_while_pain_rises_says_hold_your_mileage(
    app: App,
) -> None:
    ann = Chat(app, "ann")
    await ann.onboard()
    # The week's km are in when the pain first creeps up: the daily score brings it.
    said = await five_weeks(ann)
    assert "Recorded 3/10 for today." in said
    assert "Ease off today." in said
    why = said.split("Why: ", 1)[1]
    assert why.startswith(
        "rule of thumb: you ran 28 km in the last 7 days, 56% above your average week of "
        "18 km over the 4 weeks before, while your pain is rising (this week's average "
        "2.1/10 against 2/10 the week before); hold your mileage, don't add more."
    )
    assert "This cut-off is our own rule of thumb" in said
    assert said.index("Recorded 3/10") < said.index("Ease off today")
    # Announced once: the next run in the same 3 days does not say it again.
    again = await ann.say("/run 2 after 10k")
    assert "Recorded 2/10 after your run for today. Run: 10 km." in again
    assert "hold your mileage" not in again
    history = await ann.say("/history")
    assert "That's " in history and "% above your average week of the 4 before" in history


async def test_the_load_rule_stays_quiet_while_an_episode_is_open(app: App) -> None:
    ann = Chat(app, "ann")
    await ann.onboard()
    # A fever 5 days ago opened an episode, and they have not been checked yet: the advice
    # then is not repeated after 3 days, and the rules alone would now say "ease off".
    await five_weeks(ann, fever_on=28)
    said = await ann.say("/run 2 after 10k")
    assert "hold your mileage" not in said and "Ease off today" not in said
    assert "Please don't run until you have been checked" in said
    assert "How far was it?" not in said


# -------------------------------------------------------------- the rule, as pure functions


def test_pain_rising_is_baseline_plus_two_or_a_higher_weekly_mean() -> None:
    flat = {TODAY - timedelta(days=k): 2 for k in range(1, 14)}
    assert pain_rising({**flat, TODAY: 2}, TODAY) is None
    assert pain_rising({**flat, TODAY: 4}, TODAY) == "today 4/10 against your usual 2/10"
    # A rise of a third of a point in the weekly mean counts beside a mileage jump.
    assert pain_rising({**flat, TODAY: 3, TODAY - timedelta(days=1): 3}, TODAY) == (
        "this week's average 2.3/10 against 2/10 the week before"
    )


def test_a_mileage_jump_needs_four_weeks_of_distances_and_more_than_30_percent() -> None:
    weeks = {TODAY - timedelta(days=7 * k + 1): 20.0 for k in range(1, 5)}
    assert load_jump({**weeks, TODAY: 26.0}, TODAY) is None  # exactly 30% more: not more than
    assert load_jump({**weeks, TODAY: 26.5}, TODAY) == (26.5, 20.0)
    recent = {d: km for d, km in weeks.items() if (TODAY - d).days < 28}  # only 3 weeks logged
    assert load_jump({**recent, TODAY: 40.0}, TODAY) is None


def test_the_load_rule_is_a_modify_trigger_of_our_own_and_never_outranks_get_help() -> None:
    days = {TODAY - timedelta(days=k): 2 for k in range(1, 14)}
    km = {TODAY - timedelta(days=7 * k + 1): 20.0 for k in range(1, 5)} | {TODAY: 30.0}
    result = assess(HistoryView(daily={**days, TODAY: 4}, distances=km), TODAY)
    assert result.tier is Tier.MODIFY
    assert any("hold your mileage" in r for r in result.reasons)
    symptoms = {TODAY: frozenset({"fever"})}
    urgent = assess(HistoryView(daily={**days, TODAY: 4}, distances=km, symptoms=symptoms), TODAY)
    assert urgent.tier is Tier.URGENT
    assert not any("hold your mileage" in r for r in urgent.reasons)


# ----------------------------------------------------------------------------- the chart


def test_the_chart_shows_each_runs_km_and_each_weeks_load_beside_its_pain() -> None:
    end = date(2025, 3, 30)
    window = [end - timedelta(days=29 - i) for i in range(30)]
    km = {d: 8.0 for d in window[::3]}
    data = ChartData(
        end=end,
        daily={d: 3 for d in window},
        runs=[(d, 2, "after") for d in km],
        run_km=km,
        run_minutes={d: 45.0 for d in km} | {window[1]: 30.0},
    )
    fig = build_figure(data)
    (bars,) = [ln for ax in fig.axes for ln in ax.get_lines() if ln.get_gid() == "run-km"]
    assert list(bars.get_ydata()) == [8.0] * len(km)
    labels = [t.get_text() for ax in fig.axes for t in ax.texts if t.get_gid() == "week-load"]
    assert labels == [text for _, _, text in week_blocks(data)]
    assert labels[-1] == "16 km · 1 h 30 · pain 3/10"  # the last 7 days: 2 runs of 8 km
    assert render_history(data).startswith(b"\x89PNG")


def test_a_chart_without_distances_keeps_its_layout() -> None:
    end = date(2025, 3, 30)
    plain = ChartData(end=end, daily={end: 3})
    outside = ChartData(end=end, daily={end: 3}, run_km={end - timedelta(days=40): 5.0})
    assert render_history(plain) == render_history(outside)


async def test_while_waiting_to_be_checked_a_tapped_run_gets_the_advice_and_no_ranges(
    app: App,
) -> None:
    ann = Chat(app, "ann")
    await ann.onboard()
    await ann.say("4")
    await ann.say("/symptoms")
    assert "See a doctor today" in await ann.say("Fever with back pain")
    asked = await ann.say("/run")  # what they asked for: the keyboard still comes
    assert "How was your SI pain after your run" in asked and "[10]" in asked
    tapped = await ann.say("3")
    assert "Recorded 3/10 after your run for today." in tapped
    assert "Please don't run until you have been checked." in tapped
    assert "How far was it?" not in tapped


async def test_a_distance_range_typed_is_never_read_as_a_score(app: App) -> None:
    ann = Chat(app, "ann")
    await ann.onboard()
    await ann.say("4")
    said = await ann.say("5-10 km")
    assert "Changed today's score" not in said and "Recorded" not in said, said
    ran = await ann.say("/run 3 after 10-15 km")
    assert "Recorded 3/10 after your run for today. Run: 10-15 km." in ran, ran
    history = await ann.say("/history")
    assert "Mon 2 Mar: 4/10, run after 3/10" in history, history


async def test_a_run_below_zero_is_refused_and_changes_nothing(app: App) -> None:
    ann = Chat(app, "ann")
    await ann.onboard()
    for typed in ("/run -3", "/run minus 2 after", "/run 3 after -8k"):
        said = await ann.say(typed)
        assert "Recorded" not in said and "I couldn't read" in said, said
    assert (await row_counts(app))["runs"] == 0


async def test_a_run_whose_words_call_for_help_says_it_once(app: App) -> None:
    ann = Chat(app, "ann")
    await ann.onboard()
    said = await ann.say("/run 4 after 10k; my groin is numb")
    assert said.index("Get help now") < said.index("Recorded 4/10 after your run")
    assert said.count("Call emergency services") == 1, said


async def test_a_run_before_consent_is_not_kept_as_the_days_score(app: App) -> None:
    ann = Chat(app, "ann")
    asked = await ann.say("/run 4 after 8k")
    assert "Is that OK?" in asked and "I'll record" not in asked, asked
    await ann.say("I agree")
    assert (await row_counts(app))["checkins"] == 0
    flagged = await Chat(app, "bea").say("/run 4 after 8k, can't feel my groin")
    assert flagged.index("Get help now") < flagged.index("A quick safety check")


async def test_a_daily_score_that_rises_after_a_big_week_says_hold_your_mileage(app: App) -> None:
    """The week's km first, without pain; then a morning score 2 above the usual: the rules
    read the distances with the daily score too, not only when a run is logged."""
    ann = Chat(app, "ann")
    await ann.onboard()
    plan = {0: "6k", 2: "6k", 5: "8k"}
    for i in range(33):
        if i:
            ann.later(days=1)
        await ann.say("5" if i < 7 else "2")  # settling from 5: no "no improvement" advice
        if i < 28 and i % 7 in plan:
            await ann.say(f"/run 2 after {plan[i % 7]}")
        elif i in (28, 30, 32):
            assert "hold your mileage" not in await ann.say("/run 2 after 10k")
    ann.later(days=1)
    said = await ann.say("4")
    assert "Ease off today." in said
    assert "you ran 30 km in the last 7 days, 50% above your average week of 20 km" in said
    assert "hold your mileage" in said


async def test_markup_after_run_records_nothing(app: App) -> None:
    ann = Chat(app, "ann")
    await ann.onboard()
    said = await ann.say("/run <script>alert(1)</script>")
    assert "Recorded" not in said and "I couldn't read" in said, said
    assert (await row_counts(app))["checkins"] == 0
