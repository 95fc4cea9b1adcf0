"""MJML's documentation snippets: our compile step turns each into HTML with no mj- tag left,
or refuses it with a clear BuildError — never a crash.

Some "snippets" are not MJML documents MRML (mjml-python) can compile; they are listed in
``REJECTED`` with the reason, and must fail cleanly. Any other snippet must compile.
"""

from __future__ import annotations

import pytest

from infolettre.errors import BuildError
from infolettre.render.email import compile_mjml

from .conftest import corpora

ROOT = corpora()
pytestmark = pytest.mark.corpus

#: Snippets MRML refuses, and why. A snippet that starts compiling may leave this list.
REJECTED = {
    "README__1.mjml": "JavaScript usage example (mjml2html call), not an MJML document",
    "README__2.mjml": "JavaScript usage example (mjml-browser), not an MJML document",
    "doc__install__1.mjml": "JavaScript usage example, not an MJML document",
    "packages__mjml__README__1.mjml": "JavaScript usage example, not an MJML document",
    "packages__mjml__README__2.mjml": "JavaScript usage example, not an MJML document",
    "doc__components_2__1.mjml": "<mj-include path=./header.mjml>: the included file is not "
                                 "part of the snippet, and we give MRML no file loader",
    "packages__mjml-head-html-attributes__README__1.mjml": "<mj-html-attributes> is not "
                                                           "implemented by MRML 6",
    "packages__mjml-parser-xml__test__incl.mjml": "a fragment (<mj-column> without <mjml>), "
                                                  "meant to be included",
    "packages__mjml-raw__README__2.mjml": "template syntax {% if foo < 5 %} with a bare < "
                                          "inside <mj-raw>: MRML's XML parser refuses it",
    "packages__mjml-raw__README__3.mjml": "<mj-raw position=\"file-start\"> directly under "
                                          "<mjml>: not supported by MRML 6",
}


def _snippets():
    if ROOT is None:
        return []
    return sorted((ROOT / "mjml-doc-snippets").glob("*.mjml"))


def test_corpus_is_present():
    """The corpus folder is configured (CI sets INFOLETTRE_CORPORA) and holds the snippets."""
    if ROOT is None:
        pytest.skip("INFOLETTRE_CORPORA is not set: MJML corpus tests SKIPPED "
                    "(run them with .ci/run)")
    assert len(_snippets()) >= 30, f"too few MJML snippets under {ROOT}"
    assert set(REJECTED) <= {p.name for p in _snippets()}


@pytest.mark.parametrize("path", _snippets(), ids=lambda p: p.name)
def test_snippet_compiles_or_is_refused_clearly(path):
    """A snippet compiles to HTML with no <mj- tag; a known-bad one raises a BuildError."""
    source = path.read_text(encoding="utf-8")
    try:
        html = compile_mjml(source, name=path.name)
    except BuildError as error:
        assert path.name in REJECTED, f"{path.name} no longer compiles: {error}"
        assert error.where == path.name and error.message and error.fix
        return
    assert "<mj-" not in html
    assert html.lstrip().lower().startswith("<!doctype html>") and "</html>" in html
