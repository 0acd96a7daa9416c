"""A person's scores played day by day through the escalation rules of CLINICAL.md."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot import trends
from bot.trends import (
    NONE_OF_THESE,
    SYMPTOMS,
    Announcement,
    HistoryView,
    RunScore,
    Tier,
    assess,
    average,
    baseline,
    symptom,
    trend_arrow,
    weekly_means,
)

MONDAY = date(2025, 3, 3)


def days(start: date, *scores: int | None) -> dict[date, int]:
    """One score a day from `start`; None is a day the person didn't answer."""
    return {start + timedelta(days=i): s for i, s in enumerate(scores) if s is not None}


def day(n: int) -> date:
    """The n-th day of the story, counting MONDAY as day 0."""
    return MONDAY + timedelta(days=n)


def check(daily: dict[date, int], today: date | None = None, **more: object):
    """Assess the history on its last day (or on `today`)."""
    return assess(HistoryView(daily=daily, **more), today or max(daily))  # type: ignore[arg-type]


# --- the red-flag screen -------------------------------------------------------------


def test_screen_options_are_unique_short_and_findable() -> None:
    codes = [s.code for s in SYMPTOMS]
    assert len(codes) == len(set(codes))
    assert all(len(s.label) <= 40 for s in SYMPTOMS)
    assert symptom("saddle") is SYMPTOMS[0]
    assert symptom(NONE_OF_THESE) is None
    assert symptom("headache") is None


def test_tier_keys_name_the_tier() -> None:
    assert [t.key for t in Tier] == [
        "none",
        "improving",
        "modify",
        "professional",
        "urgent",
        "emergency",
    ]


@pytest.mark.parametrize(
    ("code", "tier"),
    [
        ("saddle", Tier.EMERGENCY),
        ("bladder_bowel", Tier.EMERGENCY),
        ("both_legs", Tier.EMERGENCY),
        ("leg_weakness", Tier.EMERGENCY),
        ("fall", Tier.EMERGENCY),
        ("numb_one_leg", Tier.URGENT),
        ("fever", Tier.URGENT),
        ("night_pain", Tier.URGENT),
        ("weight_loss", Tier.URGENT),
        ("cancer_history", Tier.URGENT),
        ("daily_activities", Tier.PROFESSIONAL),
        ("hop_tender", Tier.PROFESSIONAL),
    ],
)
def test_a_reported_symptom_sets_its_tier(code: str, tier: Tier) -> None:
    daily = days(MONDAY, 3, 3, 3, 3)
    result = check(daily, symptoms={day(3): frozenset({code})})
    assert result.tier == tier
    assert result.announce
    assert not result.own_rule
    assert symptom(code).label.lower() in result.reasons[0]  # type: ignore[union-attr]


def test_none_of_these_and_yesterdays_symptom_do_not_escalate_today() -> None:
    daily = days(MONDAY, 3, 3, 3, 3)
    symptoms = {day(2): frozenset({"saddle"}), day(3): frozenset({NONE_OF_THESE})}
    assert check(daily, symptoms=symptoms).tier == Tier.NONE


def test_sore_sacrum_on_hopping_means_stop_running_not_daily_activities() -> None:
    daily = days(MONDAY, 3, 3, 3, 3)
    hopping = check(daily, symptoms={day(3): frozenset({"hop_tender"})})
    daily_life = check(daily, symptoms={day(3): frozenset({"daily_activities"})})
    assert hopping.hop_tender
    assert not daily_life.hop_tender


def test_emergency_symptom_wins_over_an_improving_week() -> None:
    # Pain fell from 6 to 3 for three days, then the person reports saddle numbness.
    daily = days(MONDAY, 6, 6, 6, 6, 6, 6, 6, 3, 3, 3)
    assert check(daily).tier == Tier.IMPROVING
    result = check(daily, symptoms={day(9): frozenset({"saddle"})})
    assert result.tier == Tier.EMERGENCY
    assert "saddle" in result.reasons[0]
    # only the announced tier's triggers: an improving stretch is never a reason to escalate
    assert not any("below your usual" in r for r in result.reasons)
    assert not result.offer_return_to_run


def test_symptom_report_without_a_score_today_still_escalates() -> None:
    # 7 and 8 on the last two days, no score yet today: score rules stay quiet.
    daily = days(MONDAY, 3, 3, 3, 7, 8)
    quiet = assess(HistoryView(daily=daily), day(5))
    assert quiet.tier == Tier.NONE
    fever = assess(HistoryView(daily=daily, symptoms={day(5): frozenset({"fever"})}), day(5))
    assert fever.tier == Tier.URGENT
    assert fever.reasons == ("you reported: fever with back pain",)


# --- urgent: 7 or more on two days in a row (our own cut-off) ------------------------


def test_seven_two_days_in_a_row_is_urgent_and_our_own_rule() -> None:
    result = check(days(MONDAY, 3, 3, 3, 7, 8))
    assert result.tier == Tier.URGENT
    assert result.own_rule
    assert result.reasons[0] == "yesterday 7/10, today 8/10: 7/10 or more two days in a row"


def test_seven_on_two_days_with_a_gap_is_not_urgent() -> None:
    result = check(days(MONDAY, 6, 6, 6, 7, 5, 7))
    assert result.tier < Tier.URGENT


def test_six_then_seven_is_not_urgent() -> None:
    assert check(days(MONDAY, 6, 6, 6, 6, 7)).tier < Tier.URGENT


def test_sourced_symptom_and_own_cut_off_together_are_not_a_rule_of_thumb() -> None:
    daily = days(MONDAY, 3, 3, 3, 7, 8)
    result = check(daily, symptoms={day(4): frozenset({"night_pain"})})
    assert result.tier == Tier.URGENT
    assert not result.own_rule
    assert result.reasons[0] == "you reported: pain worse at night or at rest"


def test_seven_two_days_in_a_row_works_while_building_the_baseline() -> None:
    result = check(days(MONDAY, 7, 7))
    assert result.building_baseline
    assert result.tier == Tier.URGENT


# --- see a professional ---------------------------------------------------------------


def test_no_improvement_after_four_weeks_sends_to_a_professional() -> None:
    daily = days(MONDAY, *[4] * 29)  # day 0 .. day 28
    result = check(daily)
    assert result.tier == Tier.PROFESSIONAL
    assert not result.own_rule
    assert result.reasons[0] == (
        "4 weeks since your first score: this week's average is 4/10 against 4/10 in your "
        "first week, less than the 2 points or 30% fall that counts as real improvement"
    )


def test_steady_pain_at_day_27_is_not_yet_four_weeks() -> None:
    assert check(days(MONDAY, *[4] * 28)).tier == Tier.NONE


def test_pain_that_came_down_two_points_after_four_weeks_is_not_sent_to_a_professional() -> None:
    daily = days(MONDAY, *[6] * 7, *[4] * 22)
    result = check(daily)
    assert result.baseline == 4
    assert result.tier < Tier.PROFESSIONAL


def test_a_fall_of_thirty_percent_counts_as_improvement() -> None:
    # 5 -> 3.5 is 1.5 points but 30%: real improvement by the relative measure
    assert check(days(MONDAY, *[5] * 7, *[4, 3] * 11)).tier < Tier.PROFESSIONAL


def test_a_fall_of_one_point_from_six_is_no_improvement() -> None:
    # 6 -> 5 is 1 point and 17%: within the noise, so still "see a professional"
    result = check(days(MONDAY, *[6] * 7, *[5] * 22))
    assert result.tier == Tier.PROFESSIONAL
    assert "6/10 in your first week" in result.reasons[0]


def test_steady_low_pain_for_four_weeks_is_fine() -> None:
    # CLINICAL.md: unless this week's mean is 2 or below (low, steady pain is fine)
    assert check(days(MONDAY, *[1, 2] * 15)).tier < Tier.PROFESSIONAL
    assert check(days(MONDAY, *[2] * 7, *[2, 3] * 11)).tier == Tier.PROFESSIONAL  # near miss


def test_scores_older_than_28_days_never_make_the_baseline() -> None:
    old = days(MONDAY, 1, 1, 1, 1, 1, 1, 1)
    today = day(300)
    daily = {**old, today: 4}
    result = trends.assess(trends.HistoryView(daily=daily), today)
    assert result.baseline is None and result.building_baseline
    assert result.tier == Tier.NONE
    # near miss: 28 days back still counts
    recent = {today - timedelta(days=28 - i): 1 for i in range(3)}
    assert trends.baseline({**recent, today: 4}, today) == 1


def test_a_high_score_before_a_baseline_gets_ease_off_advice() -> None:
    result = check(days(MONDAY, 10))
    assert result.tier == Tier.MODIFY
    assert result.ask_screen
    assert result.reasons == ("today 10/10: 7/10 or more, before I know your usual",)
    assert check(days(MONDAY, 6)).tier == Tier.NONE  # near miss


def test_the_ladder_waits_for_an_open_episode_and_a_recent_hop_report() -> None:
    daily = days(MONDAY, *[1] * 10)
    today = day(9)
    assert check(daily).offer_return_to_run
    view = trends.HistoryView(daily=daily, episode="urgent")
    assert not trends.assess(view, today).offer_return_to_run
    hop = {day(0): frozenset({"hop_tender"})}
    assert not trends.assess(
        trends.HistoryView(daily=daily, symptoms=hop), today
    ).offer_return_to_run
    # near miss: a hop report 14 days back no longer holds it
    longer = days(MONDAY, *[1] * 15)
    view = trends.HistoryView(daily=longer, symptoms=hop)
    assert trends.assess(view, day(14)).offer_return_to_run


def test_pain_free_for_four_weeks_is_not_sent_to_a_professional() -> None:
    assert check(days(MONDAY, *[0] * 35)).tier < Tier.PROFESSIONAL


def test_two_rising_weeks_in_a_row_is_our_own_professional_rule() -> None:
    daily = days(MONDAY, *[2] * 7, *[3] * 7, *[4] * 7)
    result = check(daily)
    assert result.tier == Tier.PROFESSIONAL
    assert result.own_rule
    assert result.reasons[0] == "weekly average pain rose two weeks in a row: 2, then 3, now 4/10"
    assert trend_arrow(daily, day(20)) == "↑"


def test_one_rising_week_then_a_flat_one_is_not_two_rising_weeks() -> None:
    daily = days(MONDAY, *[2] * 7, *[3] * 7, *[3] * 7)
    assert check(daily).tier < Tier.PROFESSIONAL


# --- modify training ------------------------------------------------------------------


def test_two_above_the_usual_means_ease_off_with_the_numbers() -> None:
    daily = days(MONDAY, 3, 3, 3, 3, None, None, 5)
    result = check(daily)
    assert result.tier == Tier.MODIFY
    assert result.baseline == 3
    assert result.reasons == ("3 days ago 3/10, today 5/10: 2 points above your usual (3/10)",)
    assert result.ask_screen


def test_one_above_the_usual_is_within_measurement_error() -> None:
    result = check(days(MONDAY, 3, 3, 3, 3, 4))
    assert result.tier == Tier.NONE
    assert not result.announce
    assert not result.ask_screen


@pytest.mark.parametrize("phase", ["during", "after"])
def test_run_pain_above_five_means_ease_off(phase: str) -> None:
    daily = days(MONDAY, 2, 2, 2, 2)
    result = check(daily, runs=[RunScore(day(3), 6, phase)])  # type: ignore[arg-type]
    assert result.tier == Tier.MODIFY
    assert result.reasons == (f"pain {phase} today's run 6/10 (above 5/10)",)


@pytest.mark.parametrize("phase", ["during", "after"])
def test_run_pain_of_five_is_acceptable(phase: str) -> None:
    daily = days(MONDAY, 2, 2, 2, 2)
    assert check(daily, runs=[RunScore(day(3), 5, phase)]).tier == Tier.NONE  # type: ignore[arg-type]


def test_run_pain_counts_even_before_the_daily_score() -> None:
    result = assess(HistoryView(daily={}, runs=[RunScore(MONDAY, 8, "during")]), MONDAY)
    assert result.tier == Tier.MODIFY
    assert result.building_baseline


def test_pain_higher_the_morning_after_a_run_means_ease_off() -> None:
    daily = days(MONDAY, 3, 3, 3, 3, 4)
    result = check(daily, runs=[RunScore(day(3), 4, "after")])
    assert result.tier == Tier.MODIFY
    assert result.reasons == ("after yesterday's run: 3/10 before, 4/10 the next day",)


def test_pain_settled_by_the_morning_after_a_run_is_fine() -> None:
    daily = days(MONDAY, 3, 3, 3, 3, 3)
    assert check(daily, runs=[RunScore(day(3), 4, "after")]).tier == Tier.NONE


def test_a_one_point_rise_without_a_run_yesterday_is_not_a_next_morning_rule() -> None:
    assert check(days(MONDAY, 3, 3, 3, 3, 4)).tier == Tier.NONE


def test_a_week_a_point_worse_than_the_last_means_ease_off() -> None:
    daily = days(MONDAY, *[2] * 7, *[3] * 7)
    result = check(daily)
    assert result.tier == Tier.MODIFY
    assert result.reasons == ("this week's average 3/10 is above last week's 2/10",)
    assert weekly_means(daily, day(13)) == (3.0, 2.0)


def test_a_week_half_a_point_worse_is_within_measurement_error() -> None:
    # 2.5 against 2.0: less than one NPRS measurement error, so the arrow stays steady.
    daily = days(MONDAY, *[2] * 7, 2, 3, 2, 3, 2, 3, 2, 3)
    assert check(daily, today=day(13)).tier == Tier.NONE
    assert trend_arrow(daily, day(13)) == "→"


# --- improving and the return-to-run offer -------------------------------------------


def test_three_days_two_below_the_usual_is_improving() -> None:
    daily = days(MONDAY, 6, 6, 6, 6, 6, 6, 6, 4, 4, 4)
    result = check(daily)
    assert result.tier == Tier.IMPROVING
    assert result.reasons == (
        "last 3 days 4/10, 4/10, 4/10: each at least 2 points or 30% below your usual (6/10)",
    )
    assert result.announce


def test_two_days_below_the_usual_is_not_yet_improving() -> None:
    daily = days(MONDAY, 6, 6, 6, 6, 6, 6, 6, 6, 4, 4)
    assert check(daily).tier == Tier.NONE


def test_thirty_percent_below_a_low_usual_is_improving() -> None:
    # 3 -> 2 is one point but a third of the pain.
    assert check(days(MONDAY, 3, 3, 3, 3, 3, 3, 3, 2, 2, 2)).tier == Tier.IMPROVING


def test_a_quarter_below_the_usual_is_not_improving() -> None:
    assert check(days(MONDAY, 4, 4, 4, 4, 4, 4, 4, 3, 3, 3)).tier == Tier.NONE


def test_a_week_at_two_or_less_offers_the_return_to_run_ladder() -> None:
    result = check(days(MONDAY, 5, 5, 5, 2, 1, 2, 2, 0, 1, 2))
    assert result.offer_return_to_run


def test_a_three_within_the_week_holds_back_the_return_to_run_ladder() -> None:
    assert not check(days(MONDAY, 5, 5, 5, 2, 1, 3, 2, 0, 1, 2)).offer_return_to_run


def test_a_missed_day_within_the_week_holds_back_the_return_to_run_ladder() -> None:
    assert not check(days(MONDAY, 5, 5, 5, 2, 1, None, 2, 0, 1, 2)).offer_return_to_run


def test_no_return_to_run_offer_beside_a_red_flag() -> None:
    daily = days(MONDAY, *[1] * 7)
    assert check(daily).offer_return_to_run
    assert not check(daily, symptoms={day(6): frozenset({"hop_tender"})}).offer_return_to_run


# --- building the baseline ------------------------------------------------------------


def test_two_scores_are_still_building_the_baseline() -> None:
    result = check(days(MONDAY, 2, 2, 6))
    assert result.building_baseline
    assert result.baseline is None
    assert result.tier == Tier.NONE  # 4 above, but there is no usual to compare with yet
    assert result.ask_screen  # the rise alone still offers the screen


def test_three_scores_make_a_baseline() -> None:
    result = check(days(MONDAY, 2, 2, 2, 6))
    assert not result.building_baseline
    assert result.baseline == 2
    assert result.tier == Tier.MODIFY


def test_baseline_is_the_median_of_the_last_seven_scores_before_today() -> None:
    daily = days(MONDAY, 9, 9, 9, 1, 2, 3, 4, 5, 6, 7, 0)
    # Scores before day 10 are 9 9 9 1 2 3 4 5 6 7; the last seven are 1..7.
    assert baseline(daily, day(10)) == 4
    assert baseline(days(MONDAY, 1, 2, 3, 4), day(4)) == 2.5
    assert baseline(days(MONDAY, 1, 2), day(2)) is None


# --- announcing once -----------------------------------------------------------------


EASE_OFF = days(MONDAY, 3, 3, 3, 3, 6)


def test_the_same_tier_within_three_days_is_not_announced_again() -> None:
    told = [Announcement(day(2), Tier.MODIFY)]
    result = check(EASE_OFF, announcements=told)
    assert result.tier == Tier.MODIFY
    assert not result.announce


def test_the_same_tier_three_days_later_is_announced_again() -> None:
    told = [Announcement(day(1), Tier.MODIFY)]
    assert check(EASE_OFF, announcements=told).announce


def test_a_rise_in_tier_is_announced_at_once() -> None:
    told = [Announcement(day(3), Tier.IMPROVING)]
    assert check(EASE_OFF, announcements=told).announce


def test_a_lower_tier_after_a_higher_one_stays_quiet() -> None:
    told = [Announcement(day(4), Tier.URGENT)]
    assert not check(EASE_OFF, announcements=told).announce


def test_an_emergency_is_announced_again_each_day_it_stands_not_after_each_score() -> None:
    # said yesterday: said again today (the 3-day quiet never applies to emergencies)
    told = [Announcement(day(3), Tier.EMERGENCY)]
    result = check(EASE_OFF, symptoms={day(4): frozenset({"both_legs"})}, announcements=told)
    assert result.tier == Tier.EMERGENCY
    assert result.announce
    # said already today: a later score that day does not repeat it (a new report does,
    # through the screen's handler)
    told = [Announcement(day(4), Tier.EMERGENCY)]
    result = check(EASE_OFF, symptoms={day(4): frozenset({"both_legs"})}, announcements=told)
    assert not result.announce


# --- the summary figures --------------------------------------------------------------


def test_the_trend_arrow_follows_the_weekly_means() -> None:
    better = days(MONDAY, *[5] * 7, *[3] * 7)
    assert trend_arrow(better, day(13)) == "↓"
    assert trend_arrow(days(MONDAY, *[3] * 14), day(13)) == "→"
    # Only two scores last week: not enough to compare.
    assert trend_arrow(days(MONDAY, *[None] * 5, 3, 3, *[3] * 7), day(13)) == ""
    assert weekly_means(days(MONDAY, 3, 3), day(1)) == (None, None)


def test_average_covers_the_last_days_only() -> None:
    daily = days(MONDAY, 9, 1, 2, 3)
    assert average(daily, day(3), days=3) == 2
    assert average(daily, day(3)) == 3.75
    assert average({}, MONDAY) is None


# --- whatever the history -------------------------------------------------------------


@st.composite
def histories(draw: st.DrawFn) -> tuple[HistoryView, date]:
    """Up to 90 days of scores with gaps, runs, screen answers and announcements."""
    length = draw(st.integers(min_value=0, max_value=90))
    scores = draw(st.lists(st.none() | st.integers(0, 10), min_size=length, max_size=length))
    daily = days(MONDAY, *scores)
    today = day(draw(st.integers(min_value=0, max_value=length + 2)))
    runs = draw(
        st.lists(
            st.builds(
                RunScore,
                st.integers(0, length + 2).map(day),
                st.integers(0, 10),
                st.sampled_from(["during", "after"]),
            ),
            max_size=5,
        )
    )
    codes = st.frozensets(st.sampled_from([s.code for s in SYMPTOMS] + [NONE_OF_THESE]))
    symptoms = draw(st.dictionaries(st.integers(0, length + 2).map(day), codes, max_size=3))
    told = draw(
        st.lists(
            st.builds(Announcement, st.integers(0, length + 2).map(day), st.sampled_from(Tier)),
            max_size=5,
        )
    )
    return HistoryView(daily, runs, symptoms, told), today


@given(histories())
def test_assess_never_fails_and_stays_consistent(case: tuple[HistoryView, date]) -> None:
    history, today = case
    result = assess(history, today)
    assert result.tier in Tier
    assert bool(result.reasons) == (result.tier != Tier.NONE)
    assert not (result.announce and result.tier == Tier.NONE)
    assert result.building_baseline == (result.baseline is None)
    if result.offer_return_to_run:
        assert result.tier <= Tier.IMPROVING


@given(histories(), st.sampled_from([s.code for s in SYMPTOMS if s.tier == Tier.EMERGENCY]))
def test_an_emergency_symptom_always_wins_and_is_announced(
    case: tuple[HistoryView, date], code: str
) -> None:
    history, today = case
    reported = HistoryView(
        history.daily,
        history.runs,
        {**history.symptoms, today: frozenset({code})},
        history.announcements,
    )
    result = assess(reported, today)
    assert result.tier == Tier.EMERGENCY
    # announced unless already said that same day (each new report is said by the screen's
    # handler whatever this says)
    said_today = any(a.day == today and a.tier == Tier.EMERGENCY for a in history.announcements)
    assert result.announce == (not said_today)


def test_the_ladder_waits_a_week_after_cleared_to_train() -> None:
    daily = days(MONDAY, *[1] * 12)
    today = day(11)
    view = HistoryView(daily=daily, cleared_on=day(10))
    assert not assess(view, today).offer_return_to_run
    view = HistoryView(daily=daily, cleared_on=day(4))  # near miss: a week has passed
    assert assess(view, today).offer_return_to_run
