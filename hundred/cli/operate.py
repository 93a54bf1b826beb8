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
from typing import TYPE_CHECKING, Annotated, Any

import typer

from hundred.cli.app import LangOption, app, out, read_deal
from hundred.cli.paths import UserError, refused, user_error

if TYPE_CHECKING:  # types only: the runtime stack stays out of `hundred validate`
    from hundred.adapters.ledger import Ledger as SqlLedger
    from hundred.service.runtime import Runtime
    from hundred.service.simulate import Simulation

task_app = typer.Typer(help="Tasks for account managers: mark one done.", no_args_is_help=True)
app.add_typer(task_app, name="task")


def _ledger(must_exist: bool = True) -> SqlLedger:
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


def _runtime() -> Runtime:
    """A Runtime on this home's ledger and, when one runs, its Prefect API (the ledger is the
    calendar: without Prefect, what a command changes is picked up when hundred runs again)."""
    from hundred import bootstrap  # lazy: the runtime stack stays out of `hundred validate`

    return bootstrap.runtime(bootstrap.settings(), ledger_=_ledger())


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


def _print_simulation(result: Simulation, lang: str | None = None) -> None:
    """The story, one line per event, in the journey's language (or --lang); every time is in the
    journey's time zone, as the first line says (the words: hundred/reports/story.py)."""
    from hundred.reports.story import (
        story,  # lazy: keeps `hundred validate` and `plan` fast (measured: bench/validate.py)
    )

    heading, lines = story(result.journey, result.deal, result.events, lang)
    out.print(heading)
    phase_w = max(len(b.title) for b in result.journey.phases)
    touch_w = max(len(e.touch) for e in lines) if lines else 10
    when_w = max((len(e.when) for e in lines), default=16)
    for e in lines:
        detail = f"  ({e.detail})" if e.detail else ""
        out.print(f"{e.when:<{when_w}} {e.phase:<{phase_w}}  {e.touch:<{touch_w}}  {e.state}{detail}")


@app.command("deal-closed")
def deal_closed(
    payload: Annotated[Path, typer.Argument(help="Deal payload (JSON), as the CRM sends it.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
    wait: Annotated[
        float,
        typer.Option("--wait", min=0, help="Seconds to wait for the running system to start it (0: do not wait)."),
    ] = 60.0,
) -> None:
    """Hand a closed deal to the running system, as the CRM's webhook does, and print its touches.

    The deal is stored in the ledger and started by the running `hundred up` (or worker pool) on
    its clock, like every other deal; a repeat for the same deal starts nothing new.

    \b
    Examples:
      hundred deal-closed examples/deal-nl.json
      hundred deal-closed examples/deal-nl.json --wait 0
    """
    import time  # lazy: keeps `hundred validate` and `plan` fast (measured: bench/validate.py)

    from hundred import bootstrap  # lazy: as above
    from hundred.service.outcomes import touch_json  # lazy: as above

    data = read_deal(payload, option="")
    raw = json.dumps(data.model_dump(mode="json"), ensure_ascii=False)
    settings = bootstrap.settings()
    intake = bootstrap.intake(settings, ledger_=_ledger(must_exist=False))
    answer = intake.closed(raw, source=f"cli {payload.name}")
    if answer.status >= 300:
        raise UserError("; ".join(f"{e['field'] or 'deal'}: {e['message']}" for e in answer.body.get("errors", [])))
    deal_id = answer.body["deal"]
    ledger = intake.ledger
    deadline = time.monotonic() + wait
    while ledger.journey(deal_id) is None and answer.body.get("run") and time.monotonic() < deadline:
        time.sleep(0.5)
    row = ledger.journey(deal_id)
    if row is None:
        why = (
            "no Prefect API answers (start hundred with `hundred up`)"
            if not answer.body.get("run")
            else f"its deal-closed run has not started it within {wait:g} s"
        )
        note = f"deal {deal_id}: stored as intake {answer.body['intake']}; not started yet: {why}"
        if as_json:
            print(json.dumps({**answer.body, "started": False, "detail": note}, indent=2, ensure_ascii=False))
        else:
            out.print(note)
        return
    touches = ledger.touches(deal_id)
    if as_json:
        print(
            json.dumps(
                {
                    "deal": deal_id,
                    "journey": row.journey_id,
                    "version": row.version,
                    "created": not answer.body.get("duplicate"),
                    "intake": answer.body["intake"],
                    "touches": [touch_json(t) for t in touches],
                },
                indent=2,
                ensure_ascii=False,
            )
        )
        return
    out.print(
        f"deal {deal_id}: journey {row.journey_id} (version {row.version})"
        + (" was already running; nothing new scheduled" if answer.body.get("duplicate") else "")
    )
    _print_touches(touches, row.journey_model())


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
        counts = ledger.touch_counts()  # one query, however many journeys
        data: dict[str, Any] = {  # the --json contract
            "journeys": [
                {
                    "deal": j.deal_id,
                    "journey": j.journey_id,
                    "version": j.version,
                    "state": j.state,
                    "touches": counts.get(j.deal_id, {}),
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
            mix = ", ".join(f"{n} {s}" for s, n in j["touches"].items())
            out.print(f"{j['deal']:<16} {j['journey']:<22} {j['state']:<10} {mix}")
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
        raise user_error(exc, "; `hundred status` lists the journeys") from None
    for line in report.lines or ["nothing to cancel"]:
        out.print(line)


@app.command()
def retry(
    deal: Annotated[str, typer.Argument(help="The deal id.")],
    touch: Annotated[str, typer.Argument(help="The failed touch, e.g. next-steps-email.")],
    delivered: Annotated[
        bool | None,
        typer.Option(
            "--delivered/--not-delivered",
            help="For an email that may already have been delivered: what the mail server's log shows "
            "for its Message-ID. --delivered records it as sent; --not-delivered sends it now.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Run a failed touch again, once its cause is fixed (a template, the mail server).

    Template text is read when the touch runs, so a corrected template is what goes out. An email
    that may already have been delivered (a run died while the mail server took it) is never sent
    again on a guess: look its Message-ID up in the mail server's log and say what you found.

    \b
    Examples:
      hundred retry D-1042 next-steps-email
      hundred retry D-1042 next-steps-email --not-delivered   # not in the mail log: send it
      hundred retry D-1042 next-steps-email --delivered       # in the mail log: record it as sent
    """
    from hundred.service.in_doubt import Checked  # lazy: the runtime stack stays out of `hundred validate`

    runtime = _runtime()
    checked = None if delivered is None else Checked.DELIVERED if delivered else Checked.NOT_DELIVERED
    with refused():
        outcome = runtime.retry(deal, touch, checked)
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
    runtime = _runtime()
    with refused():
        outcome = runtime.task_done(deal, touch)
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
    send_compressed: Annotated[
        bool,
        typer.Option("--send-compressed", help="Allow --day-seconds with a real SMTP server (HUNDRED_SMTP_URL)."),
    ] = False,
) -> None:
    """Run hundred here: a local Prefect server, the journey flows and the web app, until Ctrl-C.

    State lives in HUNDRED_HOME (default .hundred/): the ledger, the outbox, Prefect's database and
    the logs. A part that stops is restarted. One `up` per HUNDRED_HOME. With --day-seconds every
    deal on this home (webhook, CLI, import, demo) keeps the compressed clock; with a real SMTP
    server configured that would mail customers in minutes, so it needs --send-compressed.

    \b
    Examples:
      hundred up --demo --day-seconds 5
      hundred up --port 8080 --prefect-port 4300
    """
    from hundred.up.start import (
        main as run_up,  # lazy: the supervisor loads only for `hundred up`; imports Prefect only once the server is up
    )

    code = run_up(
        demo=demo, day_seconds=day_seconds, port=port, prefect_port=prefect_port, send_compressed=send_compressed
    )
    if code:
        raise typer.Exit(code)
