"""Symbolic links are never followed out of content/: items, images, month folders.

An ``image:`` naming a link to /etc/passwd copied that file into the published build. Now a
link is refused as a problem with its file, line and fix, and its target is never read.
"""

from __future__ import annotations

import os
from types import SimpleNamespace

import pytest

from infolettre import cli
from infolettre.errors import BuildError, ContentError, Severity
from infolettre.gather.mail.attachments import Attachment
from infolettre.gather.mail.convert import ItemDraft
from infolettre.render.outputs import copy_images
from infolettre.content import load_month, write_draft

SECRET = "root:x:0:0:root:/root:/bin/bash\n"
ITEM = ("---\ntitre: Frigo\norganisme: CDC des Etchemins\nrubrique: nouvelles\n"
        "date: 2026-11-02\nimage: {image}\nimage_alt: Un frigo\nstatut: approuve\n---\nTexte\n")
PNG = bytes.fromhex("89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
                    "0000000d4944415478da63f8ffff3f0005fe02fea7d6a4cf0000000049454e44ae426082")


@pytest.fixture
def secret(tmp_path):
    """A password-like file outside content/."""
    path = tmp_path / "outside" / "passwd"
    path.parent.mkdir()
    path.write_text(SECRET, encoding="utf-8")
    return path


def _errors(problems):
    return [p for p in problems if p.severity is Severity.ERROR]


def test_an_image_that_is_a_link_is_refused_and_never_copied(project, secret, capsys):
    """``image:`` naming a link (to a file outside content/): an error at the image line,
    and the build publishes nothing of the target."""
    item = project.write("frigo.md", ITEM.format(image="frigo.png"))
    (item.parent / "frigo.png").symlink_to(secret)
    items, problems = load_month(project.settings(), "2026-12")
    assert items == []
    [error] = _errors(problems)
    assert error.path == item and error.line == 6 and "lien symbolique" in error.message
    assert error.fix
    code = cli.main(["--config", str(project.config), "build", "2026-12", "--sans-pdf"])
    capsys.readouterr()
    assert code == 1
    published = [p for p in (project.root / "build").rglob("*") if p.is_file()]
    assert published and not any(SECRET in p.read_text(errors="replace") for p in published)


def test_an_item_file_that_is_a_link_is_not_read(project, secret):
    """A ``.md`` that is a link (even to another item of content/) is refused, not read."""
    good = project.write("vrai.md", ITEM.format(image="frigo.png").replace(
        "image: frigo.png\nimage_alt: Un frigo\n", ""))
    secret.write_text(ITEM.format(image="x.png").replace("image: x.png\nimage_alt: Un frigo\n",
                                                         ""), encoding="utf-8")
    (good.parent / "dehors.md").symlink_to(secret)
    (good.parent / "copie.md").symlink_to(good)
    items, problems = load_month(project.settings(), "2026-12")
    assert [i.slug for i in items] == ["vrai"]
    refused = sorted(p.path.name for p in _errors(problems))
    assert refused == ["copie.md", "dehors.md"]


def test_a_month_folder_that_is_a_link_is_refused(project, tmp_path):
    """content/<month> as a link to another folder: a clear error, for reading and writing."""
    elsewhere = tmp_path / "ailleurs"
    elsewhere.mkdir()
    (project.root / "content" / "2027-01").symlink_to(elsewhere)
    settings = project.settings()
    with pytest.raises(ContentError, match="lien symbolique"):
        load_month(settings, "2027-01")
    draft = ItemDraft(front_matter={"titre": "X"}, corps="Texte", slug="x", message_id=None,
                      sender="a@example.org", digest="0",
                      attachments=[Attachment("photo.png", "image/png", PNG, "image")])
    with pytest.raises(ContentError):
        write_draft(settings, "2027-01", draft)
    assert list(elsewhere.iterdir()) == []


def test_an_image_swapped_for_a_link_after_reading_is_not_copied(project, secret, tmp_path):
    """Between reading and building, an image replaced by a link: the build refuses it."""
    item_path = project.write("frigo.md", ITEM.format(image="frigo.png"))
    (item_path.parent / "frigo.png").write_bytes(PNG)
    settings = project.settings()
    [item], _ = load_month(settings, "2026-12")
    os.unlink(item_path.parent / "frigo.png")
    (item_path.parent / "frigo.png").symlink_to(secret)
    rendered = SimpleNamespace(issue=SimpleNamespace(items=[item]))
    with pytest.raises(BuildError, match="lien symbolique"):
        copy_images(rendered, tmp_path / "images", settings)
    assert not (tmp_path / "images" / "frigo.png").exists()
