"""The `hundred` command line's base: the Typer app, its output, the shared options and loaders,
and `main` with the error handling every command shares (the commands are in the modules beside
this one: journeys.py, operate.py, printroom.py, intake.py; `hundred.cli` registers them).

Exit codes: 0 success, 1 a problem in the user's input (with a message that names what to fix),
2 a usage error. No traceback reaches a marketer; `--debug` shows one for developers. Commands
that need no Prefect never import it, so `hundred validate` stays fast.
"""

from __future__ import annotations

import copy
import logging
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

# pydantic scans every installed distribution's entry points for plugins the first time a model
# is built: a quarter of `hundred validate`'s start-up with Prefect's dependencies installed.
# hundred uses no pydantic plugins; an operator can still opt in by setting the variable.
os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")

import typer
from typer.core import TyperArgument, TyperCommand

from hundred.cli.paths import UserError, input_file, resolve_journey, shown
from hundred.journeys.problems import Invalid

if TYPE_CHECKING:  # types only: a runtime import here would slow `hundred validate` (bench/validate.py)
    from hundred.deals.model import Deal
    from hundred.journeys.model import Journey

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    rich_markup_mode=None,
    help="hundred: every closed deal becomes a 100-day onboarding journey.",
)


class Command(TyperCommand):
    """Every `hundred` command: arguments are named in capitals, in usage lines, help and errors
    (`Usage: hundred plan [OPTIONS] JOURNEY`, `Missing argument 'JOURNEY'`), as command lines
    conventionally write what the user fills in; an optional one is in brackets (`[DEAL]`)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for param in self.params:
            if isinstance(param, TyperArgument) and param.metavar is None and param.name:
                param.metavar = param.name.upper()

    def collect_usage_pieces(self, ctx: Any) -> list[str]:
        pieces = [self.options_metavar] if self.options_metavar else []
        for param in self.get_params(ctx):
            if isinstance(param, TyperArgument):
                name = param.metavar or (param.name or "").upper()
                pieces.append((name if param.required else f"[{name}]") + ("..." if param.nargs != 1 else ""))
            else:
                pieces.extend(param.get_usage_pieces(ctx))
        return pieces


def use_command_class(*apps: typer.Typer) -> None:
    """Build every command registered on these apps as a `Command` (called once all are registered)."""
    for each in apps:
        for info in each.registered_commands:
            if info.cls in (None, TyperCommand):
                info.cls = Command
        use_command_class(*(group.typer_instance for group in each.registered_groups if group.typer_instance))


class _Plain:
    """Plain line output; rich is imported only where a table needs it, to keep validate fast."""

    def __init__(self, stream_name: str):
        self.stream_name = stream_name

    def print(self, text: str) -> None:
        print(text, file=getattr(sys, self.stream_name), flush=True)


out = _Plain("stdout")
err = _Plain("stderr")
_state = {"debug": False}


def _check_lang(value: str | None) -> str | None:
    """`--lang nl`, `en`, `nl_NL`, `en-GB`: a language babel knows, else a usage error (exit 2)."""
    if value is None:
        return None
    from babel import (  # lazy: babel costs a tenth of `hundred validate`; only formatting needs it
        Locale,
        UnknownLocaleError,
    )

    try:
        Locale.parse(value.strip().replace("-", "_"))
    except (ValueError, UnknownLocaleError):
        raise typer.BadParameter(f"unknown language '{value}'; use a language code such as nl, en or nl_NL") from None
    return value.strip().replace("-", "_")


# `--lang` of the commands a marketer reads (plan, preview, simulate); --json output never changes.
LangOption = Annotated[
    str | None,
    typer.Option(
        "--lang",
        callback=_check_lang,
        help="Language of the table and pages (nl, en, nl_NL ...); default: the journey's locale. Not --json.",
    ),
]


@app.callback()
def _root(
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks for unexpected errors.")] = False,
) -> None:
    _state["debug"] = debug


def _load(journey: str, deal: Path) -> tuple[Journey, Path, Deal]:
    model, templates_dir, deal_model, _ = _load_linted(journey, deal, lint=False)
    return model, templates_dir, deal_model


def _load_linted(journey: str, deal: Path, lint: bool = True) -> tuple[Journey, Path, Deal, list[dict[str, Any]]]:
    """Journey, templates folder, deal, and the Coleman linter's warnings (as JSON, for the timeline)."""
    from hundred.validation.validate import (
        load_checked,  # lazy: keeps `hundred validate` and `plan` fast (measured: bench/validate.py)
    )

    path = resolve_journey(journey)
    input_file(deal, "--deal", "a deal file (JSON)")  # every path is checked before any work is done
    checked = load_checked(path, lint=lint)
    # load_checked raises Invalid unless the journey is usable; it always finds a templates folder
    assert checked.journey is not None and checked.templates_dir is not None
    return checked.journey, checked.templates_dir, read_deal(deal), checked.lint


def read_deal(deal: Path, option: str = "--deal") -> Deal:
    """A deal file as a Deal, or one UserError line per problem, each naming its field; `option`
    names where the path came from ("" for a positional argument)."""
    from hundred.deals.model import (  # lazy: keeps `hundred validate` and `plan` fast (measured: bench/validate.py)
        DealError,
        load_deal,
    )

    input_file(deal, option, "a deal file (JSON)")
    try:
        return load_deal(deal)
    except DealError as exc:
        raise UserError(str(exc)) from None


def command_named(argv: list[str]) -> str | None:
    """The command (or group) a command line names: its first word that is not an option (the
    root's one option, --debug, takes no value): `hundred --debug validate …` names `validate`."""
    return next((arg for arg in argv if not arg.startswith("-")), None)


def only_the_named(full: typer.Typer, argv: list[str]) -> typer.Typer:
    """The app with only the command (or group) `argv` names, when it names one: Typer builds every
    command's parameters from its signature before it runs one, ~30 ms of a 0.3 s `hundred
    validate` (bench/validate.py). Anything else (no command, --help, a typo) gets the full app, so
    help lists every command and a typo is answered with the near one."""
    name = command_named(argv)
    commands = [
        c
        for c in full.registered_commands
        if (c.name or typer.main.get_command_name(c.callback.__name__ if c.callback else "")) == name
    ]
    groups = [g for g in full.registered_groups if g.name == name]
    if not name or not (commands or groups):
        return full
    pruned = copy.copy(full)
    pruned.registered_commands, pruned.registered_groups = commands, groups
    return pruned


# The read-only commands leave without Python's teardown: they build many objects
# (models, parsed templates, an in-memory ledger) and write nothing but their output and the files
# they have closed, and tearing it all down (a full collection, then every module) was ~0.2 s of
# `simulate`'s ~1.1 s of CPU (bench/simulate.py). `status` only reads the ledger (a ledger it
# had to upgrade first was committed before it read), and the teardown was ~0.18 s of its ~0.7 s
# (bench/soak.py). Every other command exits the usual way.
LEAVE_AT_ONCE = frozenset({"validate", "plan", "simulate", "schema", "status"})


def console() -> None:
    """The `hundred` executable and `python -m hundred.cli`: `main`, and for the commands in
    LEAVE_AT_ONCE the process then ends with their output flushed and the exit code they chose.
    Only a process's own entry point may do that; code that calls `main` (the tests) gets it back."""
    if command_named(sys.argv[1:]) not in LEAVE_AT_ONCE:
        main()
        return
    try:
        main()
        code: object = 0
    except SystemExit as exc:
        code = exc.code
    _leave(code)


def _leave(code: object) -> None:
    """Flush what was written and end the process now with `code` (SystemExit's meaning: None is
    0, an int is itself, anything else is printed and is 1)."""
    if code is not None and not isinstance(code, int):
        print(code, file=sys.stderr)
        code = 1
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a reader that went away, as `hundred plan … | head` has
            pass
    os._exit(code or 0)


def main() -> None:
    """Console entry point: user errors print a message, unexpected ones a single line. The
    services' log lines (a warning that Prefect did not answer, say) are not a command's output:
    each command says what happened itself."""
    logging.getLogger("hundred").addHandler(logging.NullHandler())
    try:
        only_the_named(app, sys.argv[1:])(prog_name="hundred")  # standalone: click prints usage errors, exits 2
    except Invalid as exc:
        from hundred.journeys.shorten import (
            clip_quoted,  # lazy: keeps `hundred validate` and `plan` fast (measured: bench/validate.py)
        )

        for problem in exc.problems:
            err.print(clip_quoted(str(problem)))
        sys.exit(1)
    except UserError as exc:
        from hundred.journeys.shorten import (
            clip_quoted,  # lazy: keeps `hundred validate` and `plan` fast (measured: bench/validate.py)
        )

        err.print(clip_quoted(str(exc)))
        sys.exit(1)
    except OSError as exc:  # a file that went away or cannot be read, after the checks above
        err.print(f"{shown(exc.filename or '')}: {exc.strerror or exc}".lstrip(": "))
        sys.exit(1)
    except KeyboardInterrupt:
        err.print("interrupted")
        sys.exit(130)
    except Exception as exc:
        if _state["debug"]:
            raise
        err.print(f"unexpected error: {type(exc).__name__}: {exc} (run again with --debug for details)")
        sys.exit(1)
