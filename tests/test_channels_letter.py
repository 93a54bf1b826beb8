"""Letter channel: the PDF under letters/<deal>/<touch>.pdf and the print queue's inputs."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date

from pypdf import PdfReader

from hundred.adapters.channels import ChannelConfig, deliver
from hundred.planning.identity import TouchKey
from hundred.rendering.content import LetterContent
from hundred.rendering.handwriting import Letter, LetterStyle, PostalAddress
from hundred.service.ports import QueuedLetter

ADDRESS = PostalAddress(
    name="Anna de Vries",
    company="Ács BV",
    street="Keizersgracht 1",
    postcode="1015 CJ",
    city="Amsterdam",
    state=None,
    country="NL",
)


def letter_content(deal: str = "D-1042") -> LetterContent:
    key = TouchKey(deal, "onboarding", "v1", "thanks")
    letter = Letter(
        letter_id=key.reference,
        body="Beste Anna,\n\nDank je wel.",
        signer="Jörg Müller",
        address=ADDRESS,
        seed=key.seed,
        signer_title="Oprichter",
    )
    return LetterContent(key, letter, LetterStyle(hand="kalam"), date(2026, 12, 4))


def test_letter_is_rendered_once_per_touch_and_handed_to_the_print_queue(tmp_path):
    cfg = ChannelConfig(letters_dir=tmp_path / "letters")
    first = deliver(letter_content(), None, cfg)  # letters keep no delivery row: the queue dedupes
    assert first.state == "sent" and isinstance(first.letter, QueuedLetter)
    queued = first.letter
    assert queued.pdf_path == tmp_path / "letters" / "D-1042" / "thanks.pdf"
    assert "Dank je wel" in PdfReader(queued.pdf_path).pages[0].extract_text()
    assert (queued.letter_id, queued.text, queued.seed, queued.hand) == (
        "D-1042/thanks",
        "Beste Anna,\n\nDank je wel.",
        "D-1042/thanks",
        "kalam",
    )
    assert queued.layout == {
        "paper": "A4",
        "envelope": "DL",
        "ink": "blue",
        "return_address": "",
        "sender_country": "NL",
        "humanise": True,
        "locale": "",
    }  # locale: how the date is written
    assert queued.address == asdict(ADDRESS)
    assert (queued.signer, queued.signer_title, queued.print_by) == ("Jörg Müller", "Oprichter", date(2026, 12, 4))
    pdf = queued.pdf_path.read_bytes()
    again = deliver(letter_content(), None, cfg)
    assert again.letter == queued and again.letter.pdf_path.read_bytes() == pdf  # a retry re-renders identically
    assert [p.name for p in queued.pdf_path.parent.iterdir()] == ["thanks.pdf"]  # no temp files left


def test_a_deal_id_cannot_climb_out_of_letters(tmp_path):
    cfg = ChannelConfig(letters_dir=tmp_path / "letters")
    result = deliver(letter_content("../../etc"), None, cfg)
    assert result.state == "sent"
    assert result.letter.pdf_path.resolve().is_relative_to((tmp_path / "letters").resolve())
