"""The runtime's commands: `simulate` for marketers, and the operator's `deal-closed`, `status`,
`cancel` and `task done` (the print room's `letters` commands are in cli_letters.py).

Registered on the one `hundred` app by `cli.py`. Every import of the runtime stack happens inside a
command, so `hundred validate` never pays for SQLAlchemy or Prefect. Operator commands reach the
running system through the ledger (HUNDRED_HOME or HUNDRED_DATABASE_URL) and the Prefect API
(PREFECT_API_URL, or the local server of a running `hundred up`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from hundred.cli.app import LangOption, UserError, app, out, read_deal

task_app = typer.Typer(help="Tasks for account managers: mark one done.", no_args_is_help=True)
app.add_typer(task_app, name="task")


def _ledger(must_exist: bool = True) -> Any:
    """The ledger of this HUNDRED_HOME (or HUNDRED_DATABASE_URL); a clear error when there is none."""
    from sqlalchemy.engine import make_url  # lazy: the runtime stack stays out of `hundred validate`

    from hundred import bootstrap  # lazy: the runtime stack stays out of `hundred validate`

    settings = bootstrap.settings()
    url = make_url(settings.ledger_url)
    path = url.database if url.get_backend_name() == "sqlite" else None
    if must_exist and path and not Path(path).exists():
        raise UserError(
            f"nothing is running here: no ledger at {path}; start hundred with `hundred up` "
            f"(or set HUNDRED_HOME / HUNDRED_DATABASE_URL to the running one's)"
        )
    try:
        return bootstrap.ledger(settings)
    except Exception as exc:  # a database that does not answer: one line, not a traceback
        raise UserError(f"cannot open the ledger: {type(exc).__name__}: {exc}") from None


def _runtime() -> Any:
    """A Runtime on this home's ledger and the running Prefect API."""
    from hundred import bootstrap  # lazy: the runtime stack stays out of `hundred validate`

    settings = bootstrap.settings()
    if not bootstrap.prefect_api(settings):
        raise UserError(
            f"nothing is running: no Prefect API (PREFECT_API_URL is unset and no `hundred up` "
            f"runs on {settings.home}); start one with `hundred up`"
        )
    return bootstrap.runtime(settings, ledger_=_ledger(must_exist=False))


@app.command()
def simulate(
    journey: Annotated[str, typer.Argument(help="Journey file or id, e.g. journeys/first-100-days.yaml")],
    deal: Annotated[Path, typer.Option("--deal", help="Deal payload (JSON), as the CRM sends it.")],
    hold: Annotated[list[str] | None, typer.Option("--hold", help="A touch that never completes (repeatable).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the events as JSON (a stable contract).")] = False,
    lang: LangOption = None,
) -> None:
    """Play a journey for one customer in virtual time: what happens when, and what waits on what.

    Print staff post each letter on its print-by day and owners finish tasks on their due day;
    --hold TOUCH keeps that touch from ever completing, so you see what waits on it (a held affirm
    touch keeps the referral waiting). Nothing is sent and no server is needed.

    \b
    Examples:
      hundred simulate first-100-days --deal examples/deal-nl.json
      hundred simulate first-100-days --deal examples/deal-nl.json --hold thank-you-letter
      hundred simulate first-100-days --deal examples/deal-nl.json --json
      hundred simulate first-100-days --deal examples/deal-nl.json --lang en
    """
    from hundred.adapters.ledger import Ledger  # lazy: SQLAlchemy stays out of `hundred validate`
    from hundred.cli.app import _load  # lazy: the command modules import `app` from there
    from hundred.service.simulate import simulate as run_simulation  # lazy: as above

    model, templates_dir, deal_model = _load(journey, deal)
    unknown = sorted(set(hold or ()) - {t.id for _, t in model.touches()})
    if unknown:
        raise UserError(f"--hold {unknown[0]}: the journey has no touch with that id")
    result = run_simulation(model, deal_model, templates_dir, lambda clock: Ledger.memory(clock=clock), set(hold or ()))
    if as_json:
        print(json.dumps(result.to_json(), indent=2, ensure_ascii=False))
        return
    _print_simulation(result, lang)


def _print_simulation(result: Any, lang: str | None = None) -> None:
    """The story, one line per event, in the journey's language (or --lang); every time is in the
    journey's time zone, as the first line says."""
    from zoneinfo import ZoneInfo  # lazy: keeps `hundred validate` and `plan` fast (measured: bench/validate.py)

    from hundred.rendering.i18n import (
        words,  # lazy: keeps `hundred validate` and `plan` fast (measured: bench/validate.py)
    )
    from hundred.reports.timeline.words import (  # lazy: keeps `hundred validate` and `plan` fast (measured: bench/validate.py)
        SHORT,
        verdict_text,
    )

    w = words(lang or result.journey.locale, "simulate")
    zone = ZoneInfo(result.journey.timezone)
    labels = {b.phase: b.title for b in result.journey.phases}
    phase_w = max(len(v) for v in labels.values())
    touch_w = max(len(e.touch) for e in result.events) if result.events else 10

    def moment(at: Any) -> str:
        local = at.astimezone(zone)
        return f"{w.date(local, SHORT)} {w.time(local)}"

    closed = result.deal.closed_at.astimezone(zone)
    out.print(
        w(
            "{name} · deal {deal} · closed {date}, {time} · times in {zone}",
            name=result.journey.name,
            deal=result.deal.id,
            date=w.date(closed, SHORT + " y"),
            time=w.time(closed),
            zone=result.journey.timezone,
        )
    )
    whens = [moment(e.at) for e in result.events]
    when_w = max((len(x) for x in whens), default=16)
    for when, e in zip(whens, result.events, strict=False):
        text = _sim_detail(w, e, moment, lambda note: verdict_text(words(w.locale.language, "timeline"), note))
        detail = f"  ({text})" if text and e.event in ("waiting", "skipped", "expired", "failed", "scheduled") else ""
        out.print(
            f"{when:<{when_w}} {labels.get(e.phase, e.phase):<{phase_w}}  {e.touch:<{touch_w}}  "
            f"{_state_word(w, e.event)}{detail}"
        )


def _state_word(w: Any, state: str) -> str:
    """A touch's state or event as `simulate` prints it (the JSON keeps the English names)."""
    return {
        "scheduled": w("scheduled"),
        "waiting": w("waiting"),
        "delivered": w("delivered"),
        "posted": w("posted"),
        "done": w("done"),
        "skipped": w("skipped"),
        "expired": w("expired"),
        "failed": w("failed"),
        "running": w("running"),
        "planned": w("planned"),
        "cancelled": w("cancelled"),
    }.get(state, state)


def _sim_detail(w: Any, e: Any, moment: Any, verdict: Any) -> str:
    """An event's detail in `w`'s words: the simulation's own notes by their message id, the
    engine's reasons (a condition's verdict) through the timeline's words, anything else as is."""
    if e.note == "waits for the affirm phase: {blockers}":
        blockers = ", ".join(f"{tid} ({_state_word(w, state)})" for tid, state in e.values["blockers"])
        return w("waits for the affirm phase: {blockers}", blockers=blockers)
    if e.note == "still {state} when the journey ends":
        return w("still {state} when the journey ends", state=_state_word(w, e.values["state"]))
    if e.note == "runs {when}, to print":
        return w("runs {when}, to print", when=moment(e.values["when"]))
    if e.note == "runs {when}":
        return w("runs {when}", when=moment(e.values["when"]))
    if e.note == "waits for the affirm phase":
        return w("waits for the affirm phase")
    if e.note == "held: never completes":
        return w("held: never completes")
    return verdict(e.detail) if e.detail else ""


@app.command("deal-closed")
def deal_closed(
    payload: Annotated[Path, typer.Argument(help="Deal payload (JSON), as the CRM sends it.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Start a closed deal's journey on the running system and print its scheduled touches.

    A repeat for the same deal schedules nothing new.

    \b
    Example:
      hundred deal-closed examples/deal-nl.json
    """
    from hundred.service.runtime import (
        IntakeError,  # lazy: keeps `hundred validate` and `plan` fast (measured: bench/validate.py)
    )

    data = read_deal(payload)
    runtime = _runtime()
    try:
        result = runtime.deal_closed(data)
    except IntakeError as exc:
        raise UserError(str(exc)) from None
    if as_json:
        print(json.dumps(result.to_json(), indent=2, ensure_ascii=False))
        return
    out.print(
        f"deal {result.deal}: journey {result.journey} (version {result.version})"
        + ("" if result.created else " was already running; nothing new scheduled")
    )
    _print_touches(result.touches, runtime.ledger.journey(result.deal).journey_model())


def _print_touches(touches: list[Any], journey: Any) -> None:
    """One line per touch; a waiting touch says which affirm touches hold it (a failed one first)."""
    from hundred.planning.engine import (
        gate_blockers,  # lazy: keeps `hundred validate` and `plan` fast (measured: bench/validate.py)
    )

    holding = sorted(gate_blockers(journey, {t.touch_id: t.state for t in touches}), key=lambda h: h[1] != "failed")
    waits = "waits for " + ", ".join(f"{tid} ({state})" for tid, state in holding) if holding else ""
    for t in touches:
        due = t.due or t.planned_due
        when = "after affirm" if t.state == "waiting" else f"{due:%Y-%m-%d %H:%M} UTC"
        extra = f"  {t.error}" if t.error else (f"  {waits}" if t.state == "waiting" and waits else "")
        out.print(f"  {t.touch_id:<24} {t.phase:<11} {t.channel:<8} {t.state:<10} {when}{extra}")


@app.command()
def status(
    deal: Annotated[str | None, typer.Argument(help="A deal id: show its touches.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print as JSON (a stable contract).")] = False,
) -> None:
    """Every journey in flight, or one customer's 100 days: every touch planned against what
    happened (in the journey's language), what is waiting and on what, the letters with their
    print and post dates, and the events.

    \b
    Examples:
      hundred status
      hundred status D-1042
      hundred status D-1042 --json
    """
    from hundred.service.outcomes import (
        touch_json,  # lazy: keeps `hundred validate` and `plan` fast (measured: bench/validate.py)
    )

    ledger = _ledger()
    if deal is None:
        rows = ledger.journeys()
        data = {
            "journeys": [
                {
                    "deal": j.deal_id,
                    "journey": j.journey_id,
                    "version": j.version,
                    "state": j.state,
                    "touches": _counts(ledger.touches(j.deal_id)),
                }
                for j in rows
            ]
        }
        if as_json:
            print(json.dumps(data, indent=2))
            return
        if not rows:
            out.print("no journeys yet")
        for j in data["journeys"]:
            counts = ", ".join(f"{n} {s}" for s, n in j["touches"].items())
            out.print(f"{j['deal']:<16} {j['journey']:<22} {j['state']:<10} {counts}")
        return
    row = ledger.journey(deal)
    if row is None:
        raise UserError(f"no journey for deal {deal}; `hundred status` lists them")
    touches = ledger.touches(deal)
    from hundred import bootstrap  # lazy: the runtime stack stays out of `hundred validate`

    story = bootstrap.figures(bootstrap.settings(), ledger_=ledger).story(deal)
    if as_json:
        one: dict[str, Any] = {
            "deal": deal,
            "journey": row.journey_id,
            "version": row.version,
            "state": row.state,
            "touches": [touch_json(t) for t in touches],
        }
        if story is not None:  # added keys; the ones above are the stable contract
            extra = {t.touch: t.to_json() for t in story.touches}
            for t in one["touches"]:
                t.update(extra.get(t["touch"], {}))
            one.update(story.to_json())
        print(json.dumps(one, indent=2, ensure_ascii=False))
        return
    if story is None:  # the journey went between the two reads: the plain list is still the truth
        _print_touches(touches, row.journey_model())
        return
    from hundred.reports.figures.text import story_text  # lazy: the runtime stack stays out of `hundred validate`

    out.print(story_text(story))


def _counts(touches: list[Any]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for t in touches:
        counts[t.state] = counts.get(t.state, 0) + 1
    return counts


@app.command()
def cancel(
    deal: Annotated[str, typer.Argument(help="The deal whose journey stops.")],
    reason: Annotated[
        str, typer.Option("--reason", help="Why, for the ledger and the Prefect UI.")
    ] = "cancelled by an operator",
) -> None:
    """Stop a deal's journey: nothing more is sent, queued letters leave the print queue.

    \b
    Example:
      hundred cancel D-1042 --reason "deal churned"
    """
    try:
        report = _runtime().cancel(deal, reason)
    except LookupError as exc:
        raise UserError(str(exc).strip("'\"")) from None
    for line in report.lines or ["nothing to cancel"]:
        out.print(line)


@app.command()
def retry(
    deal: Annotated[str, typer.Argument(help="The deal id.")],
    touch: Annotated[str, typer.Argument(help="The failed touch, e.g. next-steps-email.")],
) -> None:
    """Run a failed touch again, once its cause is fixed (a template, the mail server).

    Template text is read when the touch runs, so a corrected template is what goes out; an email
    that may already have been delivered is still not sent twice.

    \b
    Example:
      hundred retry D-1042 next-steps-email
    """
    try:
        outcome = _runtime().retry(deal, touch)
    except (LookupError, ValueError) as exc:
        raise UserError(str(exc).strip("'\"")) from None
    out.print(f"{deal} · {touch}: {outcome.detail} (now {outcome.state})")


@task_app.command("done")
def task_done(
    deal: Annotated[str, typer.Argument(help="The deal id.")],
    touch: Annotated[str, typer.Argument(help="The task's touch id, e.g. welcome-call.")],
) -> None:
    """Mark an account manager's task done (which may complete the affirm phase).

    \b
    Example:
      hundred task done D-1042 welcome-call
    """
    try:
        outcome = _runtime().task_done(deal, touch)
    except (LookupError, ValueError) as exc:
        raise UserError(str(exc).strip("'\"")) from None
    out.print(f"{deal} · {touch}: {outcome.state}")


@app.command()
def up(
    demo: Annotated[bool, typer.Option("--demo", help="Submit the example deal and show its journey live.")] = False,
    day_seconds: Annotated[
        float | None,
        typer.Option("--day-seconds", min=0.01, help="Compress time: one journey day lasts this many seconds."),
    ] = None,
    port: Annotated[int, typer.Option("--port", help="Web app port.")] = 8000,
    prefect_port: Annotated[int, typer.Option("--prefect-port", help="Local Prefect server port.")] = 4200,
) -> None:
    """Run hundred here: a local Prefect server, the journey flows and the web app, until Ctrl-C.

    State lives in HUNDRED_HOME (default .hundred/): the ledger, the outbox, Prefect's database and
    the logs. A part that stops is restarted. One `up` per HUNDRED_HOME.

    \b
    Examples:
      hundred up --demo --day-seconds 5
      hundred up --port 8080 --prefect-port 4300
    """
    from hundred.up.supervisor import (
        main as run_up,  # lazy: the supervisor loads only for `hundred up`; imports Prefect only once the server is up
    )

    code = run_up(demo=demo, day_seconds=day_seconds, port=port, prefect_port=prefect_port)
    if code:
        raise typer.Exit(code)
