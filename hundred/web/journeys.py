"""How each journey is doing, on the web: `/journeys`, one journey, one customer, and the exports.

- `GET /journeys` (and `/journeys/<journey>`, `?version=`): every journey's figures for the journeys
  received in `?since=…&until=…` (dates, both included; default: all), in each journey's language
  (`?lang=en` for one language);
- `GET /journeys.json`, `/journeys.csv`: the same figures for programs (README documents both);
- `GET /journeys/<journey>/deals/<deal>`: one customer's 100 days, what happened drawn over the plan.

Who may look is decided in one place, hundred/web/marketer.py. The figures are counted by SQL in
the ledger (hundred/adapters/ledger/figures.py) through `bootstrap.figures`; these handlers only
read the query, call it off the event loop and render.
"""

from __future__ import annotations

import re
import threading
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from hundred import bootstrap
from hundred.reports.figures.export import report_csv, report_json
from hundred.reports.figures.page import STYLE_HASH, Chrome, Links, render_deal_page, render_journeys_page
from hundred.service.figures import FigureReport, JourneyFigures, period_of
from hundred.service.settings import Settings
from hundred.web.guard import Refused
from hundred.web.marketer import csrf_for, marketer

JOURNEY_ID = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
VERSION_ID = re.compile(r"[0-9a-f]{6,64}")
LANG = re.compile(r"[A-Za-z]{2,3}(?:[_-][A-Za-z]{2,4})?")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
PAGE_POLICY = (
    f"default-src 'none'; style-src '{STYLE_HASH}'; img-src 'self' data:; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
# The deal page is the timeline page, whose own <meta> policy allows its inline styles and its one
# script by hash; the header adds what a <meta> policy cannot say.
DEAL_POLICY = "frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
NAV = ({"label": "Print room", "href": "/print"},)


class FigureServices:
    """The figures on this home's ledger, opened on first use (the ledger may not exist yet when
    the web app starts)."""

    def __init__(self, settings: Settings, figures: JourneyFigures | None = None):
        self.settings = settings
        self._figures = figures
        self._lock = threading.Lock()

    def figures(self) -> JourneyFigures:
        with self._lock:
            if self._figures is None:
                self._figures = bootstrap.figures(self.settings)
            return self._figures


def _date(value: str | None, name: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise Refused(400, "{name}: the date must look like 2026-12-01", name=name) from None


def _lang(value: str | None) -> str | None:
    if not value:
        return None
    if not LANG.fullmatch(value):
        raise Refused(400, "lang: a language such as en, nl or nl_NL")
    return value


def _query(since: date | None, until: date | None, lang: str | None) -> dict[str, str]:
    return {
        k: v
        for k, v in {
            "since": since.isoformat() if since else "",
            "until": until.isoformat() if until else "",
            "lang": lang or "",
        }.items()
        if v
    }


def _known_journey(journey: str) -> str:
    if not JOURNEY_ID.fullmatch(journey) or len(journey) > 64:
        raise Refused(404, "no such journey")
    return journey


def build_journeys_router(services: FigureServices) -> APIRouter:
    router = APIRouter()

    async def report(
        since: date | None, until: date | None, journey: str | None = None, version: str | None = None
    ) -> FigureReport:
        figures = await run_in_threadpool(services.figures)
        return await run_in_threadpool(figures.report, period_of(since, until), journey, version)

    def page(request: Request, html: str, policy: str = PAGE_POLICY) -> HTMLResponse:
        response = HTMLResponse(html)
        response.headers["Content-Security-Policy"] = policy
        return response

    def chrome(request: Request, caller: Any) -> Chrome:
        return Chrome(logged_in=caller.kind == "session", csrf=csrf_for(request, caller), nav=NAV)

    def figures_page(
        request: Request,
        caller: Any,
        result: FigureReport,
        start: date | None,
        end: date | None,
        language: str | None,
        *,
        one: bool = False,
        version: str | None = None,
    ) -> Response:
        """All journeys' page and one journey's are one page, so they are rendered in one place."""
        html = render_journeys_page(
            result.journeys,
            now=result.now,
            since=start,
            until=end,
            lang=language,
            links=Links(query=_query(start, end, language)),
            chrome=chrome(request, caller),
            one=one,
            version=version,
        )
        return page(request, html)

    async def export(request: Request, since: str | None, until: str | None, journey: str | None) -> FigureReport:
        """The JSON and the CSV export answer the same question, checked the same way."""
        marketer(request)
        start, end = _date(since, "since"), _date(until, "until")
        return await report(start, end, _known_journey(journey) if journey else None)

    @router.get("/journeys", response_class=HTMLResponse)
    async def journeys_page(
        request: Request, since: str | None = None, until: str | None = None, lang: str | None = None
    ) -> Response:
        caller = marketer(request)
        start, end, language = _date(since, "since"), _date(until, "until"), _lang(lang)
        result = await report(start, end)
        return figures_page(request, caller, result, start, end, language)

    @router.get("/journeys.json")
    async def journeys_json(
        request: Request, since: str | None = None, until: str | None = None, journey: str | None = None
    ) -> Response:
        result = await export(request, since, until, journey)
        return JSONResponse(report_json(result.journeys, result.now, result.period))

    @router.get("/journeys.csv")
    async def journeys_csv(
        request: Request, since: str | None = None, until: str | None = None, journey: str | None = None
    ) -> Response:
        result = await export(request, since, until, journey)
        return Response(
            report_csv(result.journeys),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="journeys.csv"'},
        )

    @router.get("/journeys/{journey}", response_class=HTMLResponse)
    async def journey_page(
        request: Request,
        journey: str,
        since: str | None = None,
        until: str | None = None,
        lang: str | None = None,
        version: str | None = None,
    ) -> Response:
        caller = marketer(request)
        journey = _known_journey(journey)
        if version is not None and not VERSION_ID.fullmatch(version):
            raise Refused(404, "no such version")
        start, end, language = _date(since, "since"), _date(until, "until"), _lang(lang)
        result = await report(start, end, journey, version)
        if not result.journeys:
            if version is None:
                raise Refused(404, "no such journey")
            raise Refused(404, "no such version of this journey")
        return figures_page(request, caller, result, start, end, language, one=True, version=version)

    @router.get("/journeys/{journey}/deals")
    async def find_deal(request: Request, journey: str, deal: str = "") -> Response:
        marketer(request)
        journey = _known_journey(journey)
        deal = deal.strip()
        if not deal or len(deal) > 200 or _CONTROL.search(deal):
            raise Refused(400, "give a deal id, such as D-1042", back=f"/journeys/{quote(journey, safe='')}")
        return RedirectResponse(f"/journeys/{quote(journey, safe='')}/deals/{quote(deal, safe='')}", status_code=303)

    @router.get("/journeys/{journey}/deals/{deal}", response_class=HTMLResponse)
    async def deal_page(request: Request, journey: str, deal: str, lang: str | None = None) -> Response:
        caller = marketer(request)
        journey = _known_journey(journey)
        language = _lang(lang)
        if len(deal) > 200 or _CONTROL.search(deal):
            raise Refused(404, "no such deal")
        figures = await run_in_threadpool(services.figures)
        story = await run_in_threadpool(figures.story, deal)
        if story is None:
            raise Refused(404, "deal {deal} has no journey", deal=deal)
        if story.facts.journey != journey:  # the deal is on another journey: its own page
            return RedirectResponse(
                f"/journeys/{quote(story.facts.journey, safe='')}/deals/{quote(deal, safe='')}", status_code=303
            )
        try:
            html = await run_in_threadpool(
                render_deal_page,
                story,
                lang=language,
                back=(story.journey.name, f"/journeys/{quote(journey, safe='')}"),
                chrome=chrome(request, caller),
            )
        except ValueError as exc:
            raise Refused(409, "{problems}", problems=str(exc)) from None
        return page(request, html, DEAL_POLICY)

    return router


def install_journeys(app: FastAPI, home: Path, settings: Settings, figures: JourneyFigures | None = None) -> None:
    """The figures' routes on the app (after the print room, whose door they use for now)."""
    services = FigureServices(settings, figures)
    app.state.figure_services = services
    app.include_router(build_journeys_router(services))
