"""The MIME message of an edition: built once, personalized per recipient, parsed back intact."""

from __future__ import annotations

import email
import email.policy
from dataclasses import replace
from datetime import datetime
from email.header import decode_header, make_header
from pathlib import Path

import pytest

from infolettre.deliver.message import EditionMessage, UnsubscribeLinks, WireMessage
from infolettre.errors import DeliveryError
from infolettre.models import Recipient, RenderedEdition
from infolettre.render.personalize import Placeholders
from infolettre.settings import load_settings

DATA = Path(__file__).parent / "data" / "recipients"
SUBJECT = "Le Fil régional — décembre 2026 : l'édition de Bellechasse, « Chez vous » et plus"
BODY = "Été québécois : la crèche, le café et l'Œuvre des aînés ouvrent à Saint-Éphrem."
GENEVIEVE = Recipient(email="genevieve.bedard@example.org", nom="Geneviève Bédard",
                      territoire="bellechasse")


@pytest.fixture(scope="module")
def settings():
    return load_settings(DATA / "infolettre.toml")


@pytest.fixture(scope="module")
def placeholders():
    return Placeholders()


def make_edition(placeholders: Placeholders) -> RenderedEdition:
    """Build an edition shaped like render's output: tokens in text and HTML, long lines."""
    t = placeholders.token
    text = (f"{t('salutation')}\n\n{BODY}\n\n"
            f"Ce message a été envoyé à {t('courriel')}.\n"
            f"Pour vous désabonner : {t('desabonnement')}\n")
    long_line = "<td style=\"padding:0 8px\">Inscription à l'atelier</td>" * 80
    html = (f"<!doctype html><html lang=\"fr-CA\"><body><p>{t('salutation')}</p>"
            f"<p>{BODY}</p>{long_line}<p>Envoyé à {t('courriel')}</p>"
            f"<a href=\"{t('desabonnement')}\">Se désabonner</a></body></html>\n")
    return RenderedEdition(slug="bellechasse", titre="Bellechasse", subject=SUBJECT,
                           html=html, text=text)


@pytest.fixture(scope="module")
def message(settings, placeholders):
    return EditionMessage(make_edition(placeholders), placeholders, settings, "2026-12")


def parse(data: bytes):
    return email.message_from_bytes(data, policy=email.policy.default)


def bodies(data: bytes) -> tuple[str, str]:
    msg = parse(data)
    text = msg.get_body(("plain",)).get_content().replace("\r\n", "\n")
    html = msg.get_body(("html",)).get_content().replace("\r\n", "\n")
    return text, html


def test_subject_with_accents_round_trips(message):
    """The French subject is RFC 2047-encoded on the wire and decodes to the exact text."""
    data = message.personalize(GENEVIEVE).data
    raw_subject = data.split(b"\r\nSubject: ", 1)[1].split(b"\r\n", 1)[0]
    assert b"=?utf-8?" in raw_subject
    assert parse(data)["Subject"] == SUBJECT


def test_whole_message_is_7bit_with_crlf_and_short_lines(message):
    """Every byte is ASCII, every line ends in CRLF and none is longer than 998 characters."""
    data = message.personalize(GENEVIEVE).data
    assert data.isascii()
    assert data.count(b"\n") == data.count(b"\r\n")
    assert max(len(line) for line in data.split(b"\r\n")) <= 998


def test_bodies_keep_french_text_intact(message, placeholders):
    """Both parts decode to the filled French text, character for character."""
    edition = message.edition
    values = {"salutation": "Bonjour Geneviève Bédard,", "courriel": GENEVIEVE.email,
              "desabonnement": "mailto:pivot@example.org?subject=D%C3%A9sabonnement%20"
                               "genevieve.bedard%40example.org"}
    text, html = bodies(message.personalize(GENEVIEVE).data)
    assert text == placeholders.fill(edition.text, values, escape_html=False)
    assert html == placeholders.fill(edition.html, values, escape_html=True)
    assert BODY in text and BODY in html


def test_structure_is_multipart_alternative_text_then_html(message):
    """The message is multipart/alternative: text/plain first, then text/html, both UTF-8."""
    msg = parse(message.personalize(GENEVIEVE).data)
    assert msg.get_content_type() == "multipart/alternative"
    parts = list(msg.iter_parts())
    assert [p.get_content_type() for p in parts] == ["text/plain", "text/html"]
    assert all(p.get_content_charset() == "utf-8" for p in parts)
    assert msg.defects == [] and all(p.defects == [] for p in parts)


def test_headers_identify_sender_recipient_and_list(message):
    """From, Reply-To, To (accented name), Date, MIME-Version, List-Id and List-Unsubscribe."""
    msg = parse(message.personalize(GENEVIEVE).data)
    [to] = msg["To"].addresses
    assert (to.display_name, to.addr_spec) == ("Geneviève Bédard", GENEVIEVE.email)
    assert msg["From"].addresses[0].display_name == "Le Fil régional"
    assert msg["From"].addresses[0].addr_spec == "infolettre@example.org"
    assert msg["Reply-To"] == "pivot@example.org"
    assert msg["Date"].datetime.tzinfo is not None
    assert msg["MIME-Version"] == "1.0"
    assert msg["List-Id"] == "Le Fil régional <infolettre.example.org>"
    assert msg["List-Unsubscribe"] == ("<mailto:pivot@example.org?subject=D%C3%A9sabonnement"
                                       "%20genevieve.bedard%40example.org>")
    assert "List-Unsubscribe-Post" not in msg


def test_every_placeholder_is_replaced(message, placeholders):
    """Salutation, address and unsubscribe link are filled in; no token is left anywhere."""
    data = message.personalize(GENEVIEVE).data
    text, html = bodies(data)
    for body in (text, html):
        assert placeholders.nonce not in body
        assert "Bonjour Geneviève Bédard," in body
        assert "Envoyé à genevieve.bedard@example.org" in html
    assert 'href="mailto:pivot@example.org?subject=D%C3%A9sabonnement%20genevieve' in html
    assert placeholders.nonce.encode() not in data


def test_greeting_without_a_name(message):
    """A recipient with no name is greeted « Bonjour, » and addressed by address alone."""
    msg = parse(message.personalize(Recipient(email="info@example.org")).data)
    assert msg["To"] == "info@example.org"
    assert bodies(msg.as_bytes())[0].startswith("Bonjour,\n")


def test_name_is_escaped_in_html_but_not_in_text(message):
    """A name like <script> is escaped in the HTML part, kept as typed in text and To."""
    name = '<script>alert("x")</script>'
    data = message.personalize(Recipient(email="x@example.org", nom=name)).data
    text, html = bodies(data)
    assert "<script>" not in html
    assert "Bonjour &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;," in html
    assert f"Bonjour {name}," in text
    assert parse(data)["To"].addresses[0].display_name == name


def test_message_ids_are_unique_in_the_sender_domain(message):
    """Each personalized message gets its own Message-ID, in the sender's domain."""
    ids = [message.personalize(GENEVIEVE).message_id for _ in range(200)]
    assert len(set(ids)) == 200
    assert all(i.startswith("<2026-12.bellechasse.") and i.endswith("@example.org>")
               for i in ids)
    data = message.personalize(GENEVIEVE, message_id=ids[0]).data
    assert parse(data)["Message-ID"] == ids[0]


def test_given_date_is_written_in_rfc_5322_form(message, settings):
    """A send time passed in becomes the Date header, with its offset."""
    when = datetime(2026, 12, 3, 9, 30, tzinfo=settings.identity.timezone)
    msg = parse(message.personalize(GENEVIEVE, now=when).data)
    assert msg["Date"] == "Thu, 03 Dec 2026 09:30:00 -0500"


class SignedLinks:
    """Stand in for issue 3's signed links: a real unsubscriber giving an HTTPS link."""

    def links(self, recipient: Recipient) -> UnsubscribeLinks:
        return UnsubscribeLinks(mailto="mailto:pivot@example.org",
                                https=f"https://infolettre.example.org/d/{recipient.email}?t=1&u=2")


def test_https_unsubscribe_adds_one_click_headers(settings, placeholders):
    """With an HTTPS link, List-Unsubscribe offers both and List-Unsubscribe-Post is set."""
    message = EditionMessage(make_edition(placeholders), placeholders, settings, "2026-12",
                             unsubscriber=SignedLinks())
    data = message.personalize(GENEVIEVE).data
    msg = parse(data)
    assert msg["List-Unsubscribe"].replace("\r\n", "").replace(" ", "") == (
        "<https://infolettre.example.org/d/genevieve.bedard@example.org?t=1&u=2>,"
        "<mailto:pivot@example.org>")
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    text, html = bodies(data)
    assert 'href="https://infolettre.example.org/d/genevieve.bedard@example.org?t=1&amp;u=2"' \
        in html
    assert "?t=1&u=2" in text


NAMES = ["Geneviève Bédard", "Tremblay, Jean", 'Jean "Ti-Jean" Roy', "O'Neil (CDC) <x>",
         "back\\slash", "=?utf-8?q?Faux?=", "Ève-Éloïse Côté-Lévesque " * 8, "😀 Émoji",
         "x" * 950, "  espaces   en trop  ", "Ça"]


@pytest.mark.parametrize("name", NAMES)
def test_to_header_round_trips_any_name(message, name):
    """Any name (quotes, commas, emoji, 200 accented characters) decodes back exactly from To.

    Long names take several RFC 2047 words: an RFC decoder (``email.header``) gives them
    back exactly; Python's address parser adds spaces between words, nothing else.
    """
    data = message.personalize(Recipient(email="x@example.org", nom=name)).data
    expected = " ".join(name.split())
    [to] = parse(data)["To"].addresses
    assert to.addr_spec == "x@example.org"
    assert to.display_name.replace(" ", "") == expected.replace(" ", "")
    header = data.split(b"\r\nTo: ", 1)[1].split(b"\r\nDate:", 1)[0]
    assert all(len(line) <= 78 for line in header.split(b"\r\n"))
    if b"=?utf-8?" in header:
        phrase = header.decode("ascii").rsplit("<", 1)[0].replace("\r\n", "")
        assert str(make_header(decode_header(phrase))).strip() == expected
    if len(expected.encode()) <= 45:
        assert to.display_name == expected


@pytest.mark.parametrize("layout", [
    "{s}", "{s}{c}{d}", "  {s}  \n", "fin avec espace {c} ", "été\n\n{d}\n", "=?{c}?=",
    "x" * 75 + "{s}" + "é" * 40, "{s}\r\nligne CRLF\r\n",
])
def test_prepared_body_decodes_to_exactly_the_filled_text(settings, placeholders, layout):
    """Pieces encoded once and joined per recipient decode to what Placeholders.fill gives."""
    t = placeholders.token
    rendered = layout.format(s=t("salutation"), c=t("courriel"), d=t("desabonnement"))
    edition = RenderedEdition(slug="complete", titre="Complète", subject="Test",
                              html=rendered, text=rendered)
    message = EditionMessage(edition, placeholders, settings, "2026-12")
    data = message.personalize(GENEVIEVE).data
    values = {"salutation": "Bonjour Geneviève Bédard,", "courriel": GENEVIEVE.email,
              "desabonnement": parse(data)["List-Unsubscribe"][1:-1]}
    expected = placeholders.fill(rendered, values, escape_html=False).replace("\r\n", "\n")
    assert bodies(data)[0] == expected
    body = data.split(b"quoted-printable\r\n\r\n", 1)[1]
    assert max(len(line) for line in body.split(b"\r\n")) <= 76


def test_address_unfit_for_a_header_is_refused(message):
    """An address that could inject headers is refused with a fix, not written."""
    with pytest.raises(DeliveryError, match="destinataires"):
        message.personalize(Recipient(email="x@example.org\r\nBcc: y@example.org"))


def test_placeholder_in_subject_is_refused(settings, placeholders):
    """A subject holding a per-recipient token stops the build: it is encoded only once."""
    edition = replace(make_edition(placeholders),
                      subject=f"Nouvelles pour {placeholders.token('salutation')}")
    with pytest.raises(DeliveryError, match="objet"):
        EditionMessage(edition, placeholders, settings, "2026-12")


@pytest.mark.parametrize("layout", [
    ".{s}", "{s}.", "a\n.b\n..c\n.\n", "{c}\n.{d}\n", "x" * 74 + "\n." + "é" * 40,
    ".css {{ width:100% !important; }}\n" + ".y" * 60, "." * 200, "{s}\n" + "." * 5,
])
def test_no_line_starts_with_a_dot_and_the_text_decodes_intact(settings, placeholders,
                                                               layout):
    """Wire-ready (``Envelope.message``): a line's leading "." is ``=2E``, lines ≤ 76."""
    t = placeholders.token
    rendered = layout.format(s=t("salutation"), c=t("courriel"), d=t("desabonnement"))
    edition = RenderedEdition(slug="complete", titre="Complète", subject="Test",
                              html=rendered, text=rendered)
    message = EditionMessage(edition, placeholders, settings, "2026-12")
    dotted = Recipient(email=".point@example.org", nom=".Point", territoire="bellechasse")
    for recipient in (GENEVIEVE, dotted):
        data = message.personalize(recipient).data
        assert type(data) is WireMessage      # the sender trusts it: the invariant must hold
        assert not data.startswith(b".") and b"\n." not in data
        assert data.count(b"\n") == data.count(b"\r\n") == data.count(b"\r")
        values = {"salutation": f"Bonjour {' '.join(recipient.nom.split())},",
                  "courriel": recipient.email,
                  "desabonnement": parse(data)["List-Unsubscribe"][1:-1]}
        expected = placeholders.fill(rendered, values, escape_html=False).replace("\r\n", "\n")
        assert bodies(data)[0] == expected
        body = data.split(b"quoted-printable\r\n\r\n", 1)[1]
        assert max(len(line) for line in body.split(b"\r\n")) <= 76


def test_golden_message_is_wire_ready():
    """The golden outbox message (real render) has CRLF only and no line starting with "."."""
    golden = Path(__file__).parent / "data" / "golden" / "2026-12" / "outbox-first.eml.txt"
    text = golden.read_bytes().replace(b"\r\n", b"\n")
    assert b"=2E" in text                      # the edition's CSS has lines that began so
    assert not text.startswith(b".") and b"\n." not in text
