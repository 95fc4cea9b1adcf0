"""A whole build of the sample issue, compared with saved outputs (golden files).

The outputs are deterministic (publication date = first of the month, no clock, no random
value left after per-recipient filling), so any change shows up as a diff to review. After
an intended change, regenerate with ``INFOLETTRE_UPDATE_GOLDEN=1 bash scripts/test -k golden``
and read the diff before committing it.
"""

from __future__ import annotations

import email
import email.policy
import os
import re

import pytest

from infolettre.pipeline import approve, build, send

from .conftest import DATA

GOLDEN = DATA / "golden" / "2026-12"
UPDATE = os.environ.get("INFOLETTRE_UPDATE_GOLDEN") == "1"
OUTPUTS = ["bellechasse.html", "bellechasse.txt", "complete.html", "complete.txt",
           "les-appalaches.txt", "les-etchemins.txt", "lotbiniere.txt", "montmagny.txt",
           "print.html"]


@pytest.fixture(scope="module")
def built(tmp_path_factory, sample_settings):
    out = tmp_path_factory.mktemp("build")
    return build(sample_settings, "2026-12", out=out, pdf=False)


def compare(name: str, actual: str) -> None:
    golden = GOLDEN / name
    if UPDATE:
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_bytes(actual.encode("utf-8"))
    assert golden.exists(), f"no golden file {golden}: run with INFOLETTRE_UPDATE_GOLDEN=1"
    expected = golden.read_bytes().decode("utf-8")  # byte-exact: .eml lines end in CRLF
    assert actual == expected, f"{name} differs from {golden} (see the diff above)"


@pytest.mark.parametrize("name", OUTPUTS)
def test_build_matches_golden(built, name):
    """Each edition's email, text and the print HTML are exactly the reviewed outputs."""
    compare(name, (built.out_dir / name).read_text(encoding="utf-8"))


def test_build_writes_every_file(built):
    """The build folder holds every edition's HTML and text, print.html and index.html."""
    names = {p.name for p in built.out_dir.iterdir()}
    for edition in built.rendered.editions:
        assert {f"{edition.slug}.html", f"{edition.slug}.txt"} <= names
    assert {"print.html", "index.html", "images"} <= names
    assert (built.out_dir / "images" / "frigo-communautaire.jpg").is_file()
    index = (built.out_dir / "index.html").read_text(encoding="utf-8")
    assert all(f'href="{e.slug}.html"' in index for e in built.rendered.editions)


def normalize_eml(data: bytes) -> str:
    """Drop what changes at every run: Message-ID, Date and MIME boundaries."""
    text = data.decode("ascii")
    boundaries = re.findall(r'boundary="([^"]+)"', text)
    for i, boundary in enumerate(boundaries):
        text = text.replace(boundary, f"BOUNDARY{i}")
    text = re.sub(r"(?m)^Message-ID: .*\r\n", "", text)
    return re.sub(r"(?m)^Date: .*\r\n", "", text)


@pytest.fixture
def signed_settings(sample_here, monkeypatch):
    """The sample, its state database in tmp_path, a fixed secret, the issue signed off."""
    monkeypatch.setenv("INFOLETTRE_SECRET", "golden-" + "0" * 40)
    approve(sample_here, "2026-12", "Test")
    return sample_here


def test_outbox_message_matches_golden(tmp_path, signed_settings):
    """A recipient's .eml (minus Message-ID, Date, boundaries) is the reviewed message."""
    report, _ = send(signed_settings, "2026-12", outbox=tmp_path)
    assert report.sent == 12 and report.paper_only == 2 and report.failed == 0
    files = sorted((tmp_path / "2026-12").glob("*.eml"))
    assert len(files) == 12
    first = files[0]
    compare("outbox-first.eml.txt", normalize_eml(first.read_bytes()))
    parsed = email.message_from_bytes(first.read_bytes(), policy=email.policy.default)
    assert parsed["Subject"].startswith("Le Fil régional — décembre 2026")


def test_sent_images_load_from_the_published_archive(tmp_path, signed_settings):
    """In a sent message, photos point at the archive (site/<month>/images/), not a local path."""
    send(signed_settings, "2026-12", outbox=tmp_path)
    found = []
    for path in (tmp_path / "2026-12").glob("*.eml"):
        parsed = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        html = parsed.get_body(("html",)).get_content()
        found += re.findall(r'<img[^>]+src="([^"]+)"', html)
    assert found, "no recipient of Les Etchemins or the complete edition got the photo"
    assert set(found) == {"https://infolettre.example.org/2026-12/images/frigo-communautaire.jpg"}
