"""Emailed submissions from a Maildir: archived first, written once, filed, never lost.

Real Maildir folders (stdlib ``mailbox.Maildir``) in tmp_path; the samples of tests/data/mail/
each get their own Message-ID (they share one in the folder), and a fixed delivery time
(November 24, 2026, no November issue in preparation: the December issue).
"""

from __future__ import annotations

import hashlib
import mailbox
import os
from datetime import UTC, datetime
from email import message_from_bytes, policy
from pathlib import Path


from infolettre import cli
from infolettre.gather import intake
from infolettre.gather.intake import process_maildir, process_raw
from infolettre.settings import load_settings
from infolettre.state import connect, state_file
from infolettre.content import read_item

MAIL = Path(__file__).parent / "data" / "mail"
DELIVERED_AT = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)
DELIVERED = DELIVERED_AT.timestamp()


def sample(name: str) -> bytes:
    """Return a sample message with a Message-ID of its own."""
    raw = (MAIL / f"{name}.eml").read_bytes()
    return raw.replace(b"<case@example.org>", f"<{name}@example.org>".encode())


def inbox(tmp_path: Path, *names: str) -> Path:
    """Deliver the named samples into a fresh Maildir, as a mail server would."""
    folder = tmp_path / "Maildir"
    box = mailbox.Maildir(folder, create=True)
    for name in names:
        deliver(box, sample(name))
    return folder


def deliver(box: mailbox.Maildir, raw: bytes) -> None:
    key = box.add(raw)
    path = Path(box._path) / box._lookup(key)
    os.utime(path, (DELIVERED, DELIVERED))


def filed(maildir: Path, folder: str) -> list[bytes]:
    return [p.read_bytes() for sub in ("new", "cur") for p in (maildir / f".{folder}" / sub)
            .iterdir()]


def month_dir(settings) -> Path:
    return settings.paths.contenu / "2026-12"


def test_delegate_latin1_with_photo_and_pdf_becomes_an_item(settings, tmp_path):
    """A delegate's Latin-1 email gives an item in French, the photo beside it, the PDF linked."""
    maildir = inbox(tmp_path, "delegate_latin1_photo_pdf")
    report = process_maildir(settings, maildir)
    [result] = report.results
    assert result.kind == "item" and result.path.parent == month_dir(settings)
    text = result.path.read_text(encoding="utf-8")
    assert "légumes et repas préparés, à partager" in text and "Ã" not in text
    assert "Pièce jointe : [horaire.pdf](horaire.pdf)" in text
    assert (month_dir(settings) / "frigo.jpg").is_file()
    assert (month_dir(settings) / "horaire.pdf").is_file()
    item, problems = read_item(result.path, settings, "2026-12")
    assert item.image == "frigo.jpg" and item.statut.value == "soumis"
    assert [p.severity.value for p in problems] == ["avertissement"]  # alt text to write
    assert not list((maildir / "new").iterdir()) and len(filed(maildir, "Traite")) == 1
    digest = hashlib.sha256(sample("delegate_latin1_photo_pdf")).hexdigest()
    assert (settings.paths.donnees / "courriels" / digest[:2] / f"{digest}.eml").is_file()


def test_stranger_mail_is_held(settings, tmp_path):
    """A stranger's email is written « statut: retenu », readable by the pivot, never approved."""
    report = process_maildir(settings, inbox(tmp_path, "unknown_sender"))
    [result] = report.results
    assert result.kind == "item" and result.held
    assert "statut: retenu" in result.path.read_text(encoding="utf-8")
    item, _problems = read_item(result.path, settings, "2026-12")
    assert item is not None and item.territoire == "regional"
    assert "retenue" in report.summary()


def test_processing_the_same_mail_again_adds_nothing(settings, tmp_path):
    """Messages seen before (same Message-ID) are duplicates: no second item file."""
    maildir = inbox(tmp_path, "delegate_latin1_photo_pdf", "unknown_sender")
    process_maildir(settings, maildir)
    before = sorted(month_dir(settings).iterdir())
    box = mailbox.Maildir(maildir, create=False)
    for raw in filed(maildir, "Traite"):
        deliver(box, raw)
    report = process_maildir(settings, maildir)
    assert [r.kind for r in report.results] == ["duplicate", "duplicate"]
    assert sorted(month_dir(settings).iterdir()) == before


def test_auto_reply_is_rejected_and_filed_as_done(settings, tmp_path):
    """An automatic reply never becomes an item; it is filed in « Traite », nobody to alert."""
    maildir = inbox(tmp_path, "auto_submitted")
    report = process_maildir(settings, maildir)
    [result] = report.results
    assert result.kind == "rejected" and "automatique" in result.reason
    assert len(filed(maildir, "Traite")) == 1 and not report.to_review
    assert not month_dir(settings).exists()


def test_unreadable_or_empty_mail_is_filed_for_a_person(settings, tmp_path):
    """A rejection that is not automatic mail (here an empty message) goes to « A-verifier »."""
    maildir = inbox(tmp_path, "no_body_no_subject")
    report = process_maildir(settings, maildir)
    assert [r.kind for r in report.results] == ["rejected"] and report.to_review
    [raw] = filed(maildir, "A-verifier")
    assert raw.startswith(b"X-Infolettre-Raison:")


def test_the_summary_counts_each_message_under_one_heading(settings, tmp_path):
    """An empty message is « à vérifier » only (not also « écarté »): the headings add up to
    the messages read."""
    maildir = inbox(tmp_path, "delegate_latin1_photo_pdf", "auto_submitted",
                    "no_body_no_subject")
    report = process_maildir(settings, maildir)
    assert report.summary().startswith(
        "Courriels lus : 3 ; 1 nouvelle(s) écrite(s) (dont 0 retenue(s) pour la relecture), "
        "0 déjà traité(s), 1 message(s) automatique(s) écarté(s), 1 à vérifier.")
    assert sorted(r.category for r in report.results) == ["automatic", "item", "review"]


def test_failure_goes_to_review_with_reason_and_is_processed_after_the_fix(
        settings, tmp_path, monkeypatch):
    """A message whose processing raises is archived, filed with its reason, retried later.

    The conversion is replaced by one that raises: the one place a fake is acceptable, since
    the real conversion never raises by design.
    """
    def broken(*args, **kwargs):
        raise RuntimeError("panne simulée")

    maildir = inbox(tmp_path, "delegate_latin1_photo_pdf")
    monkeypatch.setattr(intake, "convert_message", broken)
    report = process_maildir(settings, maildir)
    [result] = report.results
    assert result.kind == "failed" and "panne simulée" in result.reason
    [raw] = filed(maildir, "A-verifier")
    reason = message_from_bytes(raw, policy=policy.default)["X-Infolettre-Raison"]
    assert "panne simulée" in reason
    digest = hashlib.sha256(sample("delegate_latin1_photo_pdf")).hexdigest()
    assert (settings.paths.donnees / "courriels" / digest[:2] / f"{digest}.eml").read_bytes() \
        == sample("delegate_latin1_photo_pdf")

    monkeypatch.undo()  # fixed; a person puts the message back in the inbox
    for path in (maildir / ".A-verifier" / "new").iterdir():
        path.rename(maildir / "new" / path.name)
    report = process_maildir(settings, maildir)
    assert [r.kind for r in report.results] == ["item"]
    assert not list((maildir / ".A-verifier" / "new").iterdir())


def test_path_tricks_in_attachment_names_stay_in_the_issue_folder(settings, tmp_path):
    """« ../../ », NUL and hidden names in attachments never write outside content/<month>/."""
    maildir = inbox(tmp_path, "attachment_names_hostile")
    [result] = process_maildir(settings, maildir).results
    assert result.kind == "item"
    written = [p for p in tmp_path.rglob("*") if p.is_file()
               and not p.is_relative_to(maildir) and not p.is_relative_to(settings.paths.donnees)]
    assert written and all(p.parent == month_dir(settings) for p in written)
    assert not any(p.name.startswith(".") for p in written)


def test_process_raw_without_message_id_uses_the_hash(settings, tmp_path):
    """A message with no Message-ID is recognised by its bytes the second time."""
    raw = sample("subject_tag_agenda").replace(b"Message-ID: <subject_tag_agenda@example.org>\n",
                                               b"")
    with connect(state_file(settings.paths.donnees)) as conn:
        first = process_raw(raw, settings, source="a", conn=conn, month="2026-12")
        again = process_raw(raw, settings, source="b", conn=conn, month="2026-12")
    assert first.message_id == "" and (first.kind, again.kind) == ("item", "duplicate")
    assert again.path == first.path


def test_courriel_entrant_settings_have_documented_defaults(project):
    """[courriel_entrant] is read with its defaults; the sample has none configured."""
    text = project.config.read_text(encoding="utf-8")
    project.config.write_text(text + '\n[courriel_entrant]\nmaildir = "boite"\n'
                              'imap_hote = "imap.example.org"\n', encoding="utf-8")
    intake_settings = load_settings(project.config).mail_intake
    assert intake_settings.maildir == project.root / "boite"
    assert (intake_settings.imap_port, intake_settings.imap_securite) == (993, "tls")
    assert intake_settings.dossier_a_verifier == "À vérifier"
    assert intake_settings.max_attachment_bytes == 10 * 1024 * 1024


def test_cli_gather_mail_reports_in_french(project, tmp_path, capsys, monkeypatch):
    """``gather mail --maildir`` prints the French report: 0 when all is done, 1 if some wait."""
    maildir = inbox(tmp_path, "delegate_latin1_photo_pdf", "auto_submitted")
    code = cli.main(["--config", str(project.config), "gather", "mail", "--maildir",
                     str(maildir)])
    out = " ".join(capsys.readouterr().out.split())
    assert code == 0, out
    assert "1 nouvelle(s) écrite(s)" in out and "0 à vérifier" in out

    deliver(mailbox.Maildir(maildir, create=False), sample("no_body_no_subject"))
    code = cli.main(["--config", str(project.config), "gather", "mail", "--maildir",
                     str(maildir)])
    out = " ".join(capsys.readouterr().out.split())
    assert code == 1 and "1 à vérifier" in out and "message vide" in out


def test_cli_gather_mail_without_a_mailbox_says_what_to_configure(project, capsys):
    """With no --maildir and no [courriel_entrant], the command explains what to add."""
    code = cli.main(["--config", str(project.config), "gather", "mail"])
    err = " ".join(capsys.readouterr().err.split())
    assert code == 2 and "courriel_entrant" in err and "--maildir" in err
