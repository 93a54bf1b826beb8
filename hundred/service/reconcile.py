"""Reconcile: repair what a crash, an outage or an outside hand left, from the ledger's side.

The ledger is the calendar, so repair means making sure the calendar's work has a run:

- runs a dead process took (claimed and never started, or running past their lease) are run again,
  and the claims they held are let go, so their touches and deals are taken at once; so are the
  claims of runs that crashed or failed holding them;
- every moment with due or soon-due touches has its deliver run (a touch left `planned` by a
  Prefect outage becomes `scheduled`);
- touches past due that no run holds get a catch-up run now; so do stored deals no run took;
- gates whose completion was missed open, and finished journeys close;
- per-touch runs left from before the ledger became the calendar are cancelled;
- the periodic deployments' schedules follow the settings (a pool deployed from prefect.yaml too).

Its cost grows with moments and repairs, not with the touches of every journey in flight: each
step is one grouped query plus a call per moment or per repair (bench/soak.py measures a pass).
"""

from __future__ import annotations

from datetime import timedelta

from hundred.planning.engine import moment_of
from hundred.planning.states import TouchState
from hundred.reports.counting import plural
from hundred.service.intake import DEAL_KINDS
from hundred.service.outcomes import Report, iso_utc
from hundred.service.runtime import Runtime
from hundred.service.schedules import schedules

STORED_GRACE = timedelta(seconds=30)  # a stored deal no run has taken for this long gets a run now


def reconcile(rt: Runtime) -> Report:
    report = Report("reconcile")
    now = rt.now()
    settings = rt.settings
    rt.scheduler.forget()  # repair from what Prefect says now, not from what this process made

    for run in rt.scheduler.stale_runs(now - rt.lease):
        rt.scheduler.take_over(run, f"its {run.phase} run had no live process for {rt.lease}")
        rt.ledger.release_claims([run.run_id])
        rt.ledger.release_intake_claims([run.run_id])
        report.add("taken over", f"{run.flow} run {run.run_id}: {run.phase} since {iso_utc(run.since)}; run again")

    holders = rt.ledger.claim_holders(now)
    ended = rt.scheduler.ended(holders) if holders else set()
    if ended:  # a run that crashed or failed while holding claims: what it held goes to the next run
        released = rt.ledger.release_claims(ended) + rt.ledger.release_intake_claims(ended)
        report.add("released", f"{plural(released, 'claim')} of {plural(len(ended), 'ended run')} let go; run now")
        rt.ensure_moment(moment_of(now, settings.moment_seconds or 1.0), released)
        rt.scheduler.ensure_deal_closed(moment_of(now, 1.0))

    catch_up = timedelta(seconds=settings.catch_up_seconds)
    horizon = now + max(timedelta(seconds=2 * settings.reconcile_seconds), timedelta(hours=1))
    for moment, count in rt.ledger.due_moments(until=horizon):
        if moment < now - catch_up:
            continue  # long past: the catch-up below takes what is left of it
        runs = rt.ensure_moment(moment, count)
        for t in rt.ledger.touches(states=[TouchState.SCHEDULED], moment=moment):
            if t.flow_run_id not in runs and not t.claimed_by:  # its run was deleted: this one delivers it
                rt.ledger.update_touch(t.deal_id, t.touch_id, in_states=[TouchState.SCHEDULED], flow_run_id=runs[0])
                report.add("recreated", f"{t.deal_id} · {t.touch_id}: its run was gone; run {runs[0]} delivers it")
    for deal_id in sorted({t.deal_id for t in rt.ledger.touches(states=[TouchState.PLANNED]) if t.moment}):
        for touch_id in rt.schedule(deal_id):
            report.add("scheduled", f"{deal_id} · {touch_id}: scheduled")

    # due touches no run holds: taken now when their moment's run has ended (failed through its
    # retries, say) or is gone, or when it has not started for `catch_up` (a runner too busy)
    due = rt.ledger.overdue(now=now, grace=timedelta(0))
    if due:
        gone = rt.scheduler.ended({t.flow_run_id for t in due if t.flow_run_id})
        late = [
            t
            for t in due
            if not t.flow_run_id or t.flow_run_id in gone or (t.due is not None and t.due <= now - catch_up)
        ]
        if late:
            rt.ensure_moment(moment_of(now, settings.moment_seconds or 1.0), len(late))
            for t in late[:50]:
                report.add("caught up", f"{t.deal_id} · {t.touch_id}: due {iso_utc(t.due)}, no run holds it; run now")

    grace = min(STORED_GRACE, timedelta(seconds=settings.catch_up_seconds))  # never later than a touch
    waiting = rt.ledger.waiting_intakes(before=now - grace, kinds=DEAL_KINDS)
    if waiting:
        deal_run = rt.scheduler.ensure_deal_closed(moment_of(now, 1.0))
        for stored in waiting[:50]:
            report.add(
                "intake",
                f"intake {stored.intake_id} (deal {stored.deal_id}): stored, not started; run {deal_run} starts it",
            )

    for deal_id in rt.ledger.journeys_to_repair():
        for touch_id in rt.after_complete(deal_id):
            report.add("gate", f"{deal_id} · {touch_id}: scheduled after the affirm phase")
        journey_row = rt.ledger.journey(deal_id)
        if journey_row is not None and journey_row.state == "completed":
            report.add("completed", f"{deal_id}: every touch finished; journey completed")

    for change in rt.scheduler.keep_schedules(schedules(settings)):
        report.add("schedules", change)

    retired = rt.scheduler.retire_touch_runs()
    if retired:
        report.add("retired", f"{retired} per-touch runs from before the upgrade cancelled (the ledger delivers them)")
    return report
