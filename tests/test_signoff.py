"""Sign-off: an issue is sent only as the pivot approved it, and a refusal says what changed."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

import infolettre
from infolettre.errors import DeliveryError
from infolettre.organize import organize
from infolettre.review.signoff import (SignoffStore, approve_issue, fingerprint, issue_fingerprint,
                                require_signoff, serialize)
from infolettre.state import connect
from infolettre.content import load_month

from .conftest import REPO

MONTH = "2026-12"
FRIGO = "frigo-communautaire-lac-etchemin.md"
FRIGO_TITLE = "Ouverture d'un frigo communautaire à Lac-Etchemin"
UNAPPROVED = "collecte-manteaux-hiver-disraeli.md"  # statut: soumis
SIGNED_AT = datetime(2026, 11, 24, 19, 5, tzinfo=UTC)


@pytest.fixture
def sample(project):
    """A tmp project holding a copy of the sample December issue, free to edit."""
    shutil.copytree(REPO / "content" / MONTH, project.root / "content" / MONTH)
    return project


@pytest.fixture
def store(tmp_path):
    return SignoffStore(connect(tmp_path / "data" / "infolettre.sqlite3"))


def issue_of(project, month=MONTH):
    settings = project.settings()
    items, _problems = load_month(settings, month)
    return organize(items, settings, month), settings


def edit(project, name, old, new):
    path = project.root / "content" / MONTH / name
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def digest(project):
    issue, settings = issue_of(project)
    return issue_fingerprint(issue, settings)


def test_fingerprint_is_stable_across_loads_and_processes(sample):
    """Two loads of the same files, in this process or another one, give the same digest."""
    issue, settings = issue_of(sample)
    first = issue_fingerprint(issue, settings)
    assert first == digest(sample) == fingerprint(issue, settings).digest
    assert len(first) == 64 and len(issue.items) > 20
    code = ("import sys; from infolettre.settings import load_settings; "
            "from infolettre.content import load_month; from infolettre.organize import organize; "
            "from infolettre.review.signoff import issue_fingerprint; "
            "s = load_settings(sys.argv[1]); i, _p = load_month(s, '2026-12'); "
            "print(issue_fingerprint(organize(i, s, '2026-12'), s))")
    env = {**os.environ, "PYTHONHASHSEED": "12345",
           "PYTHONPATH": str(Path(infolettre.__file__).parent.parent)}
    out = subprocess.run([sys.executable, "-c", code, str(sample.config)], env=env,
                         capture_output=True, text=True, check=True)
    assert out.stdout.strip() == first


def test_serialization_is_plain_sorted_json_without_paths(sample):
    """The hashed document holds ISO dates and accents as they are, and no file path."""
    issue, settings = issue_of(sample)
    text = serialize(issue, settings).decode("utf-8")
    assert '"parution":"2026-12-01"' in text and FRIGO_TITLE in text
    assert str(sample.root) not in text and '"statut"' not in text


def test_fingerprint_changes_when_a_body_word_changes(sample):
    """Changing one word of an approved item's text changes the fingerprint."""
    before = digest(sample)
    edit(sample, FRIGO, "une boulangerie", "une fromagerie")
    assert digest(sample) != before


def test_fingerprint_changes_when_the_image_bytes_change(sample):
    """Replacing an image file with other bytes (same name) changes the fingerprint."""
    before = digest(sample)
    image = sample.root / "content" / MONTH / "frigo-communautaire.jpg"
    image.write_bytes(image.read_bytes() + b"\0")
    assert digest(sample) != before


def test_fingerprint_changes_when_an_item_becomes_approved(sample):
    """Approving one more item puts it in the issue, so the fingerprint changes."""
    before = digest(sample)
    edit(sample, UNAPPROVED, "statut: soumis", "statut: approuve")
    assert digest(sample) != before


def test_fingerprint_ignores_changes_to_unapproved_items(sample):
    """Editing an item that is not approved changes nothing that goes out."""
    before = digest(sample)
    edit(sample, UNAPPROVED, "mitaines", "mitaines et foulards")
    edit(sample, UNAPPROVED, "statut: soumis", "statut: retenu")
    assert digest(sample) == before


def test_fingerprint_covers_the_settings_readers_see(sample):
    """A new postal address in [infolettre] (shown in every footer) changes the fingerprint."""
    before = digest(sample)
    text = sample.config.read_text(encoding="utf-8")
    sample.config.write_text(text.replace("bureau 200", "bureau 300"), encoding="utf-8")
    assert digest(sample) != before


def test_refused_before_approval_with_the_command_to_run(sample, store):
    """With no sign-off, the guard refuses in French and says to run infolettre approve."""
    issue, settings = issue_of(sample)
    with pytest.raises(DeliveryError) as caught:
        require_signoff(store, MONTH, issue, settings)
    assert "le numéro de décembre 2026 n'a pas été approuvé" in caught.value.message
    assert "infolettre approve 2026-12" in caught.value.fix
    assert "après relecture" in caught.value.fix


def test_passes_after_approval_even_from_a_new_connection(sample, store, tmp_path):
    """Once approved, the same content passes the guard, also after reopening the database."""
    issue, settings = issue_of(sample)
    signed = approve_issue(store, issue, settings, "Julie Roy", SIGNED_AT)
    assert (signed.signed_by, signed.items_count) == ("Julie Roy", len(issue.items))
    reopened = SignoffStore(connect(tmp_path / "data" / "infolettre.sqlite3"))
    require_signoff(reopened, MONTH, *issue_of(sample))


def test_refused_after_a_change_naming_the_changed_item(sample, store):
    """A body edited after the sign-off is refused, naming the item, who signed and when."""
    approve_issue(store, *issue_of(sample), "Julie Roy", SIGNED_AT)
    edit(sample, FRIGO, "douze bénévoles", "quinze bénévoles")
    with pytest.raises(DeliveryError) as caught:
        require_signoff(store, MONTH, *issue_of(sample))
    message = caught.value.message
    assert "a changé depuis son approbation par Julie Roy" in message
    assert "mardi 24 novembre 2026 à 14 h 05" in message  # shown in America/Montreal time
    assert f"1 nouvelle modifiée : « {FRIGO_TITLE} »" in message
    assert "ajoutée" not in message and "retirée" not in message
    assert "infolettre approve 2026-12" in caught.value.fix


def test_refusal_lists_added_and_removed_items(sample, store):
    """An item approved since the sign-off is « ajoutée », a deleted one « retirée »."""
    approve_issue(store, *issue_of(sample), "Julie Roy", SIGNED_AT)
    edit(sample, UNAPPROVED, "statut: soumis", "statut: approuve")
    (sample.root / "content" / MONTH / FRIGO).unlink()
    with pytest.raises(DeliveryError) as caught:
        require_signoff(store, MONTH, *issue_of(sample))
    message = caught.value.message
    assert "1 nouvelle ajoutée : « Collecte de manteaux d'hiver à Disraeli »" in message
    assert f"1 nouvelle retirée : « {FRIGO_TITLE} »" in message


def test_new_approval_replaces_the_previous_and_history_is_kept(sample, store):
    """Approving again after a change lets the issue go; both approvals stay on record."""
    approve_issue(store, *issue_of(sample), "Julie Roy", SIGNED_AT)
    edit(sample, FRIGO, "douze bénévoles", "quinze bénévoles")
    approve_issue(store, *issue_of(sample), "Marc Côté")
    require_signoff(store, MONTH, *issue_of(sample))
    assert [s.signed_by for s in store.history(MONTH)] == ["Julie Roy", "Marc Côté"]
    assert store.current(MONTH).signed_by == "Marc Côté"
    assert store.current("2026-11") is None


def test_items_written_in_a_project_and_a_config_change(project, store):
    """Hand-written items: the guard passes, then names the configuration when it changes."""
    project.write("atelier.md", "---\ntitre: Atelier d'écriture\norganisme: CDC des Etchemins\n"
                  "rubrique: nouvelles\ndate: 2026-11-20\nstatut: approuve\n---\nBienvenue.\n")
    project.write("brouillon.md", "---\ntitre: Brouillon\norganisme: CDC des Etchemins\n"
                  "rubrique: nouvelles\ndate: 2026-11-21\n---\nPas encore.\n")
    issue, settings = issue_of(project)
    assert [i.slug for i in issue.items] == ["atelier"]
    approve_issue(store, issue, settings, "Julie Roy", SIGNED_AT)
    require_signoff(store, MONTH, *issue_of(project))
    text = project.config.read_text(encoding="utf-8")
    project.config.write_text(text.replace('montmagny = "Montmagny"', 'montmagny = "MRC de '
                                           'Montmagny"'), encoding="utf-8")
    with pytest.raises(DeliveryError) as caught:
        require_signoff(store, MONTH, *issue_of(project))
    assert "la configuration (identité, territoires ou rubriques)" in caught.value.message
    assert "nouvelle" not in caught.value.message.split("Changements")[1]


def test_a_preview_is_never_sent(sample, store):
    """An issue built with --preview (unapproved items shown) is refused even if signed."""
    issue, settings = issue_of(sample)
    approve_issue(store, issue, settings, "Julie Roy")
    items, _problems = load_month(settings, MONTH)
    with pytest.raises(DeliveryError):
        require_signoff(store, MONTH, organize(items, settings, MONTH, preview=True), settings)


def test_approval_needs_a_name(sample, store):
    """An approval with an empty name is refused, with the --par option to use."""
    with pytest.raises(DeliveryError) as caught:
        approve_issue(store, *issue_of(sample), "  ")
    assert "--par" in caught.value.fix
    assert store.current(MONTH) is None


def test_resend_notice_names_who_gets_the_new_version_and_who_does_not(sample, store):
    """After a partial send, a changed issue's notice counts each group and names the change."""
    from infolettre.review.signoff import Reach, resend_notice

    approve_issue(store, *issue_of(sample), "Julie Roy", SIGNED_AT)
    assert resend_notice(store, *issue_of(sample), Reach(sent=3, waiting=2)) is None  # same
    edit(sample, FRIGO, "douze bénévoles", "quinze bénévoles")
    assert resend_notice(store, *issue_of(sample), Reach(waiting=5)) is None  # nothing sent
    notice = resend_notice(store, *issue_of(sample),
                           Reach(sent=1, waiting=2, uncertain=1, failed=2))
    assert "envoyé à 1 personne : elle ne recevra pas cette nouvelle version" in notice
    assert "2 personnes pas encore jointes recevront la nouvelle version" in notice
    assert "1 envoi incertain (sans doute reçu) ne sera pas refait" in notice
    assert "2 échecs définitifs ne recevront aucune version" in notice
    assert f"par Julie Roy le mardi 24 novembre 2026 : 1 nouvelle modifiée : « {FRIGO_TITLE} »" \
        in notice
