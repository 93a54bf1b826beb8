"""The web app the FastAPI way, over real HTTP: one door for every route (walked from `app.routes`,
so a new route is closed unless declared public), declared forms (a bad field is a 400 that
names it, a big form a 413), the lockout that `hundred letters unlock` ends, and the print room
in the print staff's language (Accept-Language or HUNDRED_PRINT_LANGUAGE; Dutch and English)
with its words from the gettext catalog, its times in the journey's zone by name, and plurals."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest
from babel.messages.extract import extract
from conftest import run_cli
from fastapi.routing import APIRoute, iter_route_contexts
from jinja2.ext import babel_extract
from starlette.routing import Mount
from web_site import PASSWORD, TOKEN, Served, build_site, csrf_of, login, replace_settings

from hundred.rendering.i18n import _catalog
from hundred.service.simulate import VirtualScheduler
from hundred.web import create_app
from hundred.web.guard import PUBLIC, is_public
from hundred.web.language import choose, preferred

ROOT = Path(__file__).resolve().parent.parent
HTML = {"accept": "text/html"}
BEARER = {"authorization": f"Bearer {TOKEN}"}
NL = {**HTML, "accept-language": "nl-NL,nl;q=0.9,en;q=0.5"}
EN = {**HTML, "accept-language": "en-GB,en;q=0.9"}


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    site = build_site(tmp_path_factory.mktemp("web-door"), VirtualScheduler())
    yield site
    site.ledger.close()


@pytest.fixture(scope="module")
def app(site):
    return create_app(site.settings.home, settings=replace_settings(site.settings))


@pytest.fixture(scope="module")
def served(app):
    with Served(app) as server:
        yield server


@contextmanager
def user(server: Served, headers: dict[str, str] = EN) -> Iterator[httpx.Client]:
    """A browser-like client logged in to `server`, asking for pages in `headers`' language."""
    with httpx.Client(base_url=server.url, follow_redirects=False, headers=headers) as client:
        assert login(client).status_code == 303
        yield client


def concrete(path: str) -> str:
    return re.sub(r"{[^}]+}", "x", path)


# -- one door ----------------------------------------------------------------------------------


def test_every_route_of_the_app_is_closed_unless_declared_public(app, served):
    """Walks `app.routes`: a route added anywhere is behind the login unless `PUBLIC` names it."""
    public, closed = set(), []
    for route in iter_route_contexts(app.routes):  # every route, also those of included routers
        if isinstance(route.original_route, Mount) and is_public(route.path):
            public.add(route.path)  # an app of its own behind a login of its own (the studio)
            continue
        assert isinstance(route.original_route, APIRoute), f"{route.path} is not an APIRoute: no door guards it"
        for method in sorted(route.methods - {"HEAD"}):
            if is_public(route.path):
                public.add(route.path)
            else:
                closed.append((method, route.path))
    assert public == {
        "/healthz",
        "/login",
        "/studio",
        "/hooks/deal-closed",
        "/hooks/deal-updated",
        "/hooks/deal-cancelled",
        "/hooks/hubspot",
        "/hooks/pipedrive",
    }
    assert len(closed) >= 14
    with httpx.Client(base_url=served.url, follow_redirects=False) as anonymous:
        for method, path in closed:
            browser = anonymous.request(method, concrete(path), headers=HTML)
            assert browser.status_code in (303, 401), (method, path, browser.status_code)
            if browser.status_code == 303:
                assert browser.headers["location"].startswith("/login"), (method, path)
            script = anonymous.request(method, concrete(path))
            assert script.status_code == 401 and script.headers["www-authenticate"].startswith("Bearer"), (method, path)
        # the public ones check their own callers: a hook without its signature is refused by the hook
        for path in ("/hooks/deal-closed", "/hooks/hubspot", "/hooks/pipedrive"):
            refused = anonymous.post(path, content=b"{}", headers={"content-type": "application/json"})
            assert refused.status_code == 401 and "Bearer" not in refused.headers.get("www-authenticate", "")
        assert anonymous.get("/healthz").status_code in (200, 503)
    assert set(PUBLIC) == {"/healthz", "/hooks/", "/login", "/studio"}


def test_a_route_added_later_is_closed_by_default(site):
    app = create_app(site.settings.home, settings=replace_settings(site.settings))

    @app.get("/print/new-report")
    async def new_report() -> dict[str, str]:
        return {"secret": "letters"}

    @app.get("/studio-like")
    async def elsewhere() -> dict[str, str]:
        return {"secret": "journeys"}

    with Served(app) as server, httpx.Client(base_url=server.url, follow_redirects=False) as client:
        for path in ("/print/new-report", "/studio-like"):
            response = client.get(path)
            assert response.status_code == 401 and b"secret" not in response.content
            assert client.get(path, headers=BEARER).json()["secret"]  # the door opens for the token


def test_forms_are_declared_a_bad_field_is_named_and_a_big_form_refused(served, site):
    with user(served) as client:
        csrf = csrf_of(client)
        bad = client.post("/print/batches", data={"csrf": csrf, "until": "tomorrow"}, headers={"origin": served.url})
        assert bad.status_code == 400 and "until: the date must look like 2026-12-01" in bad.text
        scripted = httpx.post(f"{served.url}/print/batches", headers=BEARER, data={"until": "2026-13-45"})
        assert scripted.status_code == 400 and scripted.json() == {"error": "until: the date must look like 2026-12-01"}
        missing = httpx.post(f"{served.url}/print/letter/posted", headers=BEARER, data={})
        assert missing.status_code == 400 and missing.json()["error"].startswith("letter:")
        big = client.post("/print/batches", data={"csrf": csrf, "x": "y" * 20_000}, headers={"origin": served.url})
        assert big.status_code == 413
        multipart = httpx.post(f"{served.url}/print/batches", headers=BEARER, files={"until": ("a", b"2026-12-01")})
        assert multipart.status_code == 400
        assert site.ledger.batch_rows() == []  # none of these made a batch


def test_unlock_ends_the_lockout_without_a_restart(site, monkeypatch, capsys):
    monkeypatch.setenv("HUNDRED_HOME", str(site.settings.home))
    with Served(create_app(site.settings.home, settings=replace_settings(site.settings))) as server:
        with httpx.Client(base_url=server.url, follow_redirects=False) as client:
            for _ in range(5):
                assert login(client, "guess").status_code == 401
            locked = login(client, PASSWORD)
            assert locked.status_code == 429 and "hundred letters unlock" in locked.text
            code, out, _ = run_cli(monkeypatch, capsys, "letters", "unlock")
            assert code == 0
            assert login(client, PASSWORD).status_code == 303


# -- the print staff's language ----------------------------------------------------------------


def test_accept_language_is_read_best_first_and_only_shipped_languages_win():
    assert preferred("en;q=0.4, nl-BE, fr;q=0.9, *;q=0.1, de;q=0") == ["nl-BE", "fr", "en"]  # no "*", no q=0
    assert choose("fr-FR,nl;q=0.8,en;q=0.5") == "nl"
    assert choose("nl-BE,en;q=0.5") == "nl_BE"
    assert choose("de-DE,fr") == "en" and choose(None) == "en" and choose("") == "en"
    assert choose("en-US,nl;q=0.9", setting="nl") == "nl"  # HUNDRED_PRINT_LANGUAGE wins


def test_the_print_room_speaks_dutch_to_a_dutch_browser_and_english_to_others(served, site):
    with user(served, NL) as dutch, user(served, EN) as english:
        nl = dutch.get("/print").text
        en = english.get("/print").text
        assert '<html lang="nl">' in nl and '<html lang="en">' in en
        for words in ("Printkamer", "Wachtrij", "Een batch maken", "Batch maken", "Uitloggen", "3 brieven"):
            assert words in nl, words
        for words in ("Print room", "Queue", "Make a batch", "Log out", "(3 letters)"):
            assert words in en, words
        assert "Queue" not in nl.replace("Queue and", "") and "Wachtrij" not in en
        letter = dutch.get("/print/letter", params={"id": site.letter_id}).text
        assert "Wat er in de brief staat" in letter and "in de wachtrij" in letter and "Gedateerd" in letter
        missing = dutch.get("/print/letter", params={"id": "D-9/none"})
        assert missing.status_code == 404 and "deze brief bestaat niet" in missing.text
        login_page = httpx.get(f"{served.url}/login", headers=NL).text
        assert "Inloggen in de printkamer" in login_page and "Wachtwoord" in login_page


def test_a_setting_gives_every_browser_the_print_rooms_language(site):
    settings = replace_settings(site.settings).model_copy(update={"print_language": "nl"})
    with Served(create_app(site.settings.home, settings=settings)) as server, user(server, EN) as client:
        assert '<html lang="nl">' in client.get("/print").text


def test_messages_after_an_action_are_in_the_staffs_language_with_plurals(site, tmp_path):
    with Served(create_app(site.settings.home, settings=replace_settings(site.settings))) as server:
        with user(server, NL) as client:
            today = site.ledger.letter(site.letter_id).print_by
            made = client.post(
                "/print/batches",
                data={"csrf": csrf_of(client), "until": today.isoformat()},
                headers={"origin": server.url},
            )
            assert made.status_code == 303
            page = client.get("/print").text
            assert re.search(r"Batch \S+ gemaakt: 2 brieven, \d+ pagina&#39;s\.", page), page
            assert "1 brief)" in page  # the queue holds one letter now: "(1 brief)", never "1 brieven"
            batch = site.ledger.letter(site.letter_id).batch_id
            again = client.post(f"/print/batches/{batch}/printed", data={"csrf": csrf_of(client)})
            assert again.status_code == 303 and "2 brieven gemarkeerd als geprint" in client.get("/print").text
            client.post(f"/print/batches/{batch}/printed", data={"csrf": csrf_of(client)})
            assert "niets meer om als geprint te markeren" in client.get("/print").text


def test_the_page_names_the_journeys_zone_and_offers_the_next_due_day_and_shows_warnings(tmp_path):
    """Nothing due today but a letter later: the page says when and offers that date; the batch it
    makes has a warning (an address too long for the window), shown with the batch."""
    site = build_site(tmp_path, VirtualScheduler())
    later = site.ledger.letter(site.later_id)
    for row in site.ledger.letters():
        if row.letter_id != site.later_id:
            site.ledger.set_letter_state(row.letter_id, "posted", None)
    long_name = "Stichting " + "Buitengewoon Lange Organisatienaam " * 3
    site.ledger.queue_letter(
        **{
            **{k: getattr(later, k) for k in ("text", "hand", "layout", "signer", "signer_title", "print_by")},
            "letter_id": "D-LONG/thanks",
            "deal_id": "D-LONG",
            "touch_id": "thanks",
            "seed": "D-LONG/thanks",
            "address": {**later.address, "name": long_name},
        }
    )
    with (
        Served(create_app(site.settings.home, settings=replace_settings(site.settings))) as server,
        user(server) as client,
    ):
        page = client.get("/print").text
        room_today = site.runtime.ledger.clock().astimezone(ZoneInfo("Europe/Amsterdam")).date()
        assert "(Europe/Amsterdam)" in page
        assert later.print_by > room_today
        day = f"{later.print_by:%a} {later.print_by.day} {later.print_by:%b %Y}"
        assert f"Nothing is due by today. The next 2 letters are due by {day}." in page
        assert (
            f'name="until" value="{later.print_by.isoformat()}"' in page
            and "Make a batch of the letters due by" in page
        )
        made = client.post(
            "/print/batches",
            data={"csrf": csrf_of(client), "until": later.print_by.isoformat()},
            headers={"origin": server.url},
        )
        assert made.status_code == 303
        page = client.get("/print").text
        batch = site.ledger.letter("D-LONG/thanks").batch_id
        row = site.ledger.batch_row(batch)
        made_at = row.created_at.astimezone(ZoneInfo("Europe/Amsterdam"))
        assert f"{made_at:%H:%M} (Europe/Amsterdam)" in page
        assert "Its cover sheet lists 1 warning" in page
        warnings = page[page.index(f'id="warnings-{batch}"') :]
        assert "D-LONG/thanks: address does not fit" in warnings[: warnings.index("</div>")]
        api = client.get("/print/api/batches", headers=BEARER).json()
        assert api["timezone"] == "Europe/Amsterdam" and api["batches"][0]["warnings"] == row.warnings
        assert api["batches"][0]["created_at"].endswith(made_at.strftime("%z")[:3] + ":" + made_at.strftime("%z")[3:])
    site.ledger.close()
    assert timedelta(0) <= made_at.utcoffset() <= timedelta(hours=2)


# -- the catalog -------------------------------------------------------------------------------

WEB = ROOT / "hundred" / "web"
KEYWORDS = {"w": None, "wn": (1, 2), "plural": (1, 2), "wcode": None, "N_": None, "Refused": (2,), "Refusal": None}


def _ids(path: Path):
    method = babel_extract if path.suffix == ".j2" else "python"
    with path.open("rb") as fh:
        for _, message, _, _ in extract(method, fh, keywords=KEYWORDS):
            yield message[0] if isinstance(message, tuple) else message


def test_every_text_of_the_print_room_has_its_dutch_translation():
    files = [
        *sorted((WEB / "templates").glob("*.j2")),
        *sorted(WEB.glob("*.py")),
        ROOT / "hundred" / "service" / "printroom" / "service.py",
    ]
    singular, plural, _ = _catalog("nl", "printroom")
    used = {m for f in files for m in _ids(f)}
    assert len(used) > 120
    missing = sorted(m for m in used if m not in singular and m not in plural)
    assert not missing, f"add these to hundred/rendering/locales/nl/LC_MESSAGES/printroom.po: {missing}"
    for msgid, text in singular.items():  # a translation keeps every {name} of its message
        assert set(re.findall(r"{\w+}", msgid)) == set(re.findall(r"{\w+}", text)), msgid
