"""Delegates' emails read from a real IMAP server (Dovecot on loopback, tests/dovecot.py).

Messages are APPENDed over IMAP to the test user's INBOX, then ``gather.imap.poll`` reads
them with the real intake (``gather.intake.process_raw``): items written, messages moved to
« Traité » or « À vérifier », nothing twice. The .eml files come from tests/data/mail/; they
all share one Message-ID, so each APPEND gives its copy its own.
"""

from __future__ import annotations

import dataclasses
import re
import ssl
from collections.abc import Iterator
from pathlib import Path

import pytest

from infolettre.errors import InfolettreError
from infolettre.gather import imap, intake
from infolettre.gather.imap import ENV_PASSWORD, ImapError, imap_utf7_decode, imap_utf7_encode
from infolettre.settings import Settings

from .dovecot import DovecotServer, dovecot_server  # noqa: F401 - the fixture
from .dovecot import empty_mailbox, folder_messages, imap_client

MAIL = Path(__file__).parent / "data" / "mail"
TRAITE, A_VERIFIER = "Traité", "À vérifier"


# -- helpers: the mailbox as a person's mail program sees it ----------------------------------

def _quoted(folder: str) -> str:
    return f'"{imap_utf7_encode(folder)}"'


def append(server: DovecotServer, name: str, message_id: str) -> None:
    """APPEND tests/data/mail/<name>.eml to INBOX, under its own Message-ID."""
    raw = (MAIL / f"{name}.eml").read_bytes()
    raw = re.sub(rb"(?im)^Message-ID:[^\n]*", f"Message-ID: <{message_id}>".encode(), raw,
                 count=1)
    client = imap_client(server)
    try:
        typ, data = client.append("INBOX", None, None, raw)
        assert typ == "OK", data
    finally:
        client.logout()


def folders(server: DovecotServer) -> set[str]:
    """Return the decoded names of every folder (IMAP LIST)."""
    client = imap_client(server)
    try:
        typ, data = client.list()
    finally:
        client.logout()
    names = set()
    for line in data:
        found = re.search(rb'"/" "?(.*?)"?$', line)
        names.add(imap_utf7_decode(found.group(1).decode("ascii")))
    return names


def messages(server: DovecotServer, folder: str) -> list[bytes]:
    """Return the raw messages of a folder (SELECT read-only, FETCH), [] if it is absent."""
    return folder_messages(server, _quoted(folder))


@pytest.fixture
def mailbox(dovecot_server: DovecotServer) -> Iterator[DovecotServer]:  # noqa: F811
    """The test user's mailbox, emptied before each test (every folder but INBOX removed)."""
    empty_mailbox(dovecot_server)
    yield dovecot_server


@pytest.fixture
def intake_settings(project, mailbox: DovecotServer) -> Settings:
    """A throwaway project (content/ and data/ in tmp_path) whose [courriel_entrant] is the box."""
    settings = project.settings()
    box = dataclasses.replace(settings.mail_intake, imap_hote=mailbox.host,
                              imap_port=mailbox.port, imap_utilisateur=mailbox.user)
    return dataclasses.replace(settings, mail_intake=box)


def run(settings: Settings, server: DovecotServer, **kw) -> imap.PollReport:
    """Poll the test server in clear text (loopback only) with the test password."""
    return imap.poll(settings, environ={ENV_PASSWORD: server.password}, plain_loopback=True,
                     **kw)


# -- the tests --------------------------------------------------------------------------------

def test_delegate_mail_becomes_item_and_moves_to_traite(intake_settings, mailbox):
    """A delegate's Latin-1 mail with a photo and a PDF, a stranger's and an automatic reply,
    APPENDed over IMAP: two items, one rejection, all three in « Traité », INBOX empty."""
    append(mailbox, "delegate_latin1_photo_pdf", "imap-delegue@example.org")
    append(mailbox, "unknown_sender", "imap-inconnu@example.org")
    append(mailbox, "auto_submitted", "imap-auto@example.org")
    seen = []
    report = run(intake_settings, mailbox, progress=seen.append)

    assert [m.kind for m in report.messages] == ["item", "item", "rejected"]
    assert seen == [m.result for m in report.messages] == report.results
    assert "2 nouvelle(s)" in report.summary() and "1 retenue(s)" in report.summary()
    assert not report.problems
    assert {m.folder for m in report.messages} == {TRAITE}
    delegate, stranger, _auto = report.messages
    text = delegate.path.read_text(encoding="utf-8")
    assert "légumes et repas préparés, à partager" in text
    assert "\ufffd" not in text and "Ã©" not in text
    assert ".pdf" in text                                  # the PDF is linked
    assert any(p.suffix == ".jpg" for p in delegate.path.parent.iterdir())
    assert "retenu" in stranger.path.read_text(encoding="utf-8")   # a stranger is held
    assert delegate.message_id == "imap-delegue@example.org"

    assert TRAITE in folders(mailbox)
    assert messages(mailbox, "INBOX") == []
    assert len(messages(mailbox, TRAITE)) == 3


def test_repoll_adds_nothing(intake_settings, mailbox):
    """Polling an empty inbox again does nothing; the same message sent twice is one item."""
    append(mailbox, "delegate_latin1_photo_pdf", "imap-deux-fois@example.org")
    first = run(intake_settings, mailbox)
    assert [m.kind for m in first.messages] == ["item"]
    assert run(intake_settings, mailbox).messages == []
    append(mailbox, "delegate_latin1_photo_pdf", "imap-deux-fois@example.org")
    again = run(intake_settings, mailbox)
    assert [(m.kind, m.folder) for m in again.messages] == [("duplicate", TRAITE)]
    month = first.messages[0].path.parent
    assert len(list(month.glob("*.md"))) == 1
    assert len(messages(mailbox, TRAITE)) == 2


def test_marked_not_moved_when_configured(intake_settings, mailbox):
    """With apres_traitement = "marquer", a processed message stays in INBOX, read and
    keyworded, and the next poll skips it (no « Traité » folder is made)."""
    box = dataclasses.replace(intake_settings.mail_intake, apres_traitement="marquer")
    settings = dataclasses.replace(intake_settings, mail_intake=box)
    append(mailbox, "delegate_latin1_photo_pdf", "imap-marque@example.org")
    first = run(settings, mailbox)
    assert [(m.kind, m.folder) for m in first.messages] == [("item", "INBOX")]
    assert len(messages(mailbox, "INBOX")) == 1 and TRAITE not in folders(mailbox)
    assert run(settings, mailbox).messages == []


def test_failed_message_goes_to_a_verifier_with_reason(intake_settings, mailbox, monkeypatch):
    """A message whose conversion crashes lands in « À vérifier » with the reason; the others
    still go through. The crash is faked (the intake's convert_message raises), only here."""
    real = intake.convert_message

    def convert_or_crash(raw, settings, **kw):
        if b"imap-panne@" in raw:
            raise RuntimeError("panne simulée")
        return real(raw, settings, **kw)

    monkeypatch.setattr(intake, "convert_message", convert_or_crash)
    append(mailbox, "key_lines", "imap-panne@example.org")
    append(mailbox, "delegate_latin1_photo_pdf", "imap-apres-panne@example.org")
    report = run(intake_settings, mailbox)

    assert [(m.kind, m.folder) for m in report.messages] == [("failed", A_VERIFIER),
                                                              ("item", TRAITE)]
    assert "panne simulée" in report.messages[0].reason
    assert {TRAITE, A_VERIFIER} <= folders(mailbox)
    [held] = messages(mailbox, A_VERIFIER)
    assert held.startswith(b"X-Infolettre-Raison:")
    assert b"imap-panne@example.org" in held
    assert messages(mailbox, "INBOX") == []


def test_a_message_over_the_size_limit_is_not_downloaded_but_moved_whole(
        intake_settings, mailbox, monkeypatch):
    """Over ``MAX_MESSAGE_BYTES`` (lowered here to 2 KB), only the first bytes are fetched:
    the message goes, whole and unchanged, to « À vérifier », the reason in the report; the
    smaller one after it is processed."""
    from infolettre.mailbox import limits

    monkeypatch.setattr(limits, "MAX_MESSAGE_BYTES", 2048)
    append(mailbox, "delegate_latin1_photo_pdf", "imap-lourd@example.org")
    append(mailbox, "key_lines", "imap-leger@example.org")
    report = run(intake_settings, mailbox)

    assert [(m.kind, m.folder) for m in report.messages] == [("failed", A_VERIFIER),
                                                              ("item", TRAITE)]
    assert "trop volumineux" in report.messages[0].reason
    [kept] = messages(mailbox, A_VERIFIER)
    assert b"imap-lourd@example.org" in kept and len(kept) > 2048
    assert not kept.startswith(b"X-Infolettre-Raison:")
    assert not (intake_settings.paths.donnees / "courriels").exists() or all(
        b"imap-lourd" not in p.read_bytes()
        for p in (intake_settings.paths.donnees / "courriels").rglob("*.eml"))


def test_a_rejection_for_a_person_goes_to_a_verifier_and_is_counted_once(intake_settings,
                                                                          mailbox):
    """An empty message (no subject, no text) is for a person: filed in « À vérifier » with
    the reason, as from a Maildir, and counted there only; an automatic reply goes to
    « Traité »."""
    append(mailbox, "no_body_no_subject", "imap-vide@example.org")
    append(mailbox, "auto_submitted", "imap-auto-2@example.org")
    report = run(intake_settings, mailbox)
    assert [(m.kind, m.folder) for m in report.messages] == [("rejected", A_VERIFIER),
                                                              ("rejected", TRAITE)]
    [held] = messages(mailbox, A_VERIFIER)
    assert held.startswith(b"X-Infolettre-Raison:") and b"imap-vide@example.org" in held
    assert "Courriels lus : 2 ; 0 nouvelle(s)" in report.summary()
    assert "1 message(s) automatique(s) écarté(s), 1 à vérifier." in report.summary()


def test_put_back_from_a_verifier_is_processed_again(intake_settings, mailbox, monkeypatch):
    """After the fix, a message a person puts back in INBOX becomes an item (reason dropped).
    The failure is faked (the intake's convert_message raises), only for the first poll."""
    def crash(*args, **kwargs):
        raise RuntimeError("panne simulée")

    monkeypatch.setattr(intake, "convert_message", crash)
    append(mailbox, "key_lines", "imap-retour@example.org")
    assert [m.kind for m in run(intake_settings, mailbox).messages] == ["failed"]
    monkeypatch.undo()
    [held] = messages(mailbox, A_VERIFIER)
    client = imap_client(mailbox)
    try:
        assert client.append("INBOX", None, None, held)[0] == "OK"
    finally:
        client.logout()
    report = run(intake_settings, mailbox)
    assert [(m.kind, m.folder) for m in report.messages] == [("item", TRAITE)]
    assert "panne simulée" not in report.messages[0].path.read_text(encoding="utf-8")


def test_without_move_capability_copy_and_expunge(intake_settings, mailbox, monkeypatch):
    """A server without MOVE: COPY, \\Deleted, EXPUNGE give the same result (MOVE hidden here)."""
    init = imap._Mailbox.__init__

    def without_move(self, *args):
        init(self, *args)
        self.capabilities.discard("MOVE")

    monkeypatch.setattr(imap._Mailbox, "__init__", without_move)
    append(mailbox, "delegate_latin1_photo_pdf", "imap-sans-move@example.org")
    report = run(intake_settings, mailbox)
    assert [(m.kind, m.folder) for m in report.messages] == [("item", TRAITE)]
    assert messages(mailbox, "INBOX") == []
    assert len(messages(mailbox, TRAITE)) == 1


def test_one_crash_leaves_message_in_inbox_and_others_go_on(intake_settings, mailbox,
                                                            monkeypatch):
    """If process_raw itself raises (archive impossible), that message stays in INBOX, reported,
    and the next one is processed (the raise is faked here only)."""
    real = imap.process_raw

    def archive_fails(raw, settings, **kw):
        if b"imap-disque@" in raw:
            raise InfolettreError("impossible d'archiver un courriel reçu (disque plein)")
        return real(raw, settings, **kw)

    monkeypatch.setattr(imap, "process_raw", archive_fails)
    append(mailbox, "key_lines", "imap-disque@example.org")
    append(mailbox, "delegate_latin1_photo_pdf", "imap-ensuite@example.org")
    report = run(intake_settings, mailbox)
    assert [m.kind for m in report.messages] == ["error", "item"]
    assert "disque plein" in report.problems[0].problem
    [waiting] = report.to_review                   # the pivot sees it, with its UID
    assert waiting.source == f"imap:{report.messages[0].uid}"
    assert "disque plein" in waiting.reason
    assert len(messages(mailbox, "INBOX")) == 1


def test_wrong_password_is_a_french_error(intake_settings, mailbox):
    """A wrong password: ImapError in French naming the password variable."""
    with pytest.raises(ImapError) as caught:
        imap.poll(intake_settings, environ={ENV_PASSWORD: "mauvais"}, plain_loopback=True)
    assert "refusé l'identification" in caught.value.message
    assert ENV_PASSWORD in caught.value.fix


def test_missing_password_names_the_variable(intake_settings):
    """No password in the environment: the error names INFOLETTRE_IMAP_PASSWORD."""
    with pytest.raises(ImapError) as caught:
        imap.poll(intake_settings, environ={}, plain_loopback=True)
    assert ENV_PASSWORD in caught.value.message


def test_connection_refused_is_a_french_error(intake_settings, mailbox):
    """Nobody listening on the port: « impossible de joindre le serveur IMAP »."""
    from .sinks import free_port

    box = dataclasses.replace(intake_settings.mail_intake, imap_port=free_port())
    settings = dataclasses.replace(intake_settings, mail_intake=box)
    with pytest.raises(ImapError) as caught:
        run(settings, mailbox)
    assert "impossible de joindre" in caught.value.message
    assert "imap_port" in caught.value.fix


def test_tls_to_a_clear_text_server_is_a_french_error(intake_settings, mailbox):
    """imap_securite = "tls" against a clear-text port: a French TLS error, not a traceback."""
    with pytest.raises(ImapError) as caught:
        imap.poll(intake_settings, environ={ENV_PASSWORD: mailbox.password}, timeout=5)
    assert "négociation TLS" in caught.value.message
    assert "imap_securite" in caught.value.fix


def test_tls_and_starttls_with_a_trusted_certificate(intake_settings, mailbox):
    """Real TLS: implicit TLS (IMAPS) and STARTTLS both poll, the test certificate trusted."""
    trusted = ssl.create_default_context(cafile=str(mailbox.certificate))
    for mode, port, name in (("tls", mailbox.tls_port, "imap-tls@example.org"),
                             ("starttls", mailbox.port, "imap-starttls@example.org")):
        append(mailbox, "delegate_latin1_photo_pdf", name)
        box = dataclasses.replace(intake_settings.mail_intake, imap_securite=mode,
                                  imap_port=port)
        report = imap.poll(dataclasses.replace(intake_settings, mail_intake=box),
                           environ={ENV_PASSWORD: mailbox.password}, ssl_context=trusted)
        assert [(m.kind, m.message_id) for m in report.messages] == [("item", name)], mode


def test_untrusted_certificate_is_a_french_error(intake_settings, mailbox):
    """A certificate the system does not trust (self-signed here): refused, said in French,
    and the message waiting in INBOX is left alone."""
    append(mailbox, "delegate_latin1_photo_pdf", "imap-non-fiable@example.org")
    box = dataclasses.replace(intake_settings.mail_intake, imap_port=mailbox.tls_port)
    with pytest.raises(ImapError) as caught:
        imap.poll(dataclasses.replace(intake_settings, mail_intake=box),
                  environ={ENV_PASSWORD: mailbox.password}, timeout=5)
    assert "certificat du serveur IMAP n'est pas valide" in caught.value.message
    assert "imap_hote" in caught.value.fix
    assert len(messages(mailbox, "INBOX")) == 1


def test_cli_gather_mail_polls_the_imap_box_over_tls(project, mailbox, capsys, monkeypatch):
    """``infolettre gather mail`` with [courriel_entrant] imap_* set reads the box over real TLS
    (the test certificate trusted through SSL_CERT_FILE) and prints the French summary."""
    from infolettre import cli

    with project.config.open("a", encoding="utf-8") as handle:
        handle.write(f'\n[courriel_entrant]\nimap_hote = "{mailbox.host}"\n'
                     f"imap_port = {mailbox.tls_port}\n"
                     f'imap_utilisateur = "{mailbox.user}"\n')
    monkeypatch.setenv(ENV_PASSWORD, mailbox.password)
    monkeypatch.setenv("SSL_CERT_FILE", str(mailbox.certificate))
    append(mailbox, "delegate_latin1_photo_pdf", "imap-cli@example.org")
    code = cli.main(["--config", str(project.config), "gather", "mail"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "1 nouvelle(s) écrite(s)" in out
    assert messages(mailbox, "INBOX") == [] and len(messages(mailbox, TRAITE)) == 1


def test_plain_mode_only_on_loopback(intake_settings):
    """The clear-text test mode refuses any host but 127.0.0.1 and ::1."""
    box = dataclasses.replace(intake_settings.mail_intake, imap_hote="imap.example.org")
    with pytest.raises(ValueError):
        imap.poll(dataclasses.replace(intake_settings, mail_intake=box),
                  environ={ENV_PASSWORD: "x"}, plain_loopback=True)


@pytest.mark.parametrize(("name", "encoded"), [
    ("À vérifier", "&AMA- v&AOk-rifier"),
    ("Traité", "Trait&AOk-"),
    ("INBOX", "INBOX"),
    ("R&D", "R&-D"),
    ("Nouvelles 📰 été", "Nouvelles &2D3c8A- &AOk-t&AOk-")  # doveadm mailbox mutf7,
])
def test_modified_utf7_round_trip(name, encoded):
    """Folder names in IMAP's modified UTF-7 (RFC 3501): encoded as Dovecot expects, and back."""
    assert imap_utf7_encode(name) == encoded
    assert imap_utf7_decode(encoded) == name
