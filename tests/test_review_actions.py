"""The review actions of the pipeline (``pipeline.review``, ``review_edit``): what the
review app calls, on a copy of the sample content."""

from __future__ import annotations

import pytest

from infolettre import pipeline
from infolettre.content.edit import StaleItem, file_hash, replace_item, set_front_value
from infolettre.errors import ContentError
from infolettre.state.runlock import RunLocked, lock_data_dir

from .webfixtures import clock, own  # noqa: F401

MONTH = "2026-12"
SLUG = "haltes-chaleur-montmagny"


def path_of(settings, slug=SLUG, month=MONTH):
    return settings.paths.contenu / month / f"{slug}.md"


def test_approving_changes_only_the_statut_line(own, clock):
    """The rest of the file (notes, other keys, body) is kept byte for byte."""
    before = path_of(own).read_text()
    assert pipeline.review.approve_items(own, MONTH, [SLUG], "p@x", clock=clock) == [SLUG]
    assert path_of(own).read_text() == before.replace("statut: soumis", "statut: approuve")
    assert pipeline.review.approve_items(own, MONTH, [SLUG], "p@x", clock=clock) == []
    assert len(pipeline.review.item_history(own, MONTH, SLUG)) == 1


def test_a_missing_status_line_is_added(own):
    path = path_of(own)
    path.write_text(path.read_text().replace("statut: soumis\n", ""))
    set_front_value(path, "statut", "refuse")
    assert "statut: refuse\n---" in path.read_text()


def test_replace_item_refuses_a_stale_hash_and_writes_nothing(own):
    path = path_of(own)
    data = path.read_bytes()
    with pytest.raises(StaleItem) as caught:
        replace_item(path, "---\ntitre: x\n---\n", file_hash(b"autre chose"))
    assert caught.value.current == data.decode() and path.read_bytes() == data
    new = replace_item(path, data.decode() + "\nAjout.\n", file_hash(data))
    assert new == file_hash(path.read_bytes())


def test_a_refusal_without_reason_is_refused(own, clock):
    with pytest.raises(ContentError, match="raison"):
        pipeline.review.refuse_item(own, MONTH, SLUG, "p@x", "   ", clock=clock)
    assert pipeline.review.read_entry(own, MONTH, SLUG).statut == "soumis"


def test_actions_wait_for_no_one_while_another_run_holds_the_lock(own, clock):
    """A send or a gather holding the data folder's lock: the review action is refused."""
    import multiprocessing

    ready, done = multiprocessing.Event(), multiprocessing.Event()
    holder = multiprocessing.Process(target=_hold, args=(own, ready, done))
    holder.start()
    try:
        assert ready.wait(30)
        with pytest.raises(RunLocked):
            pipeline.review.approve_items(own, MONTH, [SLUG], "p@x", clock=clock)
    finally:
        done.set()
        holder.join(30)
    assert pipeline.review.read_entry(own, MONTH, SLUG).statut == "soumis"


def _hold(settings, ready, done):
    with lock_data_dir(settings.paths.donnees, "send 2026-12", tz=settings.identity.timezone):
        ready.set()
        done.wait(30)


def test_edit_keeps_the_notes_and_unknown_keys_and_lists_the_fields_changed(own, clock):
    path = path_of(own)
    path.write_text(path.read_text().replace("---\n", "---\n# À vérifier : la date.\n", 1)
                    .replace("source: courriel\n", "source: courriel\nvieux: 1\n"))
    entry = pipeline.review.read_entry(own, MONTH, SLUG)
    fields = pipeline.review_edit.form_values(own, entry.values)
    fields.update(rubrique="nouvelles", evenement_debut="2026-12-05T10:00",
                  evenement_lieu="Salle municipale")
    edited = pipeline.review_edit.edit_item(own, MONTH, SLUG, fields, entry.body + "\nFin.",
                                            entry.hash, "p@x", clock=clock)
    assert edited.changed == ("rubrique", "evenement", "corps")
    text = path.read_text()
    assert text.startswith("---\n# À vérifier : la date.\n") and "vieux: 1" in text
    assert "debut: 2026-12-05 10:00" in text and text.endswith("Fin.\n")
    item = pipeline.review.read_entry(own, MONTH, SLUG).item
    assert item.evenement.lieu == "Salle municipale" and item.rubrique == "nouvelles"


def test_an_invalid_edit_names_its_field(own, clock):
    entry = pipeline.review.read_entry(own, MONTH, SLUG)
    fields = pipeline.review_edit.form_values(own, entry.values)
    fields.update(date="2026-02-30", territoire="nulle-part")
    with pytest.raises(pipeline.review_edit.InvalidItem) as caught:
        pipeline.review_edit.edit_item(own, MONTH, SLUG, fields, entry.body, entry.hash,
                                       "p@x", clock=clock)
    assert set(caught.value.errors) >= {"date", "territoire"}


def test_a_move_refuses_to_overwrite_and_history_follows_the_item(own, clock):
    target = own.paths.contenu / "2027-01"
    target.mkdir()
    (target / f"{SLUG}.md").write_text("déjà là")
    with pytest.raises(ContentError, match="déjà un fichier"):
        pipeline.review.move_item(own, MONTH, SLUG, "2027-01", "p@x", clock=clock)
    (target / f"{SLUG}.md").unlink()
    pipeline.review.approve_items(own, MONTH, [SLUG], "p@x", clock=clock)
    pipeline.review.move_item(own, MONTH, SLUG, "2027-01", "p@x", clock=clock)
    assert [r.action for r in pipeline.review.item_history(own, "2027-01", SLUG)] == \
        ["deplace", "approuve"]


def test_each_action_is_announced_once_recorded(own, clock):
    """Side effects subscribe to ``events.item_reviewed`` (none is called from review)."""
    from infolettre.events import item_reviewed

    heard = []

    def listen(project, **kwargs):
        heard.append((kwargs["action"], kwargs["slug"], kwargs["by"]))

    with item_reviewed.connected_to(listen, sender=own):
        pipeline.review.approve_items(own, MONTH, [SLUG], "p@x", clock=clock)
    assert heard == [("approuve", SLUG, "p@x")]


def test_a_moved_item_takes_its_image_and_stays_valid(own, clock):
    slug = "frigo-communautaire-lac-etchemin"
    pipeline.review.move_item(own, MONTH, slug, "2027-02", "p@x", clock=clock)
    folder = own.paths.contenu / "2027-02"
    assert (folder / "frigo-communautaire.jpg").is_file()
    assert not (own.paths.contenu / MONTH / "frigo-communautaire.jpg").exists()
    entry = pipeline.review.read_entry(own, "2027-02", slug)
    assert entry.item is not None and entry.item.image == "frigo-communautaire.jpg"


def test_a_move_never_overwrites_an_image_of_the_target_month(own, clock):
    """The target month already has a file of that name: nothing moves."""
    folder = own.paths.contenu / "2027-02"
    folder.mkdir()
    (folder / "frigo-communautaire.jpg").write_bytes(b"autre")
    with pytest.raises(ContentError, match="frigo-communautaire.jpg"):
        pipeline.review.move_item(own, MONTH, "frigo-communautaire-lac-etchemin", "2027-02",
                                  "p@x", clock=clock)
    assert path_of(own, "frigo-communautaire-lac-etchemin").is_file()
    assert (folder / "frigo-communautaire.jpg").read_bytes() == b"autre"


def test_an_image_another_item_shows_is_copied_not_moved(own, clock):
    other = path_of(own, "jardin-collectif-montmagny")
    other.write_text(other.read_text().replace(
        "---\n", "---\nimage: frigo-communautaire.jpg\nimage_alt: Un frigo\n", 1))
    pipeline.review.move_item(own, MONTH, "frigo-communautaire-lac-etchemin", "2027-02",
                              "p@x", clock=clock)
    assert (own.paths.contenu / MONTH / "frigo-communautaire.jpg").is_file()
    assert (own.paths.contenu / "2027-02" / "frigo-communautaire.jpg").is_file()
    assert pipeline.review.read_entry(own, MONTH, "jardin-collectif-montmagny").item is not None
