"""/report: the last 90 days as a one-page PDF to hand a physio.

It carries no name and no platform id: it is health data leaving the app, and the person
can write their name on it when they hand it over.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from bot import runs as run_load
from bot.context import Ctx
from bot.events import Attachment, Reply
from bot.handlers import pain_context, plans
from bot.parsing import Command
from bot.report import REPORT_DAYS, ReportData, render_report
from bot.store import repo

MIME = "application/pdf"


async def report_data(ctx: Ctx) -> ReportData:
    """Everything the report shows, read for the person's last 90 days."""
    person = ctx.person
    assert person is not None
    s, pid, end = ctx.session, person.id, ctx.today
    start = end - timedelta(days=REPORT_DAYS - 1)
    # The baseline band on the first days needs the 4 weeks before them.
    daily = await repo.daily_scores(s, pid, start - timedelta(days=28))
    runs = await repo.run_scores(s, pid, start)
    escalations = await repo.escalation_notes_since(s, pid, start)
    symptoms, _ = await repo.flags_since(s, pid, start, end + timedelta(days=1))
    core = await repo.activity_days(s, pid, "core_done", start)
    notes = await repo.notes_since(s, pid, start)
    details = [r for r in await repo.runs_since(s, pid, start) if r.day <= end]
    answers = await repo.pain_context_since(s, pid, start)
    counted = pain_context.count_bad_days(daily, answers, start, end)
    strength = (
        len(await repo.activity_days(s, pid, plans.STRENGTH_DONE, person.strength_started))
        if person.strength_started is not None
        else 0
    )
    return ReportData(
        end=end,
        daily={d: v for d, v in daily.items() if d <= end},
        runs=runs,
        escalations=escalations,
        flags=sorted((d, code) for d, codes in symptoms.items() for code in codes),
        core_done=core,
        notes=notes,
        strength_started=person.strength_started,
        episode_tier=person.episode_tier,
        episode_opened=person.episode_opened,
        episode_rest=person.episode_rest,
        cleared_on=person.cleared_on,
        weeks=run_load.weekly_load(details, end, weeks=REPORT_DAYS // 7),
        unit=run_load.preferred_unit(details),
        context=tuple(pain_context.count_lines(ctx.content.pain_context, counted, REPORT_DAYS)),
        strength_done=strength,
        ladder_stage=person.ladder_stage,
    )


async def cmd_report(ctx: Ctx, _: Command) -> list[Reply]:
    """The 90-day report as a PDF document."""
    data = await report_data(ctx)
    if not (data.scores or data.runs or data.escalations or data.flags or data.notes):
        return [
            Reply(
                f"Nothing to report yet: no scores in the last {REPORT_DAYS} days. Send a "
                "number from 0 to 10, or /checkin, to start.",
                private=True,
            )
        ]
    # Rendering takes about a second: off the event loop, so others' check-ins go on.
    pdf = await asyncio.to_thread(render_report, data)
    name = f"si-checkin-report-{ctx.today.isoformat()}.pdf"
    return [
        Reply(
            f"Your last {REPORT_DAYS} days on one page, for your physio or doctor: scores, "
            "the advice I gave, warning signs, core work and your notes. It has no name on it; "
            "it shows what you told me and is not a diagnosis.",
            document=Attachment(name, pdf, MIME),
            private=True,
        )
    ]
