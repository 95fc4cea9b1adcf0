"""Unsubscribing: signed tokens, the secret, the record, and replies read from a Maildir."""

from __future__ import annotations

import email
import email.policy
import mailbox
import os
import stat
from datetime import UTC, datetime
from email.header import Header
from email.message import EmailMessage
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import pytest

from infolettre.deliver.message import EditionMessage, list_unsubscribe
from infolettre.errors import ConfigError, InfolettreError
from infolettre.models import Recipient, RenderedEdition
from infolettre.render.personalize import Placeholders
from infolettre.settings import load_settings
from infolettre.state import connect, state_file
from infolettre.unsubscribe import (
    REASON_HEADER,
    SignedUnsubscriber,
    UnsubscribeStore,
    load_secret,
    make_token,
    process_maildir,
    process_unsubscribe_token,
    verify_token,
)

DATA = Path(__file__).parent / "data" / "unsubscribe"
SECRET = bytes(range(32))
OTHER_SECRET = bytes(range(1, 33))
MARIE = "marie.cote@example.net"
JEAN = "jean.roy@example.net"
BASE_URL = "https://infolettre.example.org/desabonnement"


@pytest.fixture
def store(tmp_path):
    return UnsubscribeStore(connect(state_file(tmp_path / "data")))


# --- tokens ----------------------------------------------------------------------------

def test_token_round_trip():
    """A token names its address, survives a URL unchanged, and verifies back to it."""
    token = make_token(SECRET, MARIE)
    assert token.startswith("v1.")
    assert all(c.isalnum() or c in "._-" for c in token)  # URL-safe, no percent-encoding
    assert verify_token(SECRET, token) == MARIE
    assert make_token(SECRET, MARIE) == token  # deterministic: same link in every issue


def test_accented_address_round_trips():
    """An internationalized address (UTF-8 local part) round-trips too."""
    assert verify_token(SECRET, make_token(SECRET, "rené.lévesque@example.org")) == \
        "rené.lévesque@example.org"


def _change_one(text: str, index: int) -> str:
    return text[:index] + ("A" if text[index] != "A" else "B") + text[index + 1:]


def test_tampered_tokens_are_rejected():
    """Any changed character, a swapped address, another secret or garbage gives None."""
    token = make_token(SECRET, MARIE)
    for index in range(3, len(token)):
        if token[index] != ".":
            assert verify_token(SECRET, _change_one(token, index)) is None, index
    version, encoded, mac = token.split(".")
    other = make_token(SECRET, JEAN).split(".")[1]
    assert verify_token(SECRET, f"{version}.{other}.{mac}") is None  # Jean's address, Marie's MAC
    assert verify_token(SECRET, f"v2.{encoded}.{mac}") is None
    assert verify_token(OTHER_SECRET, token) is None
    for garbage in ["", "v1", "v1..", "v1.@@@.x", token + "A", token[:-1], "x" * 10_000,
                    f"v1.{encoded}.{mac[:-1]}", f"v1.{encoded}==.{mac}"]:
        assert verify_token(SECRET, garbage) is None, garbage


def test_uppercase_address_in_token_is_rejected():
    """A token can only name a normalized address: one signed with capitals is not ours."""
    import base64
    import hashlib
    import hmac
    email_b64 = base64.urlsafe_b64encode(b"Marie@Example.net").rstrip(b"=").decode()
    payload = b"infolettre/desabonnement\x00v1\x00Marie@Example.net"
    mac = base64.urlsafe_b64encode(
        hmac.new(SECRET, payload, hashlib.sha256).digest()[:16]).rstrip(b"=").decode()
    assert verify_token(SECRET, f"v1.{email_b64}.{mac}") is None


def test_email_is_case_insensitive():
    """Marie@Example.NET and marie@example.net get the same token and the same record."""
    assert make_token(SECRET, " Marie.Cote@Example.NET ") == make_token(SECRET, MARIE)
    assert verify_token(SECRET, make_token(SECRET, "Marie.Cote@Example.NET")) == MARIE


# --- the secret ------------------------------------------------------------------------

def test_secret_file_is_created_0600_and_reused(tmp_path):
    """With no variable, data/secret.key is created (32 random bytes, 0600) and reused."""
    data = tmp_path / "data"
    first = load_secret(data, environ={})
    path = data / "secret.key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(first) == 32
    assert bytes.fromhex(path.read_text().strip()) == first
    assert load_secret(data, environ={}) == first
    assert not [p for p in data.iterdir() if p.name != "secret.key"]  # no temp file left
    assert load_secret(tmp_path / "other", environ={}) != first  # random, not a constant


def test_env_secret_is_used_and_no_file_written(tmp_path):
    """INFOLETTRE_SECRET, when set, is the secret; nothing is written to data/."""
    value = "k" * 40
    assert load_secret(tmp_path / "data", environ={"INFOLETTRE_SECRET": value}) == \
        value.encode()
    assert not (tmp_path / "data").exists()


def test_env_secret_too_short_is_rejected(tmp_path):
    """A variable under 32 characters is refused with a French fix, not silently used."""
    with pytest.raises(ConfigError) as caught:
        load_secret(tmp_path, environ={"INFOLETTRE_SECRET": "motdepasse"})
    assert caught.value.where == "INFOLETTRE_SECRET"
    assert "32" in caught.value.message and "secrets.token_hex" in caught.value.fix


def test_damaged_secret_file_is_rejected(tmp_path):
    """A secret file that is not 64 hex digits is refused (never silently replaced)."""
    (tmp_path / "secret.key").write_text("pas un secret\n")
    with pytest.raises(ConfigError) as caught:
        load_secret(tmp_path, environ={})
    assert "endommagé" in caught.value.message and "sauvegarde" in caught.value.fix
    assert (tmp_path / "secret.key").read_text() == "pas un secret\n"


# --- links -----------------------------------------------------------------------------

def test_links_contain_token_and_https():
    """The mailto subject and the HTTPS link both carry the recipient's token."""
    links = SignedUnsubscriber(SECRET, "desabonnement@example.org", BASE_URL).links(
        Recipient(email=MARIE))
    token = make_token(SECRET, MARIE)
    assert links.mailto == ("mailto:desabonnement@example.org?subject=desabonnement%20"
                            + token)
    assert links.https == f"{BASE_URL}?t={token}"
    assert parse_qs(urlsplit(links.https).query)["t"] == [token]
    assert unquote(urlsplit(links.mailto).query) == f"subject=desabonnement {token}"
    assert links.preferred == links.https
    header = list_unsubscribe(links).decode("ascii")
    assert token in header and "List-Unsubscribe-Post: List-Unsubscribe=One-Click" in header


def test_links_without_web_endpoint_are_mailto_only():
    """With no base URL, only the mailto link is offered (and shown in the footer)."""
    links = SignedUnsubscriber(SECRET, "desabonnement@example.org").links(Recipient(email=MARIE))
    assert links.https is None and links.preferred == links.mailto
    query = f"{BASE_URL}?liste=fil"
    assert SignedUnsubscriber(SECRET, "d@example.org", query).links(
        Recipient(email=MARIE)).https == f"{query}&t={make_token(SECRET, MARIE)}"


@pytest.mark.parametrize("url", ["http://infolettre.example.org/d", "infolettre.example.org",
                                 "https://x.example.org/d#f", "https://exemple.org/désabo"])
def test_bad_base_url_is_refused(url):
    """One-click unsubscribe needs a plain https:// URL; anything else is a config error."""
    with pytest.raises(ConfigError) as caught:
        SignedUnsubscriber(SECRET, "desabonnement@example.org", url)
    assert "https://" in caught.value.fix


def test_bad_mailto_address_is_refused():
    """An unsubscribe address with a display name (or none at all) is refused."""
    with pytest.raises(ConfigError):
        SignedUnsubscriber(SECRET, "Désabonnement <d@example.org>")


# --- the store -------------------------------------------------------------------------

def test_store_records_once_case_insensitively(store):
    """The first unsubscribe is kept (when, source); repeats and capitals change nothing."""
    when = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
    assert store.add("Marie.Cote@Example.net", "lien", when) is True
    assert store.add(MARIE, "courriel") is False
    assert store.contains("MARIE.COTE@example.net") and not store.contains(JEAN)
    assert store.count() == 1
    row = store.conn.execute("SELECT * FROM desabonnements").fetchone()
    assert tuple(row) == (MARIE, "2026-11-24T09:00:00+00:00", "lien")
    with pytest.raises(ValueError):
        store.add(JEAN, "telephone")


def test_store_survives_reopening(tmp_path):
    """Unsubscribes are in the state database: a new connection (a new run) sees them."""
    path = state_file(tmp_path / "data")
    UnsubscribeStore(connect(path)).add(MARIE, "pivot")
    assert UnsubscribeStore(connect(path)).contains(MARIE)


def test_store_filter_streams(store):
    """filter yields subscribed recipients lazily, reading the list one recipient at a time."""
    store.add("r1@example.org", "lien")
    store.add("r3@example.org", "pivot")
    consumed = []

    def recipients():
        for i in range(1, 100_001):
            consumed.append(i)
            yield Recipient(email=f"R{i}@example.org")

    skipped = []
    kept = store.filter(recipients(), on_skip=skipped.append)
    assert consumed == []  # nothing read before the first recipient is wanted
    assert next(kept).email == "R2@example.org"
    assert consumed == [1, 2]
    assert next(kept).email == "R4@example.org"
    assert consumed == [1, 2, 3, 4]
    assert [r.email for r in skipped] == ["R1@example.org", "R3@example.org"]
    store.add("r5@example.org", "lien")  # unsubscribed during the send: still honoured
    assert next(kept).email == "R6@example.org"


def test_process_unsubscribe_token(store):
    """The web endpoint's function records a genuine token once and refuses a forged one."""
    token = make_token(SECRET, MARIE)
    assert process_unsubscribe_token(store, SECRET, token, "lien") == MARIE
    assert process_unsubscribe_token(store, SECRET, token, "lien") == MARIE  # twice: harmless
    assert process_unsubscribe_token(store, SECRET, _change_one(token, len(token) - 2),
                                     "lien") is None
    assert store.count() == 1


# --- replies to the mailto link --------------------------------------------------------

def make_maildir(root: Path) -> mailbox.Maildir:
    return mailbox.Maildir(root / "Maildir", create=True)


def all_files(maildir: Path) -> list[Path]:
    return [p for p in maildir.rglob("*") if p.is_file() and p.parent.name in ("new", "cur")]


def folder_messages(maildir: Path, folder: str) -> list[EmailMessage]:
    root = maildir / f".{folder}" if folder else maildir
    return [email.message_from_bytes(p.read_bytes(), policy=email.policy.default)
            for sub in ("new", "cur") for p in sorted((root / sub).iterdir())]


def mail(subject: str, body: str = "", sender: str = JEAN) -> bytes:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = "desabonnement@example.org"
    msg["Subject"] = subject
    msg.set_content(body or "\n")
    return msg.as_bytes()


def test_token_in_encoded_subject_unsubscribes(tmp_path, store):
    """A reply whose RFC 2047-encoded Subject holds a genuine token unsubscribes its address."""
    box = make_maildir(tmp_path)
    token = make_token(SECRET, MARIE)
    subject = Header(f"Re: désabonnement {token}", "utf-8").encode()
    assert "=?utf-8?" in subject
    raw = (f"From: someone@example.com\nTo: desabonnement@example.org\nSubject: {subject}\n"
           "MIME-Version: 1.0\n\n\n").encode("ascii")
    box.add(raw)
    report = process_maildir(store, SECRET, tmp_path / "Maildir")
    assert store.contains(MARIE) and not store.contains("someone@example.com")
    assert (report.unsubscribed, report.already, report.to_review) == (1, 0, [])
    done = list((tmp_path / "Maildir" / ".Traite" / "cur").iterdir())
    assert len(done) == 1 and done[0].name.endswith(":2,S")
    assert done[0].read_bytes() == raw  # moved byte for byte
    assert "1 nouveau(x)" in report.summary() and "0 message(s) à vérifier" in report.summary()


def test_token_in_body_unsubscribes(tmp_path, store):
    """A token pasted in the text (quoted-printable, cut by a soft line break) is found."""
    box = make_maildir(tmp_path)
    token = make_token(SECRET, MARIE)
    raw = (DATA / "corps-qp.eml").read_text().replace(
        "{token_qp}", f"{token[:20]}=\n{token[20:]}")
    box.add(raw.encode("ascii"))
    seen = mailbox.MaildirMessage(mail("desabonnement " + make_token(SECRET, JEAN)))
    seen.set_subdir("cur")
    seen.add_flag("S")
    box.add(seen)  # a message already seen by a mail program (in cur/)
    report = process_maildir(store, SECRET, tmp_path / "Maildir")
    assert report.unsubscribed == 2 and store.contains(MARIE) and store.contains(JEAN)
    assert folder_messages(tmp_path / "Maildir", "") == []


def test_forged_and_missing_tokens_go_to_a_person(tmp_path, store):
    """Forged token, no token, or a From of a subscriber: kept in .A-verifier with the reason."""
    box = make_maildir(tmp_path)
    token = make_token(SECRET, MARIE)
    box.add(mail("desabonnement " + _change_one(token, len(token) - 3), sender=MARIE))
    box.add(mail("desabonnement " + make_token(OTHER_SECRET, MARIE), sender=MARIE))
    box.add(mail("Désabonnez-moi svp", "Merci de me retirer de la liste.", sender=MARIE))
    report = process_maildir(store, SECRET, tmp_path / "Maildir")
    assert store.count() == 0  # the From address proves nothing
    assert report.unsubscribed == 0 and len(report.to_review) == 3
    kept = folder_messages(tmp_path / "Maildir", "A-verifier")
    reasons = sorted(str(m[REASON_HEADER]) for m in kept)
    assert sum("jeton de désabonnement invalide" in r for r in reasons) == 2
    assert sum("aucun jeton" in r for r in reasons) == 1
    assert all(m["From"] == MARIE for m in kept)  # original headers intact under the reason
    assert not any((tmp_path / "Maildir" / ".A-verifier" / "cur").iterdir())  # left unread


def test_a_pathological_request_goes_to_a_person_unparsed(tmp_path, store):
    """A Subject folded over 3,300 encoded lines (hundreds of MB once parsed) is measured
    first: kept in .A-verifier with the reason, the genuine request after it still works."""
    from .test_mail_limits import folded_subject

    box = make_maildir(tmp_path)
    box.add(folded_subject())
    box.add(mail("desabonnement " + make_token(SECRET, MARIE)))
    report = process_maildir(store, SECRET, tmp_path / "Maildir")
    assert report.unsubscribed == 1 and store.contains(MARIE)
    [(_name, reason)] = report.to_review
    assert "Ko" in reason and "Subject" in reason


@pytest.mark.parametrize("name", ["reponse-citant-le-pied.eml", "reponse-outlook.eml"])
def test_reply_quoting_the_footer_unsubscribes_nobody(tmp_path, store, name):
    """A reply to the bulletin quoting its footer link (Gmail or Outlook style) is not a request."""
    box = make_maildir(tmp_path)
    raw = (DATA / name).read_bytes().replace(b"{token}", make_token(SECRET, JEAN).encode())
    box.add(raw)
    report = process_maildir(store, SECRET, tmp_path / "Maildir")
    assert store.count() == 0 and len(report.to_review) == 1
    (path,) = (tmp_path / "Maildir" / ".A-verifier" / "new").iterdir()
    kept = path.read_bytes()
    assert kept.endswith(raw)  # the reason header is prepended, nothing else changed
    if b"\r\n" in raw:
        assert kept.startswith(f"{REASON_HEADER}: ".encode()) and b"\r\n" in kept.split(raw)[0]


def test_malformed_messages_go_to_a_person_and_nothing_is_lost(tmp_path, store):
    """Garbage bytes and broken MIME never crash the run; every file ends up somewhere."""
    box = make_maildir(tmp_path)
    root = tmp_path / "Maildir"
    box.add((DATA / "malforme.eml").read_bytes())
    box.add(bytes(range(256)) * 8)
    box.add(b"")
    box.add(b"\x00\xff\xfe" * 1000)
    box.add(mail("desabonnement " + make_token(SECRET, MARIE)))
    box.add(mail("desabonnement " + make_token(SECRET, MARIE)))  # sent twice
    before = len(all_files(root))
    report = process_maildir(store, SECRET, root)
    assert len(all_files(root)) == before == 6
    assert folder_messages(root, "") == []
    assert report.unsubscribed == 1 and report.already == 1 and len(report.to_review) == 4
    reasons = sorted(str(m[REASON_HEADER]) for m in folder_messages(root, "A-verifier"))
    assert sum(r.startswith("message mal formé") for r in reasons) == 3
    assert reasons.count("message vide.") == 1
    assert "4 message(s) à vérifier" in report.summary()
    again = process_maildir(store, SECRET, root)  # a second run finds nothing new
    assert (again.unsubscribed, again.already, again.to_review) == (0, 0, [])
    assert len(all_files(root)) == 6


def test_mail_program_replying_to_a_real_message_unsubscribes(tmp_path, store):
    """End to end: the mailto of a real bulletin's List-Unsubscribe, sent back, unsubscribes."""
    settings = load_settings(Path(__file__).parent / "data" / "recipients" / "infolettre.toml")
    placeholders = Placeholders()
    t = placeholders.token
    edition = RenderedEdition(slug="bellechasse", titre="Bellechasse", subject="Le Fil",
                              html=f"<p>{t('salutation')}</p><a href=\"{t('desabonnement')}\">x</a>",
                              text=f"{t('salutation')}\n{t('desabonnement')}\n")
    unsubscriber = SignedUnsubscriber(SECRET, "desabonnement@example.org", BASE_URL)
    message = EditionMessage(edition, placeholders, settings, "2026-12",
                             unsubscriber=unsubscriber)
    data = message.personalize(Recipient(email=MARIE, territoire="bellechasse")).data
    parsed = email.message_from_bytes(data, policy=email.policy.default)
    header = "".join(str(parsed["List-Unsubscribe"]).split())
    mailto = next(u.strip("<>") for u in header.split(",") if u.startswith("<mailto:"))
    assert f"{BASE_URL}?t={make_token(SECRET, MARIE)}" in data.decode("ascii")
    subject = unquote(parse_qs(urlsplit(mailto).query, keep_blank_values=True)["subject"][0]
                      .replace(" ", "%20"))
    box = make_maildir(tmp_path)
    box.add(mail(subject, sender="quelqu.un@example.com"))
    assert process_maildir(store, SECRET, tmp_path / "Maildir").unsubscribed == 1
    assert store.contains(MARIE)


def test_not_a_maildir_is_a_clear_error(tmp_path, store):
    """A folder that is not a Maildir is reported in French, with where and how to fix."""
    with pytest.raises(InfolettreError) as caught:
        process_maildir(store, SECRET, tmp_path / "nulle-part")
    assert "Maildir" in caught.value.message and caught.value.where.endswith("nulle-part")


def test_moved_files_are_private(tmp_path, store):
    """Messages moved by infolettre are readable by their owner only (personal data)."""
    box = make_maildir(tmp_path)
    box.add(mail("bonjour"))
    process_maildir(store, SECRET, tmp_path / "Maildir")
    (path,) = (tmp_path / "Maildir" / ".A-verifier" / "new").iterdir()
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert (tmp_path / "Maildir" / ".A-verifier" / "maildirfolder").exists()
    assert mailbox.Maildir(tmp_path / "Maildir").get_folder("A-verifier").keys()


def test_unusable_folder_is_a_clear_error_and_the_message_stays(tmp_path, store):
    """If .Traite can't be created (a file is in the way), nothing moves and the error says so."""
    box = make_maildir(tmp_path)
    box.add(mail("desabonnement " + make_token(SECRET, MARIE)))
    (tmp_path / "Maildir" / ".Traite").write_text("un fichier, pas un dossier")
    with pytest.raises(InfolettreError) as caught:
        process_maildir(store, SECRET, tmp_path / "Maildir")
    assert "Traite" in caught.value.message and caught.value.fix
    assert len(list((tmp_path / "Maildir" / "new").iterdir())) == 1
