"""The store writes drafts as content files: read back identical, never overwriting anything."""

from __future__ import annotations

from datetime import date
from pathlib import Path


from infolettre.errors import Severity
from infolettre.gather.mail import Attachment, ItemDraft, convert_message
from infolettre.content import read_item, write_draft

MAIL = Path(__file__).parent / "data" / "mail"
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 16


def make_draft(**changes) -> ItemDraft:
    front = {"titre": "Frigo communautaire", "organisme": "CDC des Etchemins",
             "rubrique": "nouvelles", "date": date(2026, 11, 24), "statut": "soumis",
             "source": "courriel"}
    values = {"front_matter": front, "corps": "Du texte, « accentué ».", "slug": "frigo",
              "message_id": "m@example.org", "sender": "info@cdc-etchemins.example.org",
              "digest": "0" * 64}
    values.update(changes)
    return ItemDraft(**values)


def test_every_sample_draft_round_trips(settings):
    """Each sample's draft, written then read back, keeps its title, body, territory, rubrique."""
    written = 0
    for eml in sorted(MAIL.glob("*.eml")):
        draft = convert_message(eml.read_bytes(), settings, month="2026-12").draft
        if draft is None:  # automatic or empty mail: no item to write
            continue
        path = write_draft(settings, "2026-12", draft)
        item, problems = read_item(path, settings, "2026-12")
        assert item is not None, (eml.name, [str(p) for p in problems])
        fm = draft.front_matter
        assert (item.titre, item.territoire, item.rubrique) == \
            (fm["titre"], fm["territoire"], fm["rubrique"]), eml.name
        assert item.corps.strip().startswith(draft.corps.strip()), eml.name
        documents = [a for a in draft.attachments if a.kind == "document"]
        assert item.corps.count("Pièce jointe : ") == len(documents), eml.name
        written += 1
    assert written >= 35


def test_slug_is_deduplicated_and_nothing_is_overwritten(settings):
    """A second draft with the same slug becomes ``frigo-2.md``; the first file is untouched."""
    first = write_draft(settings, "2026-12", make_draft())
    before = first.read_bytes()
    second = write_draft(settings, "2026-12", make_draft(corps="Autre texte."))
    third = write_draft(settings, "2026-12", make_draft(corps="Encore."))
    assert [p.name for p in (first, second, third)] == ["frigo.md", "frigo-2.md", "frigo-3.md"]
    assert first.read_bytes() == before


def test_attachment_names_taken_get_the_slug_and_links_follow(settings):
    """An image or document whose name is taken is renamed; ``image:`` and links follow."""
    photo = Attachment("photo.jpg", "image/jpeg", JPEG, "image")
    flyer = Attachment("affiche.pdf", "application/pdf", b"%PDF-1.4", "document")
    fm = {**make_draft().front_matter, "image": "photo.jpg", "image_alt": "Un frigo"}
    write_draft(settings, "2026-12", make_draft(front_matter=fm, attachments=[photo, flyer]))
    path = write_draft(settings, "2026-12",
                       make_draft(front_matter=fm, attachments=[photo, flyer]))
    item, problems = read_item(path, settings, "2026-12")
    assert problems == [] and item.image == "frigo-2-photo.jpg"
    assert "Pièce jointe : [frigo-2-affiche.pdf](frigo-2-affiche.pdf)" in item.corps
    assert (path.parent / "photo.jpg").read_bytes() == JPEG


def test_hostile_names_never_leave_the_issue_folder(settings, tmp_path):
    """A name with a path, a hidden name or a ``.md`` name is made safe before writing."""
    names = ["../../evil.pdf", ".htaccess.pdf", "/etc/passwd.pdf", "piège.md", "..\\x.pdf"]
    attachments = [Attachment(n, "application/pdf", b"%PDF", "document") for n in names]
    path = write_draft(settings, "2026-12", make_draft(attachments=attachments,
                                                       slug="../../../dehors"))
    folder = settings.paths.contenu / "2026-12"
    assert path.parent == folder
    written = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert all(p.parent == folder for p in written)
    assert not any(p.name.startswith(".") for p in written)
    assert [p.name for p in folder.glob("*.md")] == [path.name]


def test_notes_are_comments_the_reader_ignores(settings):
    """The conversion notes sit as YAML comments in the header, for the pivot only."""
    note = "image sans texte alternatif\nsur deux lignes"
    path = write_draft(settings, "2026-12", make_draft(notes=[note]))
    text = path.read_text(encoding="utf-8")
    assert "# À vérifier : image sans texte alternatif sur deux lignes\n" in text
    assert "# Reçu par courriel de info@cdc-etchemins.example.org" in text
    item, problems = read_item(path, settings, "2026-12")
    assert item is not None and problems == []


def test_event_and_dates_are_written_as_the_reader_expects(settings):
    """An agenda draft's event block and dates read back as an event in local time."""
    fm = {**make_draft().front_matter, "rubrique": "agenda",
          "evenement": {"debut": "2026-12-05 10:30", "lieu": "Salle municipale"}}
    path = write_draft(settings, "2026-12", make_draft(front_matter=fm))
    item, problems = read_item(path, settings, "2026-12")
    assert not [p for p in problems if p.severity is Severity.ERROR]
    assert item.evenement.debut.hour == 10 and item.evenement.lieu == "Salle municipale"
    assert item.date == date(2026, 11, 24)
