"""What the trend means, in words: escalations, the red-flag screen, routines, exercises, chart."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping
from dataclasses import replace
from datetime import date, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from bot import actions, formatting, plans, redflags, trends
from bot import runs as run_load
from bot.actions import Action
from bot.chart import ChartData, render_history
from bot.context import Ctx
from bot.events import Attachment, Button, Kind, Reply, Role
from bot.handlers import pain_context
from bot.handlers.prompts import consent_prompt
from bot.parsing import Command
from bot.store import repo
from bot.store.models import Person
from bot.trends import Announcement, Assessment, HistoryView, RunScore, Tier
from content import loader
from content.loader import Content

LOOKBACK_DAYS = 60  # enough for weekly rules and the 30-day chart; the first week is added apart
CHART_DAYS = 30
RETURN_TO_RUN = "return_to_run"  # stored like a tier so the offer is made once, then weekly at most
OFFER_EVERY_DAYS = 7
TIER_KEYS = frozenset(t.key for t in Tier)
CHART_TIERS = TIER_KEYS - {"none"}


# Red-flag answers are read this far back: the return-to-run ladder waits 14 days after a
# hop/sacrum report.
SYMPTOM_DAYS = trends.HOP_GATE_DAYS


async def history_view(ctx: Ctx, today: date) -> HistoryView:
    """Everything the rules need about the person, in one read."""
    assert ctx.person is not None
    scores, symptoms, announced, km = await repo.score_history(
        ctx.session,
        ctx.person.id,
        today - timedelta(days=LOOKBACK_DAYS),
        trends.BASELINE_WINDOW,
        today - timedelta(days=SYMPTOM_DAYS),
    )
    # The runs' distances ride along, so a daily score can bring "hold your mileage" too.
    view = replace(build_view(scores, symptoms, announced), distances=km)
    return with_episode(view, ctx.person)


def with_episode(view: HistoryView, person: object) -> HistoryView:
    """The view with the person's episode state (an ORM Person or a row with its columns)."""
    return replace(
        view,
        episode=getattr(person, "episode_tier", None),
        cleared_on=getattr(person, "cleared_on", None),
    )


def build_view(
    scores: Iterable[tuple[date, str, int]],
    symptoms: Mapping[date, frozenset[str]],
    announced: Iterable[tuple[date, str]],
) -> HistoryView:
    """The rules' view from stored rows: scores (day, kind, score), red flags, announcements."""
    daily: dict[date, int] = {}
    runs: list[RunScore] = []
    for d, kind, score in scores:
        if kind == repo.DAILY:
            daily[d] = score
        else:
            runs.append(RunScore(d, score, kind.removeprefix("run_")))  # type: ignore[arg-type]
    runs.sort(key=lambda r: (r.day, r.phase))  # the same view whatever order rows came in
    return HistoryView(
        daily=daily,
        runs=runs,
        symptoms=symptoms,
        announcements=[Announcement(d, Tier[t.upper()]) for d, t in announced if t in TIER_KEYS],
    )


async def views_for(s: AsyncSession, today_of: Mapping[int, date]) -> dict[int, HistoryView]:
    """history_view for many people at once (reminders for a batch), in three reads.

    `today_of` maps each person to their own local date; each view holds exactly what
    history_view would read for that person on that date.
    """
    if not today_of:
        return {}
    ids = sorted(today_of)
    earliest = min(today_of.values())
    since = earliest - timedelta(days=LOOKBACK_DAYS)
    scores = await repo.recent_checkins_of(s, ids, since, trends.BASELINE_WINDOW)
    flags = await repo.flags_since_of(s, ids, earliest - timedelta(days=SYMPTOM_DAYS), since)
    views: dict[int, HistoryView] = {}
    for pid, today in today_of.items():
        own_since = today - timedelta(days=LOOKBACK_DAYS)
        symptoms, announced = flags[pid]
        views[pid] = build_view(
            ((d, k, sc) for d, k, sc, first in scores[pid] if d >= own_since or first),
            repo.symptoms_by_day(
                (d, c) for d, c in symptoms if d >= today - timedelta(days=SYMPTOM_DAYS)
            ),
            ((d, t) for d, t in announced if d >= own_since),
        )
    return views


async def withdraw_stale(
    ctx: Ctx, view: HistoryView, days: Iterable[date]
) -> tuple[HistoryView, list[Tier]]:
    """After a score is taken back or put right: training advice announced on these days
    that the scores no longer call for is withdrawn (get-help advice stands until the person
    says they have been checked, CLINICAL.md "Episodes"). Returns the view without it and
    the tiers withdrawn."""
    assert ctx.person is not None
    withdrawn: set[tuple[date, Tier]] = set()
    for day in sorted(set(days)):
        now = trends.assess(view, day).tier
        stale = {
            a.tier
            for a in view.announcements
            if a.day == day and now < a.tier and not get_help(a.tier)
        }
        if stale:
            await repo.remove_escalations(ctx.session, ctx.person.id, day, {t.key for t in stale})
            withdrawn |= {(day, t) for t in stale}
    kept = [a for a in view.announcements if (a.day, a.tier) not in withdrawn]
    return replace(view, announcements=kept), sorted({t for _, t in withdrawn}, reverse=True)


def withdrawn_words(ctx: Ctx, withdrawn: list[Tier]) -> str:
    """ " I've taken back the advice it led to (ease off today)." for /undo's and a changed
    score's answer; "" when nothing was withdrawn."""
    if not withdrawn:
        return ""
    said = ", ".join(formatting.in_sentence(ctx.content.tiers[t.key].title) for t in withdrawn)
    return f" I've taken back the advice it led to ({said})."


def previous_score(view: HistoryView, day: date, kind: str) -> int | None:
    """The score already stored for (day, kind), read from the view."""
    if kind == repo.DAILY:
        return view.daily.get(day)
    phase = kind.removeprefix("run_")
    return next((r.score for r in view.runs if r.day == day and r.phase == phase), None)


def with_score(view: HistoryView, day: date, kind: str, score: int) -> HistoryView:
    """The view as it is after storing a score (saves reading it again)."""
    if kind == repo.DAILY:
        return replace(view, daily={**view.daily, day: score})
    phase = kind.removeprefix("run_")
    runs = [r for r in view.runs if not (r.day == day and r.phase == phase)]
    return replace(view, runs=[*runs, RunScore(day, score, phase)])  # type: ignore[arg-type]


def headline(ctx: Ctx, tier: Tier) -> str:
    """A tier's title and advice as one paragraph: what to do, first and plainly."""
    notice = ctx.content.tiers[tier.key]
    return f"{notice.title}. {notice.advice}"


def stop_running(ctx: Ctx) -> str:
    """The hop/sacrum paragraph: stop running until a doctor has checked it."""
    sf = ctx.content.messages.sacral_stress_fracture
    return f"{sf.title}. {sf.advice}"


def get_help(tier: Tier) -> bool:
    """Emergency or same-day advice: it opens an episode and is never hedged."""
    return tier >= Tier.URGENT


def advice_reply(text: str, tier: Tier | str, lead: str = "") -> Reply:
    """Advice of a tier, typed for the edges: its first paragraph (or `lead`) is the headline
    an alert keeps, and get-help advice is marked urgent."""
    key = tier if isinstance(tier, str) else tier.key
    return Reply(
        text,
        private=True,
        kind=Kind.ADVICE,
        tier=key,
        urgent=isinstance(tier, Tier) and get_help(tier),
        headline=lead or text.split("\n\n", 1)[0],
    )


def tier_message(ctx: Ctx, result: Assessment, day: date | None = None) -> str:
    """The announcement: advice first, then why; the caveats belong to the training tiers.

    `day` names the day it is about when that is not today (a backfill's reassessment).
    """
    parts = [headline(ctx, result.tier)]
    if day is not None and day != ctx.today:
        parts[0] = f"About {formatting.day(day, ctx.today)}: {parts[0]}"
    if result.hop_tender:
        parts.append(stop_running(ctx))
    if result.reasons:
        parts.append(f"Why: {why(result.reasons)}")
    if get_help(result.tier):
        # Emergency and same-day advice is never followed by a hedge (CLINICAL.md "Wording").
        return "\n\n".join(parts)
    if result.own_rule:
        parts.append(ctx.content.messages.rule_of_thumb_note)
    if result.tier is Tier.PROFESSIONAL:
        parts.append("Send /export for a file of your history to take along.")
    parts.append(ctx.content.messages.disclaimer)
    return "\n\n".join(parts)


async def standing_advice(ctx: Ctx) -> list[Reply]:
    """The advice of a tier announced in the last 3 days (ease off or higher), once more.

    For /start from someone already set up: a club member told in the group that a private
    message waits for them finds the advice here, even when their DM was closed at the time.
    The emergency and same-day advice comes first in the message, as when it was announced.
    """
    assert ctx.person is not None
    since = ctx.today - timedelta(days=trends.DEDUP_DAYS - 1)
    standing = [
        (Tier[tier.upper()], day, reasons)
        for day, tier, reasons in await repo.escalation_notes_since(
            ctx.session, ctx.person.id, since
        )
        if tier in TIER_KEYS
        and Tier[tier.upper()] >= Tier.MODIFY
        # get-help advice is settled once they say they were cleared to train
        and not (
            ctx.person.cleared_on is not None
            and day <= ctx.person.cleared_on
            and get_help(Tier[tier.upper()])
        )
    ]
    if not standing:
        return []
    tier, day, reasons = max(standing, key=lambda t: (t[0], t[1]))
    parts = [
        headline(ctx, tier),
        f"I gave you this advice {_when(day, ctx.today)}, and it still stands.",
    ]
    if reasons:
        parts.append(f"Why: {reasons}")
    if not get_help(tier):
        if tier is Tier.PROFESSIONAL:
            parts.append("Send /export for a file of your history to take along.")
        parts.append(ctx.content.messages.disclaimer)
    return [advice_reply("\n\n".join(parts), tier)]


def _when(day: date, today: date) -> str:
    label = formatting.day(day, today)
    return label if day >= today - timedelta(days=1) else f"on {label}"


def why(reasons: Iterable[str]) -> str:
    """The rules' reasons as sentences after "Why: ": each ends with a full stop, and each
    after the first starts with a capital ("... (1/10). After yesterday's run: ...")."""
    said = [r if r.endswith(".") else f"{r}." for r in reasons]
    return " ".join([*said[:1], *(r[:1].upper() + r[1:] for r in said[1:])])


async def record_advice(ctx: Ctx, day: date, tier: Tier, reasons: str) -> bool:
    """Store advice given (once per tier and day) and open an episode for get-help advice.

    False when the same tier was already stored for that day: a concurrent tap got there first.
    """
    assert ctx.person is not None
    added = await repo.add_escalation(ctx.session, ctx.person.id, day, tier.key, reasons, ctx.now)
    if get_help(tier):
        open_episode(ctx, tier, day)
    await ctx.commit()
    return added


def open_episode(ctx: Ctx, tier: Tier, day: date) -> None:
    """Open (or raise) the person's episode: core and posture reminders pause until cleared."""
    person = ctx.person
    assert person is not None
    current = Tier[person.episode_tier.upper()] if person.episode_tier else Tier.NONE
    if current is Tier.NONE:
        person.episode_rest = False
    if tier > current:
        # The check-in names this advice and its day: "Yesterday I said: get help now".
        person.episode_tier = tier.key
        person.episode_opened = day


async def _announce(ctx: Ctx, day: date, result: Assessment) -> Reply | None:
    """Announce a tier; None when a concurrent tap has already announced it for that day."""
    added = await record_advice(ctx, day, result.tier, why(result.reasons))
    if not added and result.tier < Tier.EMERGENCY:
        return None  # emergency advice is said every time; the rest once
    text = tier_message(ctx, result, day)
    return advice_reply(text, result.tier)


async def after_score(ctx: Ctx, day: date, confirmation: Reply, view: HistoryView) -> list[Reply]:
    """After a score is stored: confirm, then announce a tier and/or offer the red-flag screen.

    The red-flag screen rides in the confirmation's message (one message per tap on a phone);
    its headline keeps the bare confirmation for places that must split them (a club
    post's private acknowledgement). A backfilled day is assessed with what it completes:
    today's rules run again when today has a score, and an announcement names its day.
    """
    target = day
    if day != ctx.today:
        target = ctx.today if ctx.today in view.daily else day
    result = trends.assess(view, target)
    if day != ctx.today and target == day and result.tier < Tier.URGENT:
        return [confirmation]  # an old day's training advice is no use today
    text = confirmation.text
    ask = result.ask_screen and target == ctx.today and not view.symptoms.get(target)
    if result.building_baseline and result.tier is Tier.NONE and not ask and day in view.daily:
        # Counted toward the day assessed: a backfilled day completes today's count.
        have = sum(
            1 for d in view.daily if d < target and (target - d).days <= trends.BASELINE_DAYS
        )
        text += (
            f" Building your baseline: {max(0, trends.MIN_SCORES - have)} more daily "
            "score(s) and I can compare each day with your usual."
        )
    first = Reply(text, private=True)
    if ask:
        check = screen(ctx, reason=_screen_reason(view, target))[0]
        first = Reply(
            f"{text}\n\n{check.text}",
            buttons=check.buttons,
            private=True,
            kind=Kind.SCREEN,
            headline=text,
        )
    replies = [first]
    # While an episode is open, training advice ("ease off", "improving") stays off: the
    # person is waiting to be checked, or was told to rest.
    quiet = view.episode is not None and not get_help(result.tier)
    if result.tier is Tier.PROFESSIONAL and result.announce and not quiet:
        # They told me it is booked: no "book a physio" again until it has had time to happen.
        quiet = await _booked_recently(ctx, target)
    if result.announce and result.tier > Tier.NONE and not quiet:
        announcement = await _announce(ctx, target, result)
        if announcement is None:
            pass
        elif get_help(result.tier):
            replies.insert(0, announcement)  # get-help advice comes before anything else
        else:
            replies.append(announcement)
    if result.offer_return_to_run and target == ctx.today and await _may_offer_return(ctx, day):
        replies.append(await _offer_return(ctx, day))
    # Where it hurt and what set it off: optional, after the screen, never beside get-help.
    replies += await pain_context.offer(ctx, day, view.daily, replies)
    return replies


BOOKED_HOLDS_DAYS = 28  # our own choice: about the wait for a physio appointment


async def _booked_recently(ctx: Ctx, day: date) -> bool:
    assert ctx.person is not None
    since = day - timedelta(days=BOOKED_HOLDS_DAYS)
    return bool(await repo.activity_days(ctx.session, ctx.person.id, "pro_booked", since))


async def _may_offer_return(ctx: Ctx, day: date) -> bool:
    assert ctx.person is not None
    since = day - timedelta(days=OFFER_EVERY_DAYS - 1)
    offered = await repo.escalations_since(ctx.session, ctx.person.id, since)
    if any(tier == RETURN_TO_RUN for _, tier in offered):
        return False
    if ctx.person.ladder_stage is None:
        return True
    # On the ladder, "2 or below for 7 days, keep going" would contradict a run in that same
    # week that stepped them back a stage.
    week = day - timedelta(days=trends.RETURN_TO_RUN_DAYS - 1)
    ran = await repo.ladder_runs_since(ctx.session, ctx.person.id, week)
    return not any(run.outcome == plans.Outcome.BACK for run in ran)


async def _offer_return(ctx: Ctx, day: date) -> Reply:
    assert ctx.person is not None
    offer = ctx.content.messages.return_to_run_offer
    await repo.add_escalation(
        ctx.session,
        ctx.person.id,
        day,
        RETURN_TO_RUN,
        "2/10 or below on each of the last 7 days",
        ctx.now,
    )
    await ctx.commit()
    stage = ctx.person.ladder_stage
    if stage is not None:
        # On the ladder already: the good news, not an offer to start what they are doing.
        text = (
            f"{offer.title.removesuffix('?')}: your pain has been 2 or below for 7 days. Keep "
            f"going with the return-to-run ladder (stage {stage}); /ladder shows where you are."
        )
        return advice_reply(text, RETURN_TO_RUN)
    text = f"{offer.title} {offer.advice}\n\n{loader.return_to_run_text(ctx.content)}"
    start = Button("Start the ladder", actions.encode("pl", "st"), Role.CONFIRM)
    return replace(advice_reply(text, RETURN_TO_RUN), buttons=((start,),))


def _screen_reason(view: HistoryView, day: date) -> str:
    score = view.daily.get(day)
    if score is not None and score >= trends.HIGH_SCORE:
        return f"{formatting.score(score)} is high."
    runs = trends.high_runs(view, day)
    if runs:
        run = max(runs, key=lambda r: r.score)
        return f"{formatting.score(run.score)} {run.phase} your run is high."
    return "Your score went up."


def screen(ctx: Ctx, *, reason: str = "", mentioned: frozenset[str] = frozenset()) -> list[Reply]:
    """The red-flag screen as buttons (tap, not type); it works before consent too."""
    intro = "A quick safety check: do you have any of these? Tap any that apply."
    if mentioned:
        intro = "You mentioned something I should check. " + intro
    elif reason:
        intro = f"{reason} {intro}"
    if ctx.person is None:
        intro += " Nothing is stored unless you agree to it."
    rows = [(Button(s.label, actions.encode("f", s.code)),) for s in trends.SYMPTOMS]
    rows.append((Button(trends.NONE_OF_THESE_LABEL, actions.encode("f", trends.NONE_OF_THESE)),))
    return [Reply(intro, buttons=tuple(rows), private=True, kind=Kind.SCREEN)]


def _labels(codes: frozenset[str]) -> str:
    return ", ".join(s.label.lower() for s in trends.SYMPTOMS if s.code in codes)


async def read_text(
    ctx: Ctx, text: str, replies: list[Reply], reading: redflags.Reading | None = None
) -> list[Reply]:
    """Read any text for red flags and add what they call for to the answer.

    An emergency-tier mention leads with the emergency line (stored, with an episode, only
    with consent); any mention brings the screen unless the answer already holds it. A belt
    question gets the SI-belt note. Safety help never waits for consent. `reading` is the
    text's red-flag reading when the caller has it already.
    """
    reading = reading or redflags.read(text)
    out = list(replies)
    said = any(r.kind is Kind.ADVICE and r.tier == Tier.EMERGENCY.key for r in out)
    if reading.codes:
        if reading.emergency and not said:
            urgent = reading.emergency_codes
            if ctx.person is not None:
                await record_advice(
                    ctx, ctx.today, Tier.EMERGENCY, f"you wrote about: {_labels(urgent)}"
                )
            line = (
                f"{headline(ctx, Tier.EMERGENCY)}\n\nYou wrote about: {_labels(urgent)}. "
                "These signs need checking straight away."
            )
            out.insert(0, advice_reply(line, Tier.EMERGENCY))
        if not any(r.kind is Kind.SCREEN for r in out):
            out += screen(ctx, mentioned=reading.codes)
    if redflags.mentions_belt(text):
        out.append(Reply(ctx.content.messages.si_belt, private=True))
    return out


def flag_advice(ctx: Ctx, code: str) -> Reply:
    """What one red flag calls for, said at once: the tier's advice, and stop running for a
    hop/sacrum report."""
    found = trends.symptom(code)
    assert found is not None
    parts = [headline(ctx, found.tier)]
    if code == "hop_tender":
        parts.append(stop_running(ctx))
    parts.append(f"You told me: {found.label.lower()}.")
    return advice_reply("\n\n".join(parts), found.tier)


async def on_symptom(ctx: Ctx, action: Action) -> list[Reply]:
    """A red-flag screen answer: advice at once, stored only with consent, and a flag stands
    for its day until the person says it was a mistake."""
    code = action.args[0]
    if code != trends.NONE_OF_THESE and trends.symptom(code) is None:
        return [Reply("This button has expired. Send /symptoms for a fresh list.", private=True)]
    if ctx.person is None:
        # Safety before consent: the advice now; the flag rides in the consent button.
        key = (ctx.inc.platform, ctx.inc.user_id)
        # Kept like a flag: with consent, the answer is stored and the screen not asked again.
        ctx.engine.pending_flags[key] = {**ctx.engine.pending_flags.get(key, {}), code: ctx.today}
        if code == trends.NONE_OF_THESE:
            return [
                Reply(
                    "Thanks: none of the warning signs. I haven't stored anything. If anything "
                    "changes, send /symptoms.",
                    private=True,
                )
            ]
        return [flag_advice(ctx, code), *consent_prompt(ctx, None, flag=code)]
    today = ctx.today
    view = await history_view(ctx, today)
    standing = view.symptoms.get(today, frozenset()) - {trends.NONE_OF_THESE}
    if code == trends.NONE_OF_THESE:
        return await _none_of_these(ctx, view, standing)
    return await record_flag(ctx, code, view)


async def record_flag(
    ctx: Ctx, code: str, view: HistoryView | None = None, day: date | None = None
) -> list[Reply]:
    """Store a red flag for its day (today unless given) and say what it calls for."""
    assert ctx.person is not None
    today = day or ctx.today
    view = view or await history_view(ctx, today)
    added = await repo.add_symptom(ctx.session, ctx.person.id, today, code, ctx.now)
    # A flag after "none of these" the same day replaces it: the record must not contradict itself.
    await repo.remove_symptoms(ctx.session, ctx.person.id, today, {trends.NONE_OF_THESE})
    await ctx.commit()
    codes = (view.symptoms.get(today, frozenset()) - {trends.NONE_OF_THESE}) | {code}
    view = replace(view, symptoms={**view.symptoms, today: codes})
    result = trends.assess(view, today)
    if result.tier >= Tier.EMERGENCY or result.announce:
        announcement = await _announce(ctx, today, result)
        if announcement is not None:
            return [announcement]
    found = trends.symptom(code)
    assert found is not None
    if get_help(result.tier):
        # Said again without a fresh announcement (it was announced lately, or they were
        # cleared since): it is still advice given today, stored, and its episode followed up.
        await record_advice(ctx, today, result.tier, f"you reported: {found.label.lower()}")
    parts = [f"{'Noted' if added else 'Already noted'}: {found.label.lower()}."]
    if result.tier > Tier.NONE:
        parts.append(headline(ctx, result.tier))
    if code == "hop_tender":
        # Said on every report, even when the tier itself is not announced again.
        parts.append(stop_running(ctx))
    if result.tier > Tier.NONE:
        return [advice_reply("\n\n".join(parts), result.tier, lead=headline(ctx, result.tier))]
    return [Reply("\n\n".join(parts), private=True)]


async def _none_of_these(ctx: Ctx, view: HistoryView, standing: frozenset[str]) -> list[Reply]:
    assert ctx.person is not None
    today = ctx.today
    from_scores = trends.assess(view, today).tier
    if not standing and _opened_today_by_words(ctx.person, today, from_scores):
        # What they wrote today led to get-help advice: one tap does not undo it unasked.
        return [
            Reply(
                "Earlier today you wrote about warning signs and I told you to get help; that "
                "still stands. If what you wrote was a mistake, clear it.",
                buttons=((Button(CLEAR_LABEL, actions.encode("u", "today")),),),
                private=True,
            )
        ]
    if standing:
        return [
            Reply(
                f"You reported {_labels(standing)} today, and that still stands. If it was a "
                "mistake, clear it.",
                buttons=((Button(CLEAR_LABEL, actions.encode("u", "today")),),),
                private=True,
            )
        ]
    added = await repo.add_symptom(ctx.session, ctx.person.id, today, trends.NONE_OF_THESE, ctx.now)
    await ctx.commit()
    text = (
        "Thanks, none of the warning signs: noted. If anything changes, tell me or send /symptoms."
    )
    text = text if added else "Already noted: none of these."
    if get_help(from_scores):
        text += "\n\n" + _from_scores_stands(ctx, from_scores)
    return [Reply(text, private=True)]


def _opened_today_by_words(person: Person, today: date, from_scores: Tier) -> bool:
    """Whether today's get-help episode came from warning signs the person wrote (read from
    their message, never stored as answers), not from their scores alone."""
    if person.episode_opened != today or person.episode_tier is None:
        return False
    return from_scores < Tier[person.episode_tier.upper()]


def _from_scores_stands(ctx: Ctx, tier: Tier) -> str:
    return f"{headline(ctx, tier)} That still stands: it comes from your scores."


CLEAR_LABEL = "That was a mistake: clear it"


async def on_clear(ctx: Ctx, _: Action) -> list[Reply]:
    """[That was a mistake: clear it]: today's red flags and the advice they led to go."""
    if ctx.person is None:
        return [Reply("There's nothing stored about you.", private=True)]
    today = ctx.today
    view = await history_view(ctx, today)
    codes = view.symptoms.get(today, frozenset()) - {trends.NONE_OF_THESE}
    view = replace(view, symptoms={**view.symptoms, today: frozenset()})
    from_scores = trends.assess(view, today).tier
    if not codes and not _opened_today_by_words(ctx.person, today, from_scores):
        text = "Nothing to clear: no warning signs are noted for today."
        if get_help(from_scores):
            text += "\n\n" + _from_scores_stands(ctx, from_scores)
        return [Reply(text, private=True)]
    await repo.remove_symptoms(ctx.session, ctx.person.id, today, codes)
    await _withdraw_today(ctx, view)
    await repo.add_symptom(ctx.session, ctx.person.id, today, trends.NONE_OF_THESE, ctx.now)
    await ctx.commit()
    what = _labels(codes) if codes else "what you wrote today"
    return [
        Reply(
            f"Cleared: {what}, and the advice it led to. If anything changes, tell me or send "
            "/symptoms.",
            private=True,
        )
    ]


async def _withdraw_today(ctx: Ctx, view: HistoryView) -> bool:
    """Take back today's get-help advice that today's answers no longer support.

    An episode opened today closes when nothing of today's still calls for help; one opened
    on an earlier day stands until the person says they have been checked.
    """
    person = ctx.person
    assert person is not None
    today = ctx.today
    tier = trends.assess(view, today).tier
    withdrawn = await repo.remove_escalations_above(ctx.session, person.id, today, tier)
    if person.episode_opened == today and not get_help(tier):
        person.episode_tier = None
        person.episode_opened = None
        person.episode_rest = False
        withdrawn = True
    return withdrawn


async def cmd_symptoms(ctx: Ctx, _: Command) -> list[Reply]:
    """The red-flag screen on demand."""
    return screen(ctx)


async def current_tier(ctx: Ctx) -> Tier:
    """Today's tier: today's assessment, or a tier announced in the last 3 days if higher."""
    return tier_of(await history_view(ctx, ctx.today), ctx.today)


def tier_of(view: HistoryView, today: date) -> Tier:
    """current_tier from a view already read, with the person's episode state."""
    tier = trends.assess(view, today).tier
    cleared = view.cleared_on
    recent = [
        a.tier
        for a in view.announcements
        if (today - a.day).days < trends.DEDUP_DAYS
        # get-help advice given before they were cleared to train is settled
        and not (cleared is not None and a.day <= cleared and get_help(a.tier))
    ]
    if view.episode is not None:
        # Until they say they were cleared, the get-help advice is today's advice.
        recent.append(Tier[view.episode.upper()])
    if view.cleared_on is not None and (today - view.cleared_on).days < trends.CLEARED_MODIFY_DAYS:
        recent.append(Tier.MODIFY)  # a week of easy training after "cleared to train"
    # Improving is good news, not a constraint on training: it never lowers a routine.
    return max([tier, *recent])


def strength_week(content: Content, start: date | None, done: int) -> int | None:
    """Week 1-6 of the strength block after `done` workouts marked done, or None when not
    started or finished: the block moves on by workouts done, not by the calendar."""
    if start is None:
        return None
    block = content.strength_block
    return plans.strength_week(done, block.sessions_per_week, len(block.weeks))


async def workouts_done(ctx: Ctx) -> int:
    """Workouts of the current strength block marked done."""
    person = ctx.person
    if person is None or person.strength_started is None:
        return 0
    done = await repo.activity_days(
        ctx.session, person.id, plans.STRENGTH_DONE, person.strength_started
    )
    return len(done)


async def cmd_today(ctx: Ctx, _: Command) -> list[Reply]:
    """Today's 10-15 minute routine, adapted to the current tier."""
    assert ctx.person is not None
    tier = await current_tier(ctx)
    if ctx.person.episode_rest:
        text = (
            "Rest as your doctor or physio told you: core work waits until you're cleared to "
            "train. Send /checked when you are."
        )
        return [Reply(text, private=True)]
    if get_help(tier):
        # No routine and no Done button under get-help advice.
        text = (
            f"{headline(ctx, tier)}\n\nCore work waits until you have been checked. "
            "Send /checked when you have been."
        )
        return [advice_reply(text, tier)]
    week = strength_week(ctx.content, ctx.person.strength_started, await workouts_done(ctx))
    routine = loader.routine_for(ctx.content, ctx.today, tier.key, week)
    return [
        Reply(
            routine.text(), private=True, buttons=((Button("Done", actions.encode("r", "done")),),)
        )
    ]


async def cmd_exercises(ctx: Ctx, _: Command) -> list[Reply]:
    """The exercise library, one line each."""
    return [Reply(loader.format_library(ctx.content) + "\n\nSend /exercise NAME for the how-to.")]


async def cmd_exercise(ctx: Ctx, command: Command) -> list[Reply]:
    """One exercise, fuzzy-matched by name; unknown names get the three closest."""
    if not command.raw_args:
        return [Reply("Which one? For example /exercise bird dog. /exercises lists them all.")]
    ex = loader.find_exercise(ctx.content, command.raw_args)
    if ex is None:
        close = loader.closest_exercises(ctx.content, command.raw_args, 3)
        return [Reply(f"I don't know that exercise. Closest: {', '.join(close)}.")]
    return [Reply(loader.format_exercise(ex))]


async def history_chart(ctx: Ctx) -> Attachment:
    """The 30-day chart as a PNG (rendered off the event loop)."""
    assert ctx.person is not None
    today = ctx.today
    since = today - timedelta(days=CHART_DAYS + 7)
    pid = ctx.person.id
    daily = await repo.daily_scores(ctx.session, pid, since)
    runs = await repo.run_scores(ctx.session, pid, since)
    details = [r for r in await repo.runs_since(ctx.session, pid, since) if r.day <= today]
    escalations = await repo.escalations_since(ctx.session, pid, since)
    core = await repo.activity_days(ctx.session, pid, "core_done", since)
    base = {}
    for i in range(CHART_DAYS):
        d = today - timedelta(days=i)
        b = trends.baseline(daily, d)
        if b is not None:
            base[d] = b
    data = ChartData(
        end=today,
        daily={d: s for d, s in daily.items() if d <= today},
        runs=[r for r in runs if r[0] <= today],
        run_km=run_load.distances(details),
        run_minutes=run_load.minutes_by_day(details),
        baseline=base,
        # Only tiers are drawn; the return-to-run offer is stored beside them.
        escalations=[e for e in escalations if e[1] in CHART_TIERS],
        core_done=core,
        days=CHART_DAYS,
    )
    png = await asyncio.to_thread(render_history, data)
    return Attachment(f"si-checkin-history-{today.isoformat()}.png", png, "image/png")


ACTIONS = {"f": on_symptom, "u": on_clear}
