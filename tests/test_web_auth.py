"""The print room's door, over real HTTP (uvicorn on a free port): nothing without a login, every
form CSRF-checked, ids that cannot reach the file system, login throttled, logout ends the session."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.routing import iter_route_contexts
from web_site import PASSWORD, TOKEN, build_site, csrf_of, login, serve

from hundred.service.simulate import VirtualScheduler
from hundred.web.auth import Auth, PasswordHash, hash_password
from hundred.web.guard import is_public

HTML = {"accept": "text/html,application/xhtml+xml"}
# Every route of the print room, with a request a browser or a script would send.
GETS = [
    "/print",
    "/print/letter?id=D-PRINT-1%2Fthanks",
    "/print/letter.pdf?id=D-PRINT-1%2Fthanks",
    "/print/batches/BATCH/pdf",
    "/print/batches/BATCH/manifest",
    "/print/batches/BATCH/labels",
    "/print/api/letters",
    "/print/api/batches",
    "/",
    "/print/no-such-page",
    "/print/batches/../../ledger.db",
]
POSTS = [
    "/print/batches",
    "/print/batches/BATCH/printed",
    "/print/batches/BATCH/posted",
    "/print/letter/posted",
    "/print/letter/spoil",
    "/print/letter/reprint",
    "/logout",
]


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    site = build_site(tmp_path_factory.mktemp("web-auth"), VirtualScheduler())
    server = serve(site)
    yield site, server
    server.stop()
    site.ledger.close()


@pytest.fixture
def user(served):
    """A logged-in browser-like client."""
    site, server = served
    with httpx.Client(base_url=server.url, follow_redirects=False) as client:
        assert login(client).status_code == 303
        yield client


@pytest.fixture(scope="module")
def batch_id(served):
    site, server = served
    made = httpx.post(
        f"{server.url}/print/batches",
        headers={"authorization": f"Bearer {TOKEN}"},
        data={"labels": "on", "until": site.ledger.letter(site.letter_id).print_by.isoformat()},
    )
    assert made.status_code == 200, made.text
    assert made.json()["letters"] == 2  # the affirm letter and the overdue one; the later one waits
    return made.json()["batch"]


def _routes(batch_id: str, app: Any) -> list[tuple[str, str]]:
    """The requests above, and one for every route of the app that is not declared public (walked
    from `app.routes`, so a route added later is checked too)."""
    listed = [("GET", p.replace("BATCH", batch_id)) for p in GETS] + [
        ("POST", p.replace("BATCH", batch_id)) for p in POSTS
    ]
    walked = [
        (method, re.sub(r"{[^}]+}", "x", route.path))
        for route in iter_route_contexts(app.routes)
        if not is_public(route.path)
        for method in sorted(route.methods - {"HEAD"})
    ]
    return listed + [r for r in walked if r not in listed]


def test_without_a_login_every_route_redirects_a_browser_and_refuses_a_script(served, batch_id):
    site, server = served
    with httpx.Client(base_url=server.url, follow_redirects=False) as anonymous:
        for method, path in _routes(batch_id, server.app):
            browser = anonymous.request(method, path, headers=HTML)
            assert browser.status_code in (303, 401), (method, path, browser.status_code)
            if browser.status_code == 303:
                assert browser.headers["location"].startswith("/login"), (method, path)
            script = anonymous.request(method, path)
            assert script.status_code == 401, (method, path, script.status_code)
            assert script.headers["www-authenticate"].startswith("Bearer")
            forged = anonymous.request(method, path, headers={"authorization": "Bearer not-the-token", **HTML})
            assert forged.status_code == 401, (method, path)
            for response in (browser, script, forged):
                assert b"%PDF" not in response.content and b"letter_id" not in response.content
    # the login page itself is the only page, and it shows nothing of the print room
    page = httpx.get(f"{server.url}/login")
    assert page.status_code == 200 and "D-PRINT-1" not in page.text and 'type="password"' in page.text


def test_a_forged_or_stale_session_cookie_is_no_login(served):
    site, server = served
    for cookie in ("", "x", "eyJzaWQiOiJ4IiwiZXhwIjo5OTk5OTk5OTk5fQ.AAAA", "a.b.c"):
        response = httpx.get(f"{server.url}/print", cookies={"hundred_print": cookie}, headers=HTML)
        assert response.status_code == 303 and response.headers["location"].startswith("/login")


def test_the_session_cookie_is_httponly_and_samesite_strict(served):
    site, server = served
    with httpx.Client(base_url=server.url, follow_redirects=False) as client:
        response = login(client)
    cookie = [v for k, v in response.headers.multi_items() if k == "set-cookie" and v.startswith("hundred_print=")][0]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie.replace("Strict", "strict") and "Path=/" in cookie
    assert PASSWORD not in cookie


def test_logged_in_pages_and_files_answer_with_safe_headers(user, served, batch_id):
    site, server = served
    page = user.get("/print", headers=HTML)
    assert page.status_code == 200 and site.letter_id in page.text and batch_id in page.text
    csp = page.headers["content-security-policy"]
    assert "default-src 'none'" in csp and "script-src" not in csp and "frame-ancestors 'none'" in csp
    assert page.headers["cache-control"] == "no-store" and page.headers["x-content-type-options"] == "nosniff"
    pdf = user.get(f"/print/batches/{batch_id}/pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert "attachment" in pdf.headers["content-disposition"]
    manifest = user.get(f"/print/batches/{batch_id}/manifest")
    assert manifest.status_code == 200 and site.letter_id in manifest.text
    assert user.get(f"/print/batches/{batch_id}/labels").content.startswith(b"%PDF")
    preview = user.get("/print/letter.pdf", params={"id": site.letter_id})
    assert preview.status_code == 200 and preview.content.startswith(b"%PDF")


@pytest.mark.parametrize(
    "path",
    [
        "/print/batches/..%2F..%2Fhome%2Fledger.db/pdf",
        "/print/batches/%2E%2E/pdf",
        "/print/batches/x%00y/pdf",
        "/print/batches/no-such-batch/pdf",
        "/print/batches/BATCH/passwd",
        "/print/batches/BATCH/..%2Fmanifest",
        "/print/letter.pdf?id=..%2F..%2Fhome%2Fledger.db",
        "/print/letter.pdf?id=%2Fetc%2Fpasswd",
        "/print/letter.pdf?id=D-PRINT-1%2F..%2F..%2Fledger.db",
        "/print/letter?id=nope%2Fnope",
        "/print/letter.pdf",
    ],
)
def test_ids_never_reach_the_file_system(user, batch_id, path):
    response = user.get(path.replace("BATCH", batch_id), headers=HTML)
    assert response.status_code == 404, (path, response.status_code)
    assert b"%PDF" not in response.content and b"SQLite" not in response.content and b"root:" not in response.content


def test_a_form_post_without_the_csrf_token_or_from_another_site_is_refused(user, served):
    site, server = served
    token = csrf_of(user)
    before = site.ledger.letters(state="queued")
    for data, headers in (
        ({}, {}),
        ({"csrf": "forged"}, {}),
        ({"csrf": "x" * 43}, {}),
        ({"csrf": token}, {"origin": "https://evil.example"}),
        ({"csrf": token}, {"origin": "null"}),
        ({"csrf": token}, {"sec-fetch-site": "cross-site"}),
    ):
        response = user.post("/print/batches", data={**data, "until": "2099-01-01"}, headers={**HTML, **headers})
        assert response.status_code == 403, (data, headers, response.status_code)
    assert site.ledger.letters(state="queued") == before  # nothing was batched
    refused = user.post("/print/letter/spoil", data={"letter": site.later_id}, headers=HTML)
    assert refused.status_code == 403
    # the logout form is a form too
    assert user.post("/logout", data={}, headers=HTML).status_code == 403


def test_a_form_token_belongs_to_its_session(served, user):
    site, server = served
    mine = csrf_of(user)
    with httpx.Client(base_url=server.url, follow_redirects=False) as other:
        assert login(other).status_code == 303
        assert other.post("/print/batches", data={"csrf": mine, "until": "2000-01-01"}, headers=HTML).status_code == 403
        assert (
            other.post("/print/batches", data={"csrf": csrf_of(other), "until": "2000-01-01"}, headers=HTML).status_code
            == 303
        )


def test_logout_ends_the_session_even_for_a_kept_cookie(served):
    site, server = served
    with httpx.Client(base_url=server.url, follow_redirects=False) as client:
        login(client)
        cookie = client.cookies.get("hundred_print")
        token = csrf_of(client)
        out = client.post("/logout", data={"csrf": token}, headers=HTML)
        assert out.status_code == 303 and out.headers["location"] == "/login"
    again = httpx.get(f"{server.url}/print", cookies={"hundred_print": cookie}, headers=HTML)
    assert again.status_code == 303 and again.headers["location"].startswith("/login")


def test_a_wrong_password_is_refused_slowly_and_then_throttled(served):
    site, server = served
    from web_site import Served, replace_settings

    from hundred.web import create_app

    other = Served(create_app(site.settings.home, settings=replace_settings(site.settings)))
    try:
        with httpx.Client(base_url=other.url, follow_redirects=False) as client:
            for _ in range(5):
                assert login(client, "guess").status_code == 401
            assert login(client, "guess").status_code == 429
            throttled = login(client, PASSWORD)  # even the right password waits out the window
            assert throttled.status_code == 429 and int(throttled.headers["retry-after"]) > 0
            assert "hundred_print" not in client.cookies
    finally:
        other.stop()


def test_a_login_form_without_its_token_is_refused(served):
    site, server = served
    response = httpx.post(f"{server.url}/login", data={"password": PASSWORD}, headers=HTML)
    assert response.status_code == 403 and "hundred_print=" not in response.headers.get("set-cookie", "")


def test_next_after_login_stays_on_this_site(served):
    site, server = served
    with httpx.Client(base_url=server.url, follow_redirects=False) as client:
        page = client.get("/login", params={"next": "//evil.example/print"})
        assert 'value="/print"' in page.text and "evil" not in page.text


def test_the_bearer_token_serves_scripts_without_a_form_token(served):
    site, server = served
    headers = {"authorization": f"Bearer {TOKEN}"}
    letters = httpx.get(f"{server.url}/print/api/letters", headers=headers, params={"state": "queued"})
    assert letters.status_code == 200 and site.later_id in {row["letter_id"] for row in letters.json()["letters"]}
    assert httpx.get(f"{server.url}/print/api/letters", headers={"authorization": "Basic eDp5"}).status_code == 401


def test_password_hashes_are_scrypt_and_compared_whole():
    stored = hash_password("s3cret-enough")
    assert stored.startswith("scrypt$16384$8$1$") and "s3cret" not in stored
    assert PasswordHash.parse(stored).matches("s3cret-enough")
    assert not PasswordHash.parse(stored).matches("s3cret-enoug")
    auth = Auth(password_hash=stored)
    assert auth.password_ok("s3cret-enough") and not auth.password_ok("") and auth.configured
    with pytest.raises(ValueError, match="scrypt"):
        PasswordHash.parse("md5$abc")
    assert not Auth().configured and not Auth().password_ok("anything") and not Auth().token_ok("")


def test_the_app_keeps_no_plain_password(served):
    site, server = served
    from web_site import replace_settings

    from hundred.web import create_app

    settings = replace_settings(site.settings)
    create_app(site.settings.home, settings=settings)
    assert settings.print_password is None and PASSWORD not in repr(settings)


def test_templates_ship_with_the_package():
    import hundred.web

    folder = Path(hundred.web.__file__).parent / "templates"
    assert {p.name for p in folder.iterdir()} >= {
        "base.html.j2",
        "login.html.j2",
        "print.html.j2",
        "letter.html.j2",
        "error.html.j2",
        "print.css",
    }
    pyproject = (Path(__file__).resolve().parent.parent / "pyproject.toml").read_text()
    assert '"hundred.web" = ["templates/*.j2", "templates/*.css"]' in pyproject


def test_without_a_prefect_api_nothing_is_marked_posted_and_the_page_says_why(served, monkeypatch):
    site, server = served
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    response = httpx.post(
        f"{server.url}/print/letter/posted",
        headers={"authorization": f"Bearer {TOKEN}"},
        data={"letter": site.later_id},
    )
    assert response.status_code == 409 and "no Prefect API" in response.json()["error"]
    assert site.ledger.letter(site.later_id).state == "queued"


def test_print_staff_mark_printed_spoil_and_reprint_from_the_page(served, user, batch_id):
    site, server = served
    headers = {**HTML, "origin": server.url}
    printed = user.post(f"/print/batches/{batch_id}/printed", data={"csrf": csrf_of(user)}, headers=headers)
    assert printed.status_code == 303 and site.ledger.letter(site.overdue_id).state == "printed"
    assert "2 letters marked printed" in user.get("/print", headers=HTML).text

    spoiled = user.post(
        "/print/letter/spoil",
        headers=headers,
        data={"csrf": csrf_of(user), "letter": site.overdue_id, "reason": "paper jam <b>"},
    )
    assert spoiled.status_code == 303 and spoiled.headers["location"] == "/print/letter?id=D-OTHER-overdue%2Fthanks"
    page = user.get(spoiled.headers["location"], headers=HTML).text
    assert "spoiled (paper jam &lt;b&gt;)" in page  # shown, escaped
    assert site.ledger.letter(site.overdue_id).state == "queued"  # back in the queue for the next batch

    again = user.post("/print/letter/spoil", headers=headers, data={"csrf": csrf_of(user), "letter": site.overdue_id})
    assert again.status_code == 303  # the print room's refusal comes back as a message on the letter's page
    assert "still in the queue" in user.get(again.headers["location"], headers=HTML).text

    reprint = user.post(
        "/print/letter/reprint", headers=headers, data={"csrf": csrf_of(user), "letter": site.letter_id}
    )
    assert reprint.status_code == 200 and reprint.content.startswith(b"%PDF")
    assert reprint.headers["content-disposition"].startswith("attachment")
    assert reprint.content == user.get("/print/letter.pdf", params={"id": site.letter_id}).content  # byte-identical
