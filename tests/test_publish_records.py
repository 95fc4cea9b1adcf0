"""The publication records (``state.publications``) and the documents of items
(``content.documents``, ``render.documents``), hostile names included."""

from __future__ import annotations

import dataclasses
import json
from contextlib import closing
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from infolettre.content.documents import linked_documents, plain_name, read_beside
from infolettre.models import Event, Item, Status
from infolettre.render.documents import rewrite_document_links, rewrite_document_markdown
from infolettre.render.markdown import markdown_to_html
from infolettre.state import connect
from infolettre.state.publications import Counts, PublicationStore

MONTREAL = ZoneInfo("America/Montreal")
T0 = datetime(2026, 12, 2, 14, 0, tzinfo=UTC)


def _item(slug: str, **changes) -> Item:
    base = Item(slug=slug, month="2026-12", titre=f"Titre {slug}", organisme="CDC",
                territoire="bellechasse", rubrique="agenda", date=date(2026, 11, 20),
                corps="Texte.", statut=Status.APPROVED,
                evenement=Event(datetime(2026, 12, 9, 13, 30, tzinfo=MONTREAL), None, "Salle"),
                path=Path("/nulle/part/2026-12") / f"{slug}.md")
    return dataclasses.replace(base, **changes)


@pytest.fixture
def store(tmp_path):
    with closing(connect(tmp_path / "etat.sqlite3")) as conn:
        yield PublicationStore(conn)


def test_new_unchanged_corrected_withdrawn_and_back(store):
    a, b = _item("a"), _item("b")
    assert store.record("2026-12", date(2026, 12, 1), [a, b], T0) == Counts(new=2)
    later = T0 + timedelta(days=1)
    assert store.record("2026-12", date(2026, 12, 1), [a, b], later) == Counts(unchanged=2)
    changed = dataclasses.replace(a, corps="Texte corrigé.")
    assert store.record("2026-12", date(2026, 12, 1), [changed], later) == Counts(
        corrected=1, withdrawn=1)
    again = T0 + timedelta(days=2)
    assert store.record("2026-12", date(2026, 12, 3), [changed, b], again) == Counts(
        corrected=1, unchanged=1)
    [issue] = store.load()
    assert issue.parution == date(2026, 12, 3)
    assert (issue.first_published_at, issue.last_published_at) == (T0, again)
    rows = {s.item.slug: s for s in issue.items}
    assert rows["a"].item.corps == "Texte corrigé."
    assert (rows["a"].published_at, rows["a"].updated_at) == (T0, later)
    assert (rows["b"].published_at, rows["b"].updated_at, rows["b"].withdrawn_at) == (
        T0, again, None)


def test_snapshot_has_no_path_and_keeps_the_event_offset(store):
    local = datetime(2026, 12, 2, 9, 0, tzinfo=MONTREAL)
    store.record("2026-12", date(2026, 12, 1), [_item("a")], local)
    snapshot = json.loads(store.conn.execute("SELECT snapshot FROM publication_items")
                          .fetchone()[0])
    assert "path" not in snapshot and "/nulle/part" not in json.dumps(snapshot)
    assert snapshot["evenement"]["debut"] == "2026-12-09T13:30:00-05:00"
    stamp = store.conn.execute("SELECT published_at FROM publication_items").fetchone()[0]
    assert stamp == "2026-12-02T14:00:00+00:00"
    [issue] = store.load()
    rebuilt = issue.items[0].item
    assert rebuilt == _item("a") and rebuilt.path is None
    assert rebuilt.evenement.debut.utcoffset() == timedelta(hours=-5)


def test_months_newest_first(store):
    store.record("2026-11", date(2026, 11, 1), [_item("a", month="2026-11")], T0)
    store.record("2026-12", date(2026, 12, 1), [_item("b")], T0)
    assert store.months() == ["2026-12", "2026-11"]
    assert [i.month for i in store.load()] == ["2026-12", "2026-11"]


@pytest.mark.parametrize("target, name", [
    ("rapport.pdf", "rapport.pdf"), ("rapport%20annuel.pdf", "rapport annuel.pdf"),
    ("../rapport.pdf", None), ("/etc/passwd", None), ("%2Fetc%2Fpasswd", None),
    ("..%2F..%2Fsecret", None), ("javascript:alert(1)", None), ("https://x.org/a.pdf", None),
    ("#ancre", None), (".env", None), ("a\\b.pdf", None), ("dossier/a.pdf", None),
    ("a.pdf?x=1", None), ("", None),
])
def test_plain_names_only(target, name):
    assert plain_name(target) == name


def _linking(settings, body: str) -> Item:
    folder = settings.paths.contenu / "2026-12"
    folder.mkdir(parents=True, exist_ok=True)
    return _item("a", corps=body, image="photo.jpg", path=folder / "a.md")


def test_linked_documents_only_real_files_beside_the_item(settings, tmp_path):
    outside = tmp_path / "secret.txt"
    outside.write_text("secret", encoding="utf-8")
    item = _linking(settings, "[a](rapport.pdf) [b](<plan d'action.pdf>) [c](lien.pdf) "
                              "[d](../secret.txt) [e](/etc/passwd) [f](javascript:alert(1)) "
                              "[g](absent.pdf) [h](photo.jpg) [i](autre.md) [j](dossier) "
                              "[k](rapport.pdf)")
    folder = item.path.parent
    for name in ("rapport.pdf", "plan d'action.pdf", "photo.jpg", "autre.md"):
        (folder / name).write_bytes(b"x")
    (folder / "lien.pdf").symlink_to(outside)
    (folder / "dossier").mkdir()
    assert linked_documents(item, settings) == ["rapport.pdf", "plan d'action.pdf"]


def test_read_beside_refuses_a_link_and_what_is_not_a_file(settings, tmp_path):
    item = _linking(settings, "")
    outside = tmp_path / "passwd"
    outside.write_text("root", encoding="utf-8")
    folder = item.path.parent
    (folder / "lien.pdf").symlink_to(outside)
    (folder / "dossier").mkdir()
    (folder / "vrai.pdf").write_bytes(b"%PDF")
    assert read_beside(item, "vrai.pdf", settings) == b"%PDF"
    with pytest.raises(PermissionError):
        read_beside(item, "lien.pdf", settings)
    with pytest.raises(PermissionError):
        read_beside(item, "../../passwd", settings)
    with pytest.raises(IsADirectoryError):
        read_beside(item, "dossier", settings)
    with pytest.raises(FileNotFoundError):
        read_beside(item, "absent.pdf", settings)


def test_rewrite_points_plain_names_at_the_published_copy():
    item = _item("a", image="photo.jpg")
    body = markdown_to_html("[r](rapport%20annuel.pdf) [p](../x.pdf) [s](https://x.org/a.pdf) "
                            "[j](javascript:alert(1)) [i](photo.jpg) [e](/etc/passwd)")
    html = rewrite_document_links(body, item, "https://site.org/2026-12/documents/")
    assert 'href="https://site.org/2026-12/documents/rapport%20annuel.pdf"' in html
    assert 'href="../x.pdf"' in html and 'href="https://x.org/a.pdf"' in html
    assert 'href="photo.jpg"' in html and 'href="/etc/passwd"' in html
    assert "javascript" not in html.split(">j<")[0].split("<a")[-1]


def test_rewrite_drops_the_link_of_an_unpublished_name():
    body = markdown_to_html("[r](rapport.pdf) et [z](absent.pdf)")
    html = rewrite_document_links(body, _item("a"), "../documents/",
                                  published={"rapport.pdf"})
    assert 'href="../documents/rapport.pdf"' in html
    assert "absent.pdf" not in html and ">z</a>" in html


def test_rewrite_in_markdown_for_the_text_part():
    item = _item("a", image="photo.jpg")
    source = ("Pièce jointe : [rapport annuel.pdf](rapport%20annuel.pdf)\n[b](<plan d.pdf>) "
              "[c](../x.pdf) [d](https://x.org/y.pdf) [e](photo.jpg)")
    text = rewrite_document_markdown(source, item, "https://site.org/2026-12/documents/")
    assert "](https://site.org/2026-12/documents/rapport%20annuel.pdf)" in text
    assert "](https://site.org/2026-12/documents/plan%20d.pdf)" in text
    assert "[c](../x.pdf)" in text and "[d](https://x.org/y.pdf)" in text
    assert "[e](photo.jpg)" in text
