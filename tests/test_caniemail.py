"""Email-client lint: nothing we send is unsupported in Gmail or Outlook for Windows.

The sample issue's editions are checked against caniemail's features.json (corpus, through
INFOLETTRE_CORPORA); the lint's own behaviour is checked on small documents and a small
hand-written feature table, so it runs without the corpus.
"""

from __future__ import annotations

import pytest

from infolettre.models import COMPLETE
from infolettre.organize import organize
from .emaillint.caniemail import EXCEPTIONS, failures, lint, load_features
from infolettre.render.email import render_email_html
from infolettre.content import load_month

from .conftest import corpora
from .render_helpers import MONTH, realistic_issue, render_context

ROOT = corpora()


def _stat(value: str) -> dict:
    return {"stats": {"gmail": {"desktop-webmail": {"2019-01": "y", "2024-01": value}},
                      "outlook": {"windows": {"2007": "y", "2019": "y"}}},
            "notes_by_num": {"1": "Partial. Only on tables."}}


#: A hand-made extract of features.json: enough keys for the documents below.
MINI = {
    "html-div": _stat("y"), "html-p": _stat("y"), "html-span": _stat("y"),
    "css-border-radius": _stat("n"), "css-margin": _stat("a #1"),
    "css-unit-px": _stat("y"), "css-display": _stat("y"), "css-display-flex": _stat("n"),
    "html-target": _stat("n"), "css-at-media": _stat("n"), "css-selector-class": _stat("y"),
    "css-selector-chaining": _stat("n"), "css-pseudo-class-hover": _stat("n"),
    "html-doctype": _stat("n"), "html-style": _stat("a #1"), "html-comments": _stat("y"),
    "css-selector-type": _stat("y"),
}


def keys(findings, level):
    return {f.feature for f in findings if f.level == level}


def test_unsupported_features_are_failures():
    """border-radius, display:flex, target, .a.b and :hover (marked n) fail the lint."""
    html = ('<style>.a.b{margin:0} .c:hover{margin:0}</style>'
            '<div style="border-radius:4px;display:flex"><a target="_blank">x</a></div>')
    found = lint(html, MINI)
    assert {"css-border-radius", "css-display-flex", "html-target", "css-selector-chaining",
            "css-pseudo-class-hover"} <= keys(failures(found), "unsupported")


def test_partial_support_is_reported_but_allowed():
    """A feature marked « a #1 » is reported with its note and does not fail the lint."""
    found = lint('<p style="margin:0 0 12px 0">x</p>', MINI)
    partial = [f for f in found if f.feature == "css-margin"]
    assert partial and partial[0].level == "partial"
    assert partial[0].notes == "Partial. Only on tables."
    assert not failures(found)


def test_documented_exceptions_are_excused_not_failed():
    """A feature in the one exception list (here @media, doctype) is excused, not a failure."""
    found = lint("<!doctype html><style>@media (max-width:479px){.x{margin:0}}</style>", MINI)
    assert {"css-at-media", "html-doctype"} <= keys(found, "excused")
    assert not failures(found)


def test_anything_the_tables_do_not_map_fails():
    """An element, attribute or property missing from the mapping tables is a failure."""
    found = lint('<blink data-x="1" style="zoom:2">x</blink>', MINI)
    assert {"element <blink>", "attribute data-x", "CSS property zoom"} <= keys(
        failures(found), "unmapped")


def test_outlook_conditional_html_is_linted_too():
    """HTML inside <!--[if mso]> reaches Outlook: it is checked like the rest."""
    found = lint('<!--[if mso]><div style="border-radius:3px">x</div><![endif]-->', MINI)
    assert "css-border-radius" in keys(found, "unsupported")


def test_vendor_properties_are_not_flagged():
    """mso-*, -webkit-*, -ms-* properties are for one engine and have no caniemail entry."""
    found = lint('<div style="mso-hide:all;-webkit-text-size-adjust:100%">x</div>', MINI)
    assert not failures(found)


# --- our email against the real table ------------------------------------------------------

def _features():
    if ROOT is None or not (ROOT / "caniemail" / "features.json").is_file():
        pytest.skip("INFOLETTRE_CORPORA is not set: caniemail lint of our email SKIPPED "
                    "(run with .ci/run)")
    return load_features(ROOT / "caniemail" / "features.json")


def _render_all(issue, settings):
    for edition in issue.editions:
        env, ctx = render_context(issue, settings, edition.slug)
        yield edition.slug, render_email_html(env, ctx, settings)


@pytest.mark.corpus
def test_every_edition_uses_only_supported_features(sample_settings, capsys):
    """Sample editions (and a preview) use nothing Gmail or Outlook for Windows lacks."""
    features = _features()
    items, _problems = load_month(sample_settings, MONTH)
    issues = [organize(items, sample_settings, MONTH),
              organize(items, sample_settings, MONTH, preview=True)]
    partial: dict[str, set[str]] = {}
    excused: set[str] = set()
    for issue in issues:
        for slug, html in _render_all(issue, sample_settings):
            found = lint(html, features)
            assert not failures(found), "\n".join(map(str, failures(found)))
            excused |= keys(found, "excused")
            for f in found:
                if f.level == "partial":
                    partial.setdefault(f.feature, set()).add(f.client)
    with capsys.disabled():
        print(f"\ncaniemail: excused {sorted(excused)}; partial support: "
              + ", ".join(f"{k} ({', '.join(sorted(v))})" for k, v in sorted(partial.items())))
    # The exception list stays honest: every entry is needed by what we actually send.
    assert excused == set(EXCEPTIONS)


@pytest.mark.corpus
def test_exceptions_name_real_unsupported_features():
    """Each exception is a caniemail key marked « n » for a target client, with a reason."""
    features = _features()
    for key, reason in EXCEPTIONS.items():
        assert key in features and len(reason) > 40, key
        found = lint({"html-doctype": "<!doctype html>",
                      "css-at-media": "<style>@media (max-width:1px){p{color:red}}</style>",
                      "css-word-spacing": '<p style="word-spacing:normal">x</p>',
                      "css-outline": '<p style="outline:none">x</p>'}[key], features)
        assert key in keys(found, "excused"), key


@pytest.mark.corpus
def test_a_busy_month_passes_the_lint(sample_settings):
    """The 40-item stress issue (photos, lists, links) passes the lint as well."""
    features = _features()
    env, ctx = render_context(realistic_issue(sample_settings), sample_settings, COMPLETE)
    found = lint(render_email_html(env, ctx, sample_settings), features)
    assert not failures(found), "\n".join(map(str, failures(found)))
