"""Every writer of ``content/`` writes what python-frontmatter reads back as meant.

Mail (intake), feeds, notes and the review app's edits: each written file, read with
``frontmatter.load``, gives the metadata and the content the writer was given, keys in the
one order; and the project's own reader gives the same Item from it.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import frontmatter

from infolettre import pipeline
from infolettre.content import RawDocument, add_note, read_item, validate, write_draft
from infolettre.content import write as store_write
from infolettre.content.frontmatter_write import item_file_text, ordered
from infolettre.gather import intake
from infolettre.gather.feeds.convert import entry_to_draft
from infolettre.gather.feeds.parse import parse_feed
from infolettre.models import FRONT_MATTER_KEYS
from infolettre.settings import FeedSource
from infolettre.state import connect, state_file

from .webfixtures import clock, own  # noqa: F401

MONTH = "2026-12"
MAIL = Path(__file__).parent / "data" / "mail"
FEED = FeedSource(url="https://exemple.org/flux.xml", nom="Table de test",
                  territoire="regional", rubrique="agenda")
RSS = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0" xmlns:ev="http://purl.org/rss/1.0/modules/event/"><channel>
<title>Blogue</title><link>https://exemple.org/</link>
<item><title>Épicerie solidaire : « portes ouvertes » à Saint-Gédéon</title>
<link>https://exemple.org/epicerie</link><pubDate>Thu, 05 Nov 2026 10:00:00 -0500</pubDate>
<ev:startdate>2026-12-05T10:00:00-05:00</ev:startdate><ev:location>Salle à l'Étape</ev:location>
<description>&lt;p&gt;Venez voir l'épicerie : café, jus et biscuits.&lt;/p&gt;</description>
</item></channel></rss>"""


def assert_reads_back(path: Path, settings, meant: dict, body: str) -> None:
    """``frontmatter.load`` gives ``meant`` (keys in the one order) and ``body``; the
    project's reader gives the same Item as the one validated from python-frontmatter's."""
    post = frontmatter.load(path)
    assert post.metadata == meant and list(post.metadata) == list(ordered(meant))
    assert post.content == body.strip()
    item, problems = read_item(path, settings, MONTH)
    assert item is not None, problems
    doc = RawDocument(path, values=dict(post.metadata), body=post.content)
    again = validate(doc, settings, MONTH)
    assert again is not None and again == item.__class__(**{
        **item.__dict__, "corps": item.corps.strip()})


def test_mail_draft_reads_back_as_meant(settings, monkeypatch):
    """A delegate's Latin-1 email with a photo and a PDF: the draft as converted."""
    drafts = []

    def recording(settings_, month, draft):
        drafts.append(draft)
        return write_draft(settings_, month, draft)

    monkeypatch.setattr(intake, "write_draft", recording)
    with connect(state_file(settings.paths.donnees)) as conn:
        result = intake.process_raw((MAIL / "delegate_latin1_photo_pdf.eml").read_bytes(),
                                    settings, source="a", conn=conn, month=MONTH)
    [draft] = drafts
    assert result.kind == "item"
    text = result.path.read_text(encoding="utf-8")
    assert text.startswith("---\n# Reçu par courriel de ")  # the notes on top, as comments
    post = frontmatter.load(result.path)
    assert post.content.startswith(draft.corps.strip())
    assert "Pièce jointe : [horaire.pdf](horaire.pdf)" in post.content
    assert_reads_back(result.path, settings, dict(draft.front_matter), post.content)


def _feed_draft(settings):
    """The sample feed's one entry, as the feed watch makes it a draft."""
    [entry] = parse_feed(RSS.encode(), {"content-type": "application/rss+xml"},
                         FEED.url).entries
    return entry_to_draft(entry, FEED, settings, month=MONTH,
                          fetched_at=datetime(2026, 11, 20, tzinfo=UTC))


def test_feed_draft_with_accents_and_an_event_reads_back_as_meant(settings):
    draft = _feed_draft(settings)
    path = write_draft(settings, MONTH, draft)
    assert draft.front_matter["evenement"]["lieu"] == "Salle à l'Étape"
    assert "titre: 'Épicerie solidaire : « portes ouvertes » à Saint-Gédéon'" in \
        path.read_text(encoding="utf-8")  # UTF-8 as is, never \\xc9 escapes
    assert_reads_back(path, settings, dict(draft.front_matter), draft.corps)


def test_a_note_changes_neither_metadata_nor_content(settings):
    draft = _feed_draft(settings)
    path = write_draft(settings, MONTH, draft)
    assert add_note(path, "Aussi reçu par courriel de x@y.org : même nouvelle.")
    assert path.read_text(encoding="utf-8").split("\n")[1] == \
        "# Aussi reçu par courriel de x@y.org : même nouvelle."
    assert not add_note(path, "Aussi reçu par courriel de x@y.org : même nouvelle.")
    assert_reads_back(path, settings, dict(draft.front_matter), draft.corps)


def test_the_apps_edit_reads_back_as_the_form_said(own, clock):  # noqa: F811
    slug = "haltes-chaleur-montmagny"
    path = own.paths.contenu / MONTH / f"{slug}.md"
    path.write_text(path.read_text(encoding="utf-8").replace(
        "---\n", "---\n# À vérifier : la date.\n", 1), encoding="utf-8")
    entry = pipeline.review.read_entry(own, MONTH, slug)
    fields = pipeline.review_edit.form_values(own, entry.values)
    fields.update(titre="Haltes-chaleur : « ouvertes » à Montmagny", date="2026-11-30",
                  evenement_debut="2026-12-05T10:00", evenement_lieu="Église Saint-Thomas")
    pipeline.review_edit.edit_item(own, MONTH, slug, fields, "Texte révisé, été.\n",
                                   entry.hash, "p@x", clock=clock)
    meant = {**{k: v for k, v in entry.values.items() if k != "evenement"},
             "titre": "Haltes-chaleur : « ouvertes » à Montmagny", "date": date(2026, 11, 30),
             "evenement": {"debut": "2026-12-05 10:00", "lieu": "Église Saint-Thomas"}}
    assert path.read_text(encoding="utf-8").startswith("---\n# À vérifier : la date.\ntitre:")
    assert_reads_back(path, own, ordered(meant), "Texte révisé, été.")
    pipeline.review.approve_items(own, MONTH, [slug], "p@x", clock=clock)
    assert_reads_back(path, own, ordered({**meant, "statut": "approuve"}),
                      "Texte révisé, été.")


def test_item_file_text_orders_keys_and_keeps_what_it_is_given():
    """Known keys in the one order, unknown after in theirs; the body's bytes as given."""
    text = item_file_text({"zz": 1, "date": date(2026, 12, 1), "titre": "Été",
                           "vieux": "x"}, "Corps  ", "# note\n")
    assert text == "---\n# note\ntitre: Été\ndate: 2026-12-01\nzz: 1\nvieux: x\n---\n" \
                   "Corps  \n"
    post = frontmatter.loads(text)
    assert post.metadata == {"titre": "Été", "date": date(2026, 12, 1), "zz": 1,
                             "vieux": "x"} and post.content == "Corps"
    assert FRONT_MATTER_KEYS.index("titre") < FRONT_MATTER_KEYS.index("date")


def test_the_store_writes_through_python_frontmatter():
    """The writer is python-frontmatter's: its dumps is what ``_item_text`` calls."""
    assert store_write.item_file_text is item_file_text


def test_an_edited_toml_item_is_written_back_in_yaml_with_its_notes(own, clock):  # noqa: F811
    """Hugo's ``+++`` item edited in the app: the same values, now in the one format."""
    slug = "hugo"
    path = own.paths.contenu / MONTH / f"{slug}.md"
    path.write_text('+++\n# Importé de Hugo.\ntitre = "Été solidaire"\norganisme = '
                    '"CDC des Etchemins"\nrubrique = "nouvelles"\ndate = 2026-11-18\n'
                    'vieux = 1\n+++\nCorps.\n', encoding="utf-8")
    entry = pipeline.review.read_entry(own, MONTH, slug)
    fields = pipeline.review_edit.form_values(own, entry.values)
    pipeline.review_edit.edit_item(own, MONTH, slug, fields, entry.body, entry.hash, "p@x",
                                   clock=clock)
    assert path.read_text(encoding="utf-8").startswith("---\n# Importé de Hugo.\ntitre: ")
    assert_reads_back(path, own, ordered(entry.values),
                      "Corps.")
