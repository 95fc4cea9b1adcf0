"""python-frontmatter's own test files: our reader agrees, or rejects with file and line."""

from __future__ import annotations

import json

import frontmatter
import pytest

from infolettre.errors import Severity
from infolettre.content.frontmatter import read_document

from .conftest import corpora

ROOT = corpora()
pytestmark = pytest.mark.corpus


def _cases():
    if ROOT is None:
        return []
    folder = ROOT / "python-frontmatter"
    return sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix in (".md", ".txt")
                  and p.name not in ("LICENSE", "SOURCE.txt"))


def test_corpus_is_present():
    """The corpus folder is configured (CI sets INFOLETTRE_CORPORA)."""
    if ROOT is None:
        pytest.skip("INFOLETTRE_CORPORA is not set: frontmatter corpus tests skipped")
    assert _cases(), f"no front-matter files under {ROOT}"


@pytest.mark.parametrize("path", _cases(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_reader_agrees_or_rejects_with_line(path):
    """Each corpus file parses to python-frontmatter's expected result, or is rejected clearly."""
    doc = read_document(path)
    expected_file = path.with_name(path.stem + ".result.json")
    if not doc.ok:
        errors = [p for p in doc.problems if p.severity is Severity.ERROR]
        assert errors and all(p.line and p.path == path and p.fix for p in errors)
        return
    if expected_file.exists():
        expected = json.loads(expected_file.read_text(encoding="utf-8"))
        content = expected.pop("content")
    else:  # no saved result: python-frontmatter itself is the reference
        post = frontmatter.load(str(path))
        expected, content = json.loads(json.dumps(post.metadata, default=str)), post.content
    assert json.loads(json.dumps(doc.values, default=str)) == expected
    assert doc.body.strip() == content.strip()
