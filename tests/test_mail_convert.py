"""One email → one item draft or a rejection: who, subject, body, charsets, attachments, limits.

Each case is a small message in tests/data/mail/ named for the case (written by make.py there);
the two huge cases (a 50 MB attachment, 10,000 parts) are built here instead of stored.
"""

from __future__ import annotations

import dataclasses
import time
from datetime import UTC, date, datetime
from email.message import EmailMessage
from pathlib import Path

import pytest

from infolettre.gather import mail
from infolettre.gather.mail import (
    MOJIBAKE,
    Conversion,
    convert_message,
    fix_mojibake,
    html_to_markdown,
    parse_when,
    safe_filename,
)
from infolettre.gather.replies import clean_reply, strip_quotation, strip_signature

MAIL = Path(__file__).parent / "data" / "mail"
FRENCH = "Fête de Noël : l’équipe a préparé « 200 repas » à Saint-Éphrem — été comme hiver."


def convert(sample_settings, name: str, **kw) -> Conversion:
    return convert_message((MAIL / f"{name}.eml").read_bytes(), sample_settings,
                           month="2026-12", **kw)


def draft(sample_settings, name: str, **kw):
    result = convert(sample_settings, name, **kw)
    assert result.rejection is None and result.draft is not None, result.rejection
    return result.draft


def notes(d) -> str:
    return "\n".join(d.notes)


# --- who may publish ----------------------------------------------------------------------

def test_delegate_latin1_photo_pdf(sample_settings):
    """A delegate's Latin-1 email with a photo and a PDF becomes a submitted draft in French."""
    d = draft(sample_settings, "delegate_latin1_photo_pdf")
    fm = d.front_matter
    assert fm["organisme"] == "CDC des Etchemins" and fm["territoire"] == "les-etchemins"
    assert fm["statut"] == "soumis" and fm["source"] == "courriel"
    assert fm["rubrique"] == "bons-coups" and fm["date"] == date(2026, 11, 24)
    assert "légumes et repas préparés, à partager" in d.corps and "Rubrique" not in d.corps
    assert [(a.name_safe, a.kind) for a in d.attachments] == [("frigo.jpg", "image"),
                                                              ("horaire.pdf", "document")]
    assert fm["image"] == "frigo.jpg" and "image_alt" not in fm
    assert "texte alternatif" in notes(d)
    assert d.sender == "info@cdc-etchemins.example.org" and d.message_id == "case@example.org"
    assert d.slug == "ouverture-d-un-frigo-communautaire" and len(d.digest) == 64
    assert list(fm) == [k for k in ("titre", "organisme", "territoire", "rubrique", "date",
                                    "image", "statut", "source")]


def test_unknown_sender_is_held(sample_settings):
    """A sender absent from the registry gives a held draft with a note naming the address."""
    d = draft(sample_settings, "unknown_sender")
    assert d.front_matter["statut"] == "retenu"
    assert "quelquun@ailleurs.example.com" in notes(d)


def test_known_address_matches_case_insensitively(sample_settings):
    """The registry lookup ignores the case of the sender's address."""
    assert draft(sample_settings, "known_sender_uppercase_address").front_matter["statut"] == \
        "soumis"


@pytest.mark.parametrize("name", ["forged_known_dmarc_fail", "spf_softfail_no_dkim"])
def test_forged_known_sender_is_held(sample_settings, name):
    """A known address with dmarc=fail, or SPF failing with no DKIM pass, is held."""
    d = draft(sample_settings, name)
    assert d.front_matter["organisme"] == "CDC des Etchemins"
    assert d.front_matter["statut"] == "retenu"
    assert "expéditeur possiblement usurpé" in notes(d)


def test_spf_fail_with_dkim_pass_is_trusted(sample_settings):
    """SPF failing alone (a forwarder) does not hold a message that DKIM vouches for, when
    our server stamped both results (``authserv_id``); unstamped, no pass is believed."""
    intake = dataclasses.replace(sample_settings.mail_intake, authserv_id=("mx.example.org",))
    ours = dataclasses.replace(sample_settings, mail_intake=intake)
    d = draft(ours, "spf_fail_dkim_pass")
    assert d.front_matter["statut"] == "soumis" and "usurpé" not in notes(d)
    assert draft(sample_settings, "spf_fail_dkim_pass").front_matter["statut"] == "retenu"


# --- automatic mail -------------------------------------------------------------------------

@pytest.mark.parametrize("name, word", [
    ("bounce_multipart_report", "multipart/report"),
    ("bounce_postmaster", "postmaster"),
    ("auto_submitted", "Auto-Submitted"),
    ("x_autoreply", "X-Autoreply"),
    ("out_of_office_reponse_automatique", "absence"),
    ("out_of_office_absent", "absence"),
    ("out_of_office_english", "absence"),
    ("precedence_bulk", "Precedence"),
    ("mailing_list", "List-Id"),
])
def test_automatic_mail_is_rejected(sample_settings, name, word):
    """Bounces, auto-replies, out-of-office and list mail are rejected with their reason."""
    result = convert(sample_settings, name)
    assert result.draft is None and word in result.rejection
    assert result.rejection.startswith("courriel automatique")
    assert result.message_id == "case@example.org"


# --- subject --------------------------------------------------------------------------------

def test_subject_prefixes_are_stripped(sample_settings):
    """RE:, Fwd:, TR:, RÉF :, AW:, WG: and [tags] are removed from the title."""
    d = draft(sample_settings, "subject_prefixes")
    assert d.front_matter["titre"] == "Ouverture du frigo"
    assert d.front_matter["rubrique"] == "nouvelles"


@pytest.mark.parametrize("name, rubrique, titre", [
    ("subject_tag_agenda", "agenda", "Souper communautaire"),
    ("subject_tag_bons_coups", "bons-coups", "Un frigo qui deborde"),
    ("subject_tag_financement", "financement", "Appel de projets"),
])
def test_subject_tag_picks_rubrique(sample_settings, name, rubrique, titre):
    """A leading [Agenda], [Bons coups] or [Financement] tag picks the rubrique."""
    d = draft(sample_settings, name)
    assert (d.front_matter["rubrique"], d.front_matter["titre"]) == (rubrique, titre)


@pytest.mark.parametrize("subject, titre, rubrique", [
    ("Réf. : Fw: [Nouvelles] Rapport annuel", "Rapport annuel", "nouvelles"),
    ("[ressources] Guide des aînés", "Guide des aînés", "ressources"),
    ("[Bon coup] Fw: Récolte record", "Récolte record", "bons-coups"),
    ("Re: Re: RE: [CDC] [Agenda] Atelier", "Atelier", "agenda"),
    ("Retour sur l'AGA", "Retour sur l'AGA", "nouvelles"),
])
def test_subject_variants(sample_settings, subject, titre, rubrique):
    """Prefixes repeat in any order; a rubrique tag anywhere in them picks the rubrique."""
    msg = _known(subject)
    msg.set_content("Texte.")
    d = convert_message(msg.as_bytes(), sample_settings, month="2026-12").draft
    assert (d.front_matter["titre"], d.front_matter["rubrique"]) == (titre, rubrique)


def test_empty_subject_takes_first_line(sample_settings):
    """An empty subject gives a title from the body's first line, shortened, with a note."""
    d = draft(sample_settings, "empty_subject")
    assert d.front_matter["titre"].startswith("Le comptoir alimentaire agrandit")
    assert d.front_matter["titre"].endswith("…") and len(d.front_matter["titre"]) <= 80
    assert "objet vide" in notes(d)


def test_undeclared_8bit_subject_is_decoded(sample_settings):
    """A subject sent as raw Windows-1252 bytes still reads correctly."""
    assert draft(sample_settings, "undeclared_8bit_subject").front_matter["titre"] == \
        "Fête de quartier à Montmagny"


# --- body -----------------------------------------------------------------------------------

def test_html_only_becomes_safe_markdown(sample_settings):
    """An HTML-only body becomes Markdown without script, unsafe links or the quoted reply."""
    d = draft(sample_settings, "html_only")
    assert d.corps == ("### Grande nouvelle\n\nLe **frigo** ouvre [ici](https://exemple.org/frigo)"
                       " et pas là.\n\n- fruits\n- légumes\n\nMerci,  \nMarie")
    assert "HTML" in notes(d)


def test_plain_text_is_preferred(sample_settings):
    """With text and HTML alternatives, the text part is the body."""
    assert draft(sample_settings, "alternative_prefers_plain").corps == "Version texte."


@pytest.mark.parametrize("name, kept", [
    ("quoted_reply_french", "Voici notre nouvelle pour décembre."),
    ("outlook_message_origine", "Notre nouvelle est ci-dessous."),
    ("outlook_de_envoye_block", "Texte de la nouvelle."),
])
def test_quoted_replies_and_signatures_are_removed(sample_settings, name, kept):
    """« Le … a écrit : », « Message d'origine », « De : … Envoyé : » and signatures go."""
    assert draft(sample_settings, name).corps == kept


def test_sender_signature_is_removed_but_contacts_stay(sample_settings):
    """A closing block starting with the sender's name goes; a contact line above it stays."""
    assert draft(sample_settings, "signature_with_sender_name").corps == (
        "Le souper aura lieu samedi.\n\nInformation :\nMarie Tremblay\n418-555-1234")


def test_key_lines_set_front_matter(sample_settings):
    """Leading « Clé : valeur » lines set rubrique, territory, dates and link; others stay."""
    d = draft(sample_settings, "key_lines")
    fm = d.front_matter
    assert (fm["rubrique"], fm["territoire"]) == ("financement", "lotbiniere")
    assert fm["date"] == date(2026, 11, 20) and fm["echeance"] == date(2027, 1, 15)
    assert fm["lien"] == "https://exemple.org/appel"
    assert d.corps == "Contact : Marie Tremblay\n\nUn appel de projets pour les initiatives locales."


def test_key_lines_set_event_and_alt_text(sample_settings):
    """Début, Fin (French long date or ISO) and Lieu make the event; alt text is taken as given."""
    d = draft(sample_settings, "key_lines_event")
    assert d.front_matter["evenement"] == {"debut": "2026-12-05 10:30", "fin": "2026-12-05 14:00",
                                           "lieu": "Salle municipale de Lac-Etchemin"}
    assert d.front_matter["image_alt"] == "Affiche du souper, fond orange"
    assert d.corps == "Venez nombreux."


def test_key_lines_with_bad_values_stay_in_body(sample_settings):
    """An unknown rubrique or territory, or an unsafe link, stays in the text with a note."""
    d = draft(sample_settings, "key_lines_bad_values")
    assert d.corps.startswith("Rubrique : potins\nTerritoire : Gaspésie\nLien : javascript:")
    assert "lien" not in d.front_matter and d.front_matter["rubrique"] == "nouvelles"
    assert notes(d).count("non comprise") == 3


def test_subject_tag_and_event_lines(sample_settings):
    """An agenda item by email gets its event from the Début and Lieu lines."""
    d = draft(sample_settings, "subject_tag_agenda")
    assert d.front_matter["evenement"] == {"debut": "2026-12-05 17:30", "lieu": "Salle municipale"}


def test_template_syntax_stays_literal(sample_settings):
    """Template syntax in a body is data: it is kept as written, never evaluated."""
    assert draft(sample_settings, "template_syntax").corps == (
        "Bonjour {{ destinataire.nom }} !\n{% include '/etc/passwd' %}\n{{ 7*7 }}")


def test_format_flowed_is_joined(sample_settings):
    """Soft-wrapped lines of a format=flowed part are joined again."""
    assert draft(sample_settings, "format_flowed").corps == "Une longue phrase coupée en deux lignes."


# --- charsets -------------------------------------------------------------------------------

@pytest.mark.parametrize("name", [
    "charset_cp1252_declared_utf8", "charset_cp1252_declared_latin1", "charset_utf8_base64",
    "charset_double_encoded_utf8", "charset_undeclared_8bit", "charset_unknown_name",
    "charset_utf8_declared_latin1"])
def test_charsets_give_correct_french(sample_settings, name):
    """Wrong, missing or unknown charsets and double-encoded UTF-8 all give correct French."""
    corps = draft(sample_settings, name).corps
    assert corps == FRENCH
    assert "\ufffd" not in corps and not MOJIBAKE.search(corps)


def test_latin1_quoted_printable(sample_settings):
    """A quoted-printable Latin-1 part decodes to correct French."""
    assert draft(sample_settings, "charset_latin1_quoted_printable").corps == \
        "Fête de Noël à Saint-Éphrem, été comme hiver."


@pytest.mark.parametrize("broken, fixed", [
    ("Ã©tÃ© Ã  lâ€™Ã©cole", "été à l’école"),
    ("cafÃƒÂ©", "café"),
    ("Ã\x89cole", "École"),
    ("à\xa0« bonjour » ÂGÉ", "à\xa0« bonjour » ÂGÉ"),
])
def test_fix_mojibake(broken, fixed):
    """Double-encoded UTF-8 is repaired; genuine French (« à », « ÂGÉ ») is left alone."""
    assert fix_mojibake(broken).replace("  ", " ") == fixed


@pytest.mark.parametrize("text, expected", [
    ("2026-12-05 10 h 30", (date(2026, 12, 5), "10:30")),
    ("5 décembre 2026 10h30", (date(2026, 12, 5), "10:30")),
    ("samedi 1er déc. 2026", (date(2026, 12, 1), None)),
    ("2026-02-30", None),
    ("bientôt", None),
])
def test_parse_when(text, expected):
    """ISO and French long dates are read; impossible dates are refused."""
    assert parse_when(text) == expected


# --- attachments ----------------------------------------------------------------------------

def test_hostile_attachment_names(sample_settings):
    """Paths, backslashes, NUL bytes and leading dots never reach a file name."""
    names = [a.name_safe for a in draft(sample_settings, "attachment_names_hostile").attachments]
    assert names == ["passwd.pdf", "evil.pdf", "nulbyte.pdf", "htaccess.pdf"]


def test_encoded_attachment_names(sample_settings):
    """RFC 2231 and RFC 2047 names are decoded; accents kept, spaces made dashes."""
    names = [a.name_safe for a in draft(sample_settings, "attachment_names_encoded").attachments]
    assert names == ["affiche-été-2026.pdf", "programme-Noël.pdf"]


def test_raw_8bit_attachment_names_are_decoded_not_replaced(sample_settings):
    """Raw 8-bit names: the message's charset first, then Windows-1252 / Latin-1; never
    U+FFFD in a file name, in the item or in a note."""
    latin1 = draft(sample_settings, "attachment_names_8bit_latin1")
    assert [a.name_safe for a in latin1.attachments] == [
        "affiche-fête-à-Lac-Étchemin.pdf", "procès-verbal.pdf"]
    cp1252 = draft(sample_settings, "attachment_names_8bit_cp1252_in_utf8")
    assert [a.name_safe for a in cp1252.attachments] == ["l’affiche-décembre.pdf"]
    for d in (latin1, cp1252):
        assert "\ufffd" not in d.corps + notes(d)


def test_duplicate_attachment_names(sample_settings):
    """Names are made unique within one message."""
    names = [a.name_safe for a in draft(sample_settings, "attachment_duplicates").attachments]
    assert names == ["affiche.pdf", "affiche-2.pdf", "Affiche-3.pdf"]


def test_programs_and_archives_are_refused(sample_settings):
    """Executables and archives are refused by extension, content type or content, with notes."""
    d = draft(sample_settings, "attachment_refused")
    assert d.attachments == []
    for name in ("rapport.exe", "photos.zip", "facture.pdf", "deguise.pdf", "script.js"):
        assert f"« {name} » refusée" in notes(d)


def test_winmail_dat_is_noted(sample_settings):
    """A winmail.dat attachment gives a note, not a crash nor a file."""
    d = draft(sample_settings, "attachment_winmail_dat")
    assert d.attachments == [] and "winmail.dat" in notes(d)


def test_first_image_and_given_alt_text(sample_settings):
    """The first image becomes ``image``; alt text comes only from what the sender wrote."""
    d = draft(sample_settings, "attachment_image_alt_from_key")
    assert d.front_matter["image"] == "frigo.png"
    assert d.front_matter["image_alt"] == "Bénévoles devant le frigo"
    assert "texte alternatif" not in notes(d)


def test_signature_logo_is_skipped(sample_settings):
    """A tiny inline image of an HTML signature is not taken as the item's image."""
    d = draft(sample_settings, "attachment_signature_logo")
    assert d.attachments == [] and "image" not in d.front_matter and "logo" in notes(d)


def test_attachment_over_cap_is_dropped(sample_settings):
    """An attachment over the size cap is dropped with a note (cap is a parameter)."""
    d = draft(sample_settings, "delegate_latin1_photo_pdf", max_attachment_bytes=1000)
    assert [a.name_safe for a in d.attachments] == ["horaire.pdf"]
    assert "« frigo.jpg » trop lourde" in notes(d)


@pytest.mark.parametrize("name, ctype, expected", [
    ("", "application/pdf", "piece-jointe-3.pdf"),
    ("...", "image/jpeg", "piece-jointe-3.jpg"),
    ("Rapport Annuel.PDF", "application/pdf", "Rapport-Annuel.pdf"),
    ("e\u0301te\u0301.pdf", "application/pdf", "été.pdf"),
    ("a" * 300 + ".pdf", "application/pdf", "a" * 76 + ".pdf"),
])
def test_safe_filename(name, ctype, expected):
    """Names are NFC, without dots in front, limited in length, with a lowercase extension."""
    assert safe_filename(name, ctype, 3) == expected


# --- limits ---------------------------------------------------------------------------------

def _known(subject="Grosse pièce jointe") -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = "info@cdc-etchemins.example.org"
    msg["Subject"] = subject
    msg["Date"] = "Tue, 24 Nov 2026 10:00:00 -0500"
    return msg


#: Seconds after which a conversion counts as hung (a guard, not a speed target: these take
#: about 1 s here; bench/mail_in.py measures speed as ratios, under no time limit).
HANG = 20


def test_fifty_megabyte_attachment(sample_settings):
    """A 50 MB attachment is dropped with a note (no hang: its speed is a bench matter)."""
    msg = _known()
    msg.set_content("Voici l'affiche.")
    msg.add_attachment(b"%PDF" + bytes(50 * 1024 * 1024), maintype="application",
                       subtype="pdf", filename="affiche.pdf")
    raw = msg.as_bytes()
    start = time.perf_counter()
    result = convert_message(raw, sample_settings, month="2026-12")
    assert time.perf_counter() - start < HANG
    assert result.draft.attachments == [] and "trop lourde" in notes(result.draft)


def test_ten_thousand_parts(sample_settings):
    """A message of 10,000 tiny MIME parts gives a draft quickly, parts beyond the cap noted."""
    parts = "".join(f"--B\nContent-Type: text/plain\n\n{i}\n" for i in range(10_000))
    raw = (f"From: info@cdc-etchemins.example.org\nSubject: Parts\nDate: Tue, 24 Nov 2026 "
           f"10:00:00 -0500\nContent-Type: multipart/mixed; boundary=B\n\n{parts}--B--\n").encode()
    start = time.perf_counter()
    result = convert_message(raw, sample_settings, month="2026-12")
    assert time.perf_counter() - start < HANG
    assert result.draft.corps == "0" and "parties" in notes(result.draft)


def test_deeply_nested_parts(sample_settings):
    """Thousands of nested multiparts give a clear rejection, quickly."""
    nest = "".join(f"Content-Type: multipart/mixed; boundary=b{i}\n\n--b{i}\n"
                   for i in range(3000))
    raw = f"From: info@cdc-etchemins.example.org\nSubject: x\n{nest}\nfond\n".encode()
    start = time.perf_counter()
    result = convert_message(raw, sample_settings, month="2026-12")
    assert time.perf_counter() - start < 2
    assert result.draft is not None or "imbriqué" in result.rejection


def test_no_body_at_all(sample_settings):
    """Headers only: no subject means a clear rejection; a subject alone a draft with a note."""
    assert "message vide" in convert(sample_settings, "no_body_no_subject").rejection
    d = draft(sample_settings, "no_body_with_subject")
    assert d.corps == "" and "pas de texte" in notes(d)


def test_attachments_only(sample_settings):
    """A message with only an attachment still becomes a draft to complete."""
    d = draft(sample_settings, "attachments_only")
    assert d.front_matter["titre"] == "Sans titre" and d.attachments


def test_received_time_dates_the_item(sample_settings):
    """The reception time, in the bulletin's time zone, dates the item."""
    when = datetime(2026, 11, 26, 3, 0, tzinfo=UTC)  # 25 Nov in Montréal
    d = draft(sample_settings, "unknown_sender", received=when)
    assert d.front_matter["date"] == date(2026, 11, 25)


@pytest.mark.parametrize("raw", [b"", b"\x00\xff" * 500, b"From: \n\n", b"\xd0\xcf\x11\xe0junk",
                                 b"Subject: =?utf-8?b?////?=\nFrom: a@b\n\n\xff"])
def test_garbage_never_raises(sample_settings, raw):
    """Any bytes give a draft or a rejection with a reason, never an exception."""
    result = convert_message(raw, sample_settings, month="2026-12")
    assert (result.draft is None) != (result.rejection is None)


def test_unexpected_error_becomes_rejection(sample_settings, monkeypatch):
    """An unexpected exception inside conversion becomes a rejection naming its type."""
    def boom(self):
        raise KeyError("oups")
    monkeypatch.setattr(mail._Converter, "run", boom)
    result = convert(sample_settings, "unknown_sender")
    assert result.draft is None and "KeyError" in result.rejection


# --- replies and HTML helpers ---------------------------------------------------------------

def test_reply_helpers():
    """Quotes, « On … wrote: » over two lines and mobile signatures are removed."""
    text = ("Nouvelle.\n\nEnvoyé de mon iPhone\n\nOn Tue, Nov 24, 2026 at 9:00 AM, Pivot\n"
            "<pivot@example.org> wrote:\n> ancien\n")
    assert clean_reply(text) == "Nouvelle."
    assert strip_quotation("A\n> b\nC") == "A\nC"
    assert strip_signature("Texte -- pas une signature\n\n-- \nMarie") == \
        "Texte -- pas une signature"


@pytest.mark.parametrize("text, sender, kept", [
    ("Texte.\n\nInformations au 418-555-1234", "Info CDC", None),
    ("Texte.\n\nMariette viendra.", "Marie Tremblay", None),
    ("Texte.\n\nMerci,\nMarie\nCDC des Etchemins", "Marie Tremblay", "Texte."),
    ("Texte.\n\nContact :\nMarie Tremblay\n418-555-1234", "Marie Tremblay", None),
])
def test_sender_signature_needs_the_name_as_a_word(text, sender, kept):
    """Only a closing block starting with the sender's name, as a whole word, is removed."""
    assert clean_reply(text, sender) == (kept if kept is not None else text)


def test_html_blockquote_and_escaping():
    """HTML quotes become Markdown quotes; Markdown characters in text are escaped."""
    assert html_to_markdown("<p># 5*3</p><blockquote>cité</blockquote>") == "\\# 5\\*3\n\n> cité"
