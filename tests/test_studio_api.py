"""The journey studio's server, as the page uses it: who gets in, what a check answers
for the text as typed, what the live views draw, and how a file is saved.

The app is `hundred studio`'s (hundred.web.studio.local) over a copy of the repository's journeys,
templates and examples in a git repository of its own, with a ledger holding journeys in flight
on two versions (tests/studio_site.py). Requests go through Starlette's TestClient, so the page's
rules (session cookie, CSRF header, Origin) are the ones a browser meets.
"""

from __future__ import annotations

import subprocess
import sys

import pytest
from conftest import REPO
from fastapi.testclient import TestClient
from studio_site import JOURNEY, TOKEN, api, build_studio, enter, page_config

from hundred.web.studio.local import create_local_app

TEMPLATE = "templates/letters/thank-you.txt"


@pytest.fixture(scope="module")
def studio(tmp_path_factory):
    return build_studio(tmp_path_factory.mktemp("studio"))


@pytest.fixture
def client(studio):
    with TestClient(create_local_app(studio.settings.model_copy(), TOKEN), base_url="http://testserver") as c:
        assert enter(c).status_code == 200
        yield c


@pytest.fixture
def csrf(client):
    return page_config(client)["csrf"]


def text_of(studio, name: str = JOURNEY) -> str:
    return (studio.root / name).read_text(encoding="utf-8")


# -- who gets in ---------------------------------------------------------------------------------


def test_the_printed_address_lets_you_in_and_nothing_else_does(studio):
    with TestClient(create_local_app(studio.settings.model_copy(), TOKEN)) as c:
        away = c.get("/studio/", headers={"accept": "text/html"}, follow_redirects=False)
        assert away.status_code == 303 and away.headers["location"].startswith("/studio/login")
        wrong = c.get("/studio/?token=guess", headers={"accept": "text/html"}, follow_redirects=False)
        assert wrong.status_code == 303 and "login" in wrong.headers["location"]
        assert c.post("/studio/api/check", json={"file": JOURNEY, "text": ""}).status_code == 401
        right = c.get(
            f"/studio/edit?file={JOURNEY}&token={TOKEN}", headers={"accept": "text/html"}, follow_redirects=False
        )
        assert right.status_code == 303
        assert right.headers["location"] == f"/studio/edit?file={JOURNEY.replace('/', '%2F')}"  # the token is gone
        cookie = right.headers["set-cookie"]
        assert (
            "hundred_studio=" in cookie
            and "HttpOnly" in cookie
            and "SameSite=strict" in cookie
            and "Path=/studio/" in cookie
        )
        page = c.get(right.headers["location"], headers={"accept": "text/html"})
        assert page.status_code == 200 and "De eerste 100 dagen" in page.text


def test_a_post_without_the_pages_token_or_from_another_site_is_refused(client, csrf):
    body = {"file": JOURNEY, "text": "journey: x\n"}
    assert client.post("/studio/api/check", json=body).status_code == 403
    assert client.post("/studio/api/check", json=body, headers={"x-csrf-token": "nope"}).status_code == 403
    foreign = client.post(
        "/studio/api/check", json=body, headers={"x-csrf-token": csrf, "origin": "https://evil.example"}
    )
    assert foreign.status_code == 403 and "another site" in foreign.json()["error"]
    assert api(client, "check", body, csrf).status_code == 200


def test_the_page_has_a_strict_policy_and_loads_only_its_own_bundle(client):
    page = client.get(f"/studio/edit?file={JOURNEY}", headers={"accept": "text/html"})
    policy = page.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "'unsafe-inline'" not in policy and "default-src 'none'" in policy
    assert "frame-ancestors 'none'" in policy
    assert "http://" not in page.text.split("<body", 1)[0] and "https://" not in page.text.split("<body", 1)[0]
    js = client.get("/studio/static/studio.js")
    assert js.status_code == 200 and js.headers["content-type"].startswith("text/javascript")
    licences = client.get("/studio/static/studio.LICENSES.txt")
    assert "@codemirror/view" in licences.text and "MIT" in licences.text


@pytest.mark.parametrize(
    "name", ["../pyproject.toml", "templates/../../pyproject.toml", "/etc/passwd", "journeys/../examples/deal-nl.json"]
)
def test_files_outside_journeys_and_templates_are_not_opened(client, csrf, name):
    assert client.get("/studio/api/file", params={"file": name}).status_code == 404
    saved = api(client, "save", {"file": name, "text": "x", "base": "0" * 64, "allow_errors": True}, csrf)
    assert saved.status_code == 404


def test_hostile_requests_get_a_clear_answer_and_change_nothing(studio, client, csrf):
    headers = {"x-csrf-token": csrf, "origin": "http://testserver"}
    huge = client.post(
        "/studio/api/check",
        content=b'{"file": "journeys/first-100-days.yaml", "text": "' + b"a" * 2_100_000 + b'"}',
        headers={**headers, "content-type": "application/json"},
    )
    assert huge.status_code == 413
    form = client.post("/studio/api/check", data={"file": JOURNEY}, headers=headers)
    assert form.status_code == 415
    broken = client.post("/studio/api/check", content=b"{", headers={**headers, "content-type": "application/json"})
    assert broken.status_code == 400
    bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{c}: &{c} [*{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}]\n"
        for p, c in zip("abcdefg", "bcdefgh", strict=True)
    )
    answer = api(client, "check", {"file": JOURNEY, "text": bomb}, csrf).json()
    assert answer["ok"] is False and "expands the file to more than" in answer["diagnostics"][0]["message"]
    far = api(client, "complete", {"file": JOURNEY, "text": "journey: x\n", "offset": 10**9}, csrf)
    assert far.status_code == 200
    before = studio.journey_path.read_bytes()
    opened = client.get("/studio/api/file", params={"file": JOURNEY}).json()
    lone = client.post(
        "/studio/api/save",
        content=b'{"file": "journeys/first-100-days.yaml", "text": "\\ud800", "base": "'
        + opened["sha256"].encode()
        + b'", "allow_errors": true}',
        headers={**headers, "content-type": "application/json"},
    )
    assert lone.status_code == 400 and "not valid Unicode" in lone.json()["error"]
    assert studio.journey_path.read_bytes() == before


# -- checking the text as typed --------------------------------------------------------------------


def test_an_error_is_answered_at_its_line_with_the_validators_words(studio, client, csrf):
    text = text_of(studio).replace("        channel: letter\n", "        channel: leter\n", 1)
    line = text[: text.index("channel: leter")].count("\n") + 1
    answer = api(client, "check", {"file": JOURNEY, "text": text}, csrf).json()
    assert answer["ok"] is False and answer["timeline"] is None
    [problem] = answer["diagnostics"]
    assert (problem["line"], problem["col"], problem["severity"]) == (line, 18, "error")
    assert "leter" in problem["message"] and problem["hint"] == "did you mean 'letter'?"


def test_the_coleman_linters_warnings_come_with_their_rule(studio, client, csrf):
    text = text_of(studio) + "lint:\n  silence: {days: 5}\n"  # a stricter threshold: silent stretches appear
    answer = api(client, "check", {"file": JOURNEY, "text": text}, csrf).json()
    assert answer["ok"] is True
    rules = {d["rule"] for d in answer["diagnostics"] if d["severity"] == "warning"}
    assert "silence" in rules, answer["diagnostics"]
    assert answer["timeline"] is not None


def test_the_timeline_is_the_one_plan_html_draws(studio, client, csrf, tmp_path):
    answer = api(client, "check", {"file": JOURNEY, "text": text_of(studio)}, csrf).json()
    drawn = client.get(answer["timeline"])
    assert drawn.headers["content-type"].startswith("text/html")
    assert "script-src 'unsafe-inline'" in drawn.headers["content-security-policy"]
    out = tmp_path / "plan.html"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "hundred.cli",
            "plan",
            str(studio.journey_path),
            "--deal",
            "examples/deal-nl.json",
            "--html",
            str(out),
        ],
        cwd=studio.root,
        check=True,
        capture_output=True,
    )
    assert drawn.text == out.read_text(encoding="utf-8")


def test_the_touches_lines_tell_the_page_which_touch_the_cursor_is_in(studio, client, csrf):
    text = text_of(studio)
    answer = api(client, "check", {"file": JOURNEY, "text": text}, csrf).json()
    lines = text.splitlines()
    spans = {t["id"]: t for t in answer["touches"]}
    assert len(spans) == 16
    letter = spans["thank-you-letter"]
    assert lines[letter["line"] - 1].strip() == "- id: thank-you-letter"
    assert "template: letters/thank-you.txt" in "\n".join(lines[letter["line"] - 1 : letter["end"]])


def test_a_template_being_edited_is_checked_at_its_own_lines(client, csrf, studio):
    text = text_of(studio, TEMPLATE) + "\nGroet van {{ contact.frist_name }}\n"
    line = text.count("\n")
    config = page_config(client, TEMPLATE)
    assert config["kind"] == "template" and config["journey"] == JOURNEY and "thank-you-letter" in config["users"]
    answer = api(client, "check", {"file": TEMPLATE, "journey": JOURNEY, "text": text}, csrf).json()
    [problem] = answer["diagnostics"]
    assert (problem["line"], problem["col"]) == (line, 22)  # where validate puts it: the misspelt part
    assert "contact.frist_name" in problem["message"] and problem["hint"] == "did you mean 'contact.first_name'?"
    fixed = api(client, "check", {"file": TEMPLATE, "journey": JOURNEY, "text": text_of(studio, TEMPLATE)}, csrf)
    body = fixed.json()
    assert (body["ok"], body["diagnostics"], body["users"]) == (True, [], ["thank-you-letter"])
    assert body["timeline"] is not None  # the saved journey's timeline, for the Timeline tab


# -- completion ----------------------------------------------------------------------------------


def complete(client, csrf, text: str, at: str) -> tuple[int, list[str]]:
    offset = text.index(at) + len(at)
    answer = api(client, "complete", {"file": JOURNEY, "text": text, "offset": offset}, csrf).json()
    return offset - answer["from"], [o["label"] for o in answer["options"]]


def test_completion_offers_what_the_schema_and_the_workspace_allow(studio, client, csrf):
    text = text_of(studio)
    assert complete(client, csrf, text, "  - phase: a") == (
        1,
        ["assess", "admit", "affirm", "activate", "acclimate", "accomplish", "adopt", "advocate"],
    )
    typing = text.replace("\n        channel: letter", "\n        channel: le", 1)
    back, channels = complete(client, csrf, typing, "\n        channel: le")
    assert back == 2 and channels == ["letter", "email", "task", "webhook"]
    _, keys = complete(client, csrf, text.replace("        day: 3\n", "        da\n", 1), "        da")
    assert "day" in keys and "channel" not in keys  # the letter has its channel already
    _, files = complete(client, csrf, text, "template: letters/th")
    assert "letters/thank-you.txt" in files and "emails/_layout.html" not in files
    back, fields = complete(client, csrf, text, '"Bel {{ contact.fi')
    assert back == 2 and "first_name" in fields and "last_name" in fields


# -- the live views ------------------------------------------------------------------------------


def test_the_letter_under_the_cursor_is_previewed_as_preview_renders_it(studio, client, csrf):
    answer = api(client, "preview", {"file": JOURNEY, "text": text_of(studio), "touch": "thank-you-letter"}, csrf)
    html = answer.json()["html"]
    assert 'data-touch="thank-you-letter"' in html and "Handgeschreven bedankbrief aan Ilse" in html
    image = html.split('<img src="', 1)[1].split('"', 1)[0]
    png = client.get(image)
    assert png.headers["content-type"] == "image/png" and png.content[:8] == b"\x89PNG\r\n\x1a\n"
    with TestClient(create_local_app(studio.settings.model_copy(), TOKEN)) as other:
        enter(other)
        assert other.get(image).status_code == 404  # another session never sees this deal's letter


def test_the_letters_pdf_opens_in_the_browsers_viewer(studio, client, csrf):
    answer = api(client, "preview", {"file": JOURNEY, "text": text_of(studio), "touch": "thank-you-letter"}, csrf)
    pdf = client.get(answer.json()["html"].split('<a href="', 1)[1].split('"', 1)[0])
    assert pdf.headers["content-type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
    assert pdf.headers["content-security-policy"] == "frame-ancestors 'self'"  # a PDF viewer refuses default-src


def test_a_webhook_and_a_task_are_previewed_as_preview_shows_them(studio, client, csrf):
    hook = (
        "      - id: crm-update\n        day: 2\n        channel: webhook\n"
        "        url: https://crm.example.com/hooks/onboarding\n"
    )
    text = text_of(studio).replace("      - id: thank-you-letter\n", hook + "      - id: thank-you-letter\n", 1)
    html = api(client, "preview", {"file": JOURNEY, "text": text, "touch": "crm-update"}, csrf).json()["html"]
    body = html.split('<pre class="json" tabindex="0"><code>', 1)[1].split("</code>", 1)[0]
    assert (
        '"touch": "crm-update"' in body.replace("&#34;", '"')
        and "POST https://crm.example.com/hooks/onboarding" in html
    )
    task = api(client, "preview", {"file": JOURNEY, "text": text, "touch": "kickoff-visit"}, csrf).json()["html"]
    assert '<div class="brief">' in task and "<h4>" in task  # the brief as formatted text


def test_a_deal_from_the_ledger_can_be_the_sample(studio, client, csrf):
    listed = client.get("/studio/api/deals", params={"file": JOURNEY}).json()
    keys = [c["key"] for c in listed["choices"]]
    assert listed["default"] == "example:deal-nl.json" and "example:deal-en.json" in keys
    assert {"ledger:D-OLD-1", "ledger:D-NEW-2"} <= set(keys) and listed["ledger"] is True
    answer = api(client, "check", {"file": JOURNEY, "text": text_of(studio), "deal": {"ledger": "D-OLD-1"}}, csrf)
    drawn = client.get(answer.json()["timeline"]).text
    assert "D-OLD-1" in drawn and "D-1042" not in drawn  # the ledger's deal, not the example
    missing = api(client, "check", {"file": JOURNEY, "text": text_of(studio), "deal": {"ledger": "D-NONE"}}, csrf)
    assert missing.json()["deal_problem"] == "the ledger has no deal D-NONE"


def test_a_template_preview_shows_the_text_as_typed(studio, client, csrf):
    text = text_of(studio, "templates/emails/next-steps.html").replace("Nogmaals welkom", "NIEUW IN DE STUDIO", 1)
    answer = api(
        client, "preview", {"file": "templates/emails/next-steps.html", "journey": JOURNEY, "text": text}, csrf
    )
    body = answer.json()
    assert body["touch"] == "next-steps-email"
    frame = body["html"].split('<iframe class="email" sandbox="" src="', 1)[1].split('"', 1)[0]
    email = client.get(frame)
    assert "NIEUW IN DE STUDIO" in email.text
    assert email.headers["content-security-policy"].startswith("default-src 'none'")


def test_play_tells_simulates_story_and_a_hold_keeps_the_referral_waiting(studio, client, csrf):
    body = {"file": JOURNEY, "text": text_of(studio), "holds": ["thank-you-letter"]}
    html = api(client, "play", body, csrf).json()["html"]
    assert "tijden in Europe/Amsterdam" in html  # the journey's language, as simulate says it
    assert 'data-touch="referral-letter" data-event="waiting"' in html
    assert 'data-touch="referral-letter" data-event="posted"' not in html
    free = api(client, "play", {**body, "holds": []}, csrf).json()["html"]
    assert 'data-touch="referral-letter" data-event="posted"' in free


def test_a_typed_sample_deal_is_used_and_a_bad_field_is_named(studio, client, csrf):
    form = {"first_name": "Fenna", "company": "Fietsen Fenna", "closed_at": "2026-12-01T10:00"}
    answer = api(
        client,
        "preview",
        {"file": JOURNEY, "text": text_of(studio), "touch": "thank-you-letter", "deal": {"form": form}},
        csrf,
    )
    assert "aan Fenna" in answer.json()["html"]
    bad = api(
        client, "check", {"file": JOURNEY, "text": text_of(studio), "deal": {"form": {"country": "Holland"}}}, csrf
    )
    assert bad.json()["timeline"] is None and "address.country" in bad.json()["deal_problem"]


def test_in_flight_lists_each_version_its_deals_and_what_the_text_changes(studio, client, csrf):
    html = api(client, "flight", {"file": JOURNEY, "text": text_of(studio)}, csrf).json()["html"]
    old_block = html.split(f'id="v-{studio.old_version}"', 1)[1]
    assert "3 deals onderweg" in old_block.split("</h3>", 1)[0]  # in the journey's language
    kinds = {
        line.split('data-touch="')[1].split('"')[0]: line.split('data-kind="')[1].split('"')[0]
        for line in old_block.split("<li")[1:]
    }
    assert kinds == {
        "delivery-check": "moved",
        "small-gift": "added",
        "extra-call": "removed",
        "one-month-email": "reworded",
    }
    current_block = html.split(f'id="v-{studio.new_version}"', 1)[1].split('<section class="version"', 1)[0]
    assert "2 deals onderweg" in current_block and "er verandert niets voor hen" in current_block
    from studio_site import old_text

    as_before = api(client, "flight", {"file": JOURNEY, "text": old_text(text_of(studio))}, csrf).json()
    assert as_before["version"] == studio.old_version
    old_now = as_before["html"].split(f'id="v-{studio.old_version}"', 1)[1].split('<section class="version"', 1)[0]
    assert "er verandert niets voor hen" in old_now and "<li" not in old_now


# -- saving --------------------------------------------------------------------------------------


def test_saving_writes_exactly_what_was_typed_and_git_sees_it(studio, client, csrf):
    name = "templates/tasks/welcome-call.md"
    path = studio.root / name
    original = path.read_bytes()
    typed = original.decode().replace("\n", "\r\n") + "# een opmerking die blijft\r\n\tmet een tab  \r\n"
    path.write_bytes(typed.encode())  # the file on disk uses CRLF; the page opens it so
    opened = client.get("/studio/api/file", params={"file": name}).json()
    assert opened["separator"] == "\r\n" and opened["text"] == typed and opened["git"] == "modified"
    mine = opened["text"].replace("Bel", "Bel gerust", 1)
    saved = api(client, "save", {"file": name, "text": mine, "base": opened["sha256"]}, csrf).json()
    assert saved["saved"] is True and saved["git"] == "modified"
    assert path.read_bytes() == mine.encode("utf-8")
    assert not list(path.parent.glob(".*studio-tmp"))  # no temporary file left behind
    restored = api(client, "save", {"file": name, "text": original.decode(), "base": saved["sha256"]}, csrf).json()
    assert restored["git"] == "clean"


def test_saving_over_a_file_changed_on_disk_is_refused_with_a_diff(studio, client, csrf):
    name = "templates/tasks/kickoff-visit.md"
    opened = client.get("/studio/api/file", params={"file": name}).json()
    path = studio.root / name
    path.write_text(opened["text"] + "Iemand anders schreef dit.\n", encoding="utf-8")
    mine = opened["text"] + "Ik schreef dit.\n"
    refused = api(client, "save", {"file": name, "text": mine, "base": opened["sha256"]}, csrf)
    assert refused.status_code == 409
    body = refused.json()
    assert "-Iemand anders schreef dit." in body["diff"] and "+Ik schreef dit." in body["diff"]
    assert path.read_text(encoding="utf-8").endswith("Iemand anders schreef dit.\n")  # nothing was overwritten
    over = api(client, "save", {"file": name, "text": mine, "base": body["disk_sha256"]}, csrf)
    assert over.json()["saved"] is True and path.read_text(encoding="utf-8") == mine
    subprocess.run(["git", "-C", str(studio.root), "checkout", "--", name], check=True)


def test_saving_text_with_errors_waits_until_the_page_says_so(studio, client, csrf):
    opened = client.get("/studio/api/file", params={"file": JOURNEY}).json()
    broken = opened["text"].replace("day: 3\n", "day: drie\n", 1)
    first = api(client, "save", {"file": JOURNEY, "text": broken, "base": opened["sha256"]}, csrf)
    assert first.status_code == 422 and first.json()["problems"][0]["line"] > 1
    assert studio.journey_path.read_text(encoding="utf-8") == opened["text"]
    anyway = api(
        client, "save", {"file": JOURNEY, "text": broken, "base": opened["sha256"], "allow_errors": True}, csrf
    )
    assert anyway.json()["saved"] is True and "day: drie" in studio.journey_path.read_text(encoding="utf-8")
    studio.journey_path.write_text(opened["text"], encoding="utf-8")


# -- the studio under `hundred up` -----------------------------------------------------------------


def test_under_hundred_up_the_studio_has_a_login_of_its_own(studio):
    from studio_site import PASSWORD

    from hundred.web import create_app

    settings = studio.settings.model_copy(update={"print_password": "print room only"})
    with TestClient(create_app(studio.settings.home, settings=settings), base_url="http://testserver") as c:
        page = c.get("/studio/", headers={"accept": "text/html"})
        assert page.url.path == "/studio/login" and "journey studio" in page.text.lower()
        csrf = page.text.split('name="csrf" value="', 1)[1].split('"', 1)[0]
        origin = {"origin": "http://testserver", "accept": "text/html"}
        wrong = c.post(
            "/studio/login", data={"csrf": csrf, "password": "print room only", "next": "/studio/"}, headers=origin
        )
        assert wrong.status_code == 401  # the print room's password opens nothing here
        page = c.get("/studio/login", headers={"accept": "text/html"})
        csrf = page.text.split('name="csrf" value="', 1)[1].split('"', 1)[0]
        right = c.post("/studio/login", data={"csrf": csrf, "password": PASSWORD, "next": "/studio/"}, headers=origin)
        assert right.status_code == 200 and "first-100-days" in right.text
        assert c.get("/print", headers={"accept": "text/html"}).url.path == "/login"  # and not the print room
        token = page_config(c)["csrf"]
        answer = api(c, "check", {"file": JOURNEY, "text": text_of(studio)}, token)
        assert answer.status_code == 200 and answer.json()["ok"] is True


def test_the_studio_command_documents_itself_and_refuses_a_journey_elsewhere(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "hundred.cli", "studio", "--help"], cwd=REPO, capture_output=True, text=True
    )
    assert done.returncode == 0 and "hundred studio first-100-days" in done.stdout
    elsewhere = tmp_path / "x.yaml"
    elsewhere.write_text("journey: x\n", encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "hundred.cli", "studio", str(elsewhere), "--no-browser"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1 and "journeys/ only" in done.stderr


def test_the_studio_command_prints_an_address_with_a_token_that_works(tmp_path):
    import os
    import time

    import httpx

    process = subprocess.Popen(
        [sys.executable, "-m", "hundred.cli", "studio", "first-100-days", "--no-browser", "--port", "0"],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "HUNDRED_HOME": str(tmp_path / "home")},
    )
    try:
        deadline = time.monotonic() + 60
        url = ""
        while time.monotonic() < deadline and not url:
            line = process.stdout.readline()
            if "token=" in line:
                url = line.strip()
        assert url.startswith("http://127.0.0.1:") and "/studio/edit?file=journeys%2Ffirst-100-days.yaml" in url
        with httpx.Client(follow_redirects=True) as c:
            page = c.get(url, headers={"accept": "text/html"})
            assert page.status_code == 200 and "De eerste 100 dagen" in page.text
            assert c.get(url.split("?")[0].replace("/edit", "/"), headers={"accept": "text/html"}).status_code == 200
        with httpx.Client() as stranger:
            assert stranger.get(url.split("&token=")[0], headers={"accept": "text/html"}).status_code == 303
    finally:
        process.terminate()
        process.wait(10)
