"""Feed watch on real inputs: every corpus feed → entries → drafts → files → items → issue.

Every file of ``feedparser/INDEX.tsv`` (with the HTTP headers its row gives) and every XML
snapshot of ``rss-parser-feeds/`` goes through ``parse_feed`` → ``entry_to_draft`` →
``store.write_draft`` into a throwaway project, is read back with ``store.load_month``, and
is rendered (``organize`` + ``render_issue``, in batches). A clear ``problem`` is an
acceptable outcome for a file; a crash, a hang, a file the store refuses, or anything
dangerous in an output is not.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import re
import signal
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import feedparser
import pytest

from infolettre import content as store
from infolettre import i18n
from infolettre.errors import Severity
from infolettre.gather.feeds import parse as feed_parse
from infolettre.gather.feeds.convert import entry_to_draft
from infolettre.gather.feeds.model import ParsedFeed
from infolettre.gather.feeds.parse import UNTITLED, parse_feed
from infolettre.models import Item
from infolettre.organize import organize
from infolettre.render import render_issue
from infolettre.render.markdown import markdown_to_html
from infolettre.settings import FeedSource, load_settings

from .conftest import SAMPLE_CONFIG, corpora
from .safety import scan

ROOT = corpora()
pytestmark = pytest.mark.corpus

FEED = FeedSource(url="https://exemple.org/flux", nom="Table de test", territoire="regional",
                  rubrique="nouvelles")
FETCHED = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
PER_MONTH = 150  # drafts per month folder (the store lists the folder for each new slug)
BATCH = 60  # items per rendered issue
SLOWEST_FILE_S = 2.0  # parse + convert of one file
TOTAL_BUDGET_S = 60.0  # the whole run (about 6 s here; generous for a busy CI machine)
HANG_S = 20  # a file still parsing after this is a hang: the run stops there
MOJIBAKE = ("Ã©", "Ã¨", "Ã ", "Ãª", "â€", "\ufffd")

#: rss-parser snapshots that lack a title, link or date on some entries, and why.
_RES = "rssparser/src/commonTest/resources/"
SNAPSHOT_EXCEPTIONS = {
    _RES + "feed-image-enclosure.xml": "date « 22.11.2022 12:16:00 »: not RFC 822",
    _RES + "feed-media-content-type.xml": "no pubDate at all (6 entries)",
    _RES + "feed-raw-enclosure.xml": "no pubDate at all",
    _RES + "feed-test-hindi-channel-image.xml": "date « Friday, January 29, 2021 04:42 PM »",
    _RES + "feed-test-time.xml": "pubDate holds an HTML <time> element, not a date",
    _RES + "feed-test-charset.xml": "the item has no <link> (a podcast: guid, enclosure)",
}
#: Encoding files whose text is deliberately broken (feedparser's own expectation says so).
BROKEN_ON_PURPOSE = {
    "tests/encoding/bozo_linenoise.xml": "line noise on purpose (expect: mojibake summary)",
}
#: Encoding files whose expected text is known (from INDEX.tsv's ``expect`` column).
EXPECTED_TEXT = {
    "tests/encoding/demoronize-1.xml": ("corps", "don’t"),
    "tests/encoding/demoronize-2.xml": ("corps", "don’t"),
    "tests/encoding/double-encoded-html.xml": ("corps", "…"),
    "tests/encoding/bozo_double-encoded-html.xml": ("corps", "…"),
    "tests/encoding/euc-kr-item.xml": ("corps", "년"),
    "tests/encoding/euc-kr.xml": ("feed", "년"),
    "tests/encoding/http_text_xml_charset_2.xml": ("corps", "This is a £“test.”"),
    "tests/encoding/http_text_xml_charset_overrides_encoding_2.xml":
        ("corps", "This is a £“test.”"),
}

#: must-preserve elements our pipeline keeps: feedparser's tag → what the rendered body shows.
#: The corpus files hold them *empty* (``<b></b>``), and an empty element has nothing to show
#: once the body is Markdown: so each is checked a second time with text inside.
PRESERVED = {
    "a": r"<a\b[^>]*href=\"https://exemple\.org/garde\"[^>]*>gardé-a</a>",
    "b": r"<strong\b[^>]*>gardé-b</strong>",
    "i": r"<em\b[^>]*>gardé-i</em>",
    "blockquote": r"<blockquote\b[^>]*>\s*<p\b[^>]*>gardé-blockquote",
    "br": r"avant-br<br\b[^>]*>\s*après-br",
    "h3": r"<h3\b[^>]*>gardé-h3</h3>",
    "h4": r"<h3\b[^>]*>gardé-h4</h3>",  # Markdown has one heading level for items: h3
    "li": r"<li\b[^>]*>gardé-li</li>",
    "code": r"<code\b[^>]*>gardé-code</code>",
}
# Every other must-preserve file (acronym, article, audio, button, canvas, center, colgroup,
# command, datagrid, datalist, del, dfn, dt, event-source, fieldset, figure, font, form,
# header, input, menu, meter, nextid, option, output, progress, q, samp, select, small,
# spacer, span, strike, table, tbody, textarea, time, u, and the 67 acceptable_attribute_*
# files, all on <span>) is an element or attribute outside render/markdown.ALLOWED_TAGS /
# ALLOWED_ATTRIBUTES: feedparser keeps it, we drop it on purpose (text kept).


# --- the corpus ------------------------------------------------------------------------

@dataclass(frozen=True)
class Source:
    """One corpus file: where it is, its INDEX row (feedparser) and its HTTP headers."""

    group: str  # "feedparser" | "rss-parser"
    path: str  # relative to the group folder
    file: Path
    category: str = ""
    sanitize_kind: str = ""
    headers: dict = field(default_factory=dict)


def _headers(value: str) -> dict[str, str]:
    """``Content-type:text/xml; charset=…`` (one header per line) → response headers."""
    headers = {}
    for line in filter(None, (v.strip() for v in (value or "").splitlines())):
        name, _sep, val = line.partition(":")
        headers[name.strip().lower()] = val.strip()
    return headers


def sources() -> list[Source]:
    if ROOT is None:
        return []
    found = []
    folder = ROOT / "feedparser"
    with open(folder / "INDEX.tsv", encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f, delimiter="\t"):
            found.append(Source("feedparser", row["path"], folder / row["path"],
                                row["category"], row["sanitize_kind"],
                                _headers(row["http_headers"])))
    snapshots = ROOT / "rss-parser-feeds"
    for path in sorted(snapshots.rglob("*.xml")):
        found.append(Source("rss-parser", path.relative_to(snapshots).as_posix(), path))
    return found


@dataclass
class FileRun:
    source: Source
    parsed: ParsedFeed
    seconds: float
    drafts: list = field(default_factory=list)
    items: list[Item] = field(default_factory=list)
    rendered: bool = False


@dataclass
class Run:
    files: list[FileRun]
    settings: object
    load_errors: list[str]
    findings: list[str]  # dangers in rendered outputs, with their file
    body_findings: list[str]  # dangers in each body's own HTML
    outputs: list[tuple[str, str]]  # (name, html) of the must-preserve issue
    seconds: dict
    unsanitized_items: int  # must-strip entries rendered with feedparser's sanitizer off


class _Hang(Exception):
    pass


def _alarm(_signum, _frame):
    raise _Hang()


def _timed_parse(source: Source) -> tuple[ParsedFeed, float]:
    body = source.file.read_bytes()
    url = f"https://corpus.example/{source.group}/{source.path}"
    use_alarm = hasattr(signal, "SIGALRM")
    if use_alarm:
        previous = signal.signal(signal.SIGALRM, _alarm)
        signal.alarm(HANG_S)
    started = time.perf_counter()
    try:
        parsed = parse_feed(body, source.headers, url)
    except _Hang:
        pytest.fail(f"{source.path}: parse_feed still running after {HANG_S} s (hang)")
    finally:
        if use_alarm:
            signal.alarm(0)
            signal.signal(signal.SIGALRM, previous)
    return parsed, time.perf_counter() - started


def marker(n: int) -> str:
    return f"QZ{n:05d}ZQ"


_MARKER = re.compile(r"QZ(\d{5})ZQ")


def _owner(text: str, offset: int) -> int | None:
    last = None
    for m in _MARKER.finditer(text, 0, offset + 1):
        last = int(m.group(1))
    return last


def _render_checked(items: list[Item], names: list[str], settings, findings: list[str]
                    ) -> list[tuple[str, str, str]]:
    """Render ``items`` (marked with their index) as one issue; scan every output."""
    marked = [dataclasses.replace(item, titre=f"{marker(n)} {item.titre}")
              for n, item in enumerate(items)]
    issue = organize(marked, settings, "2026-12", preview=True)
    rendered = render_issue(issue, settings)
    outputs = []
    for e in rendered.editions:
        outputs += [(f"{e.slug}.html", "html", e.html), (f"{e.slug}.txt", "text", e.text)]
    outputs.append(("print.html", "html", rendered.print_html))
    shown = {int(m.group(1)) for m in _MARKER.finditer(rendered.print_html)}
    for n in set(range(len(items))) - shown:
        findings.append(f"{names[n]}: item missing from print.html")
    for name, kind, text in outputs:
        for offset, message in scan(text, kind):
            n = _owner(text, offset)
            where = names[n] if n is not None else "outside any item"
            findings.append(f"{where} in {name}: {message}")
    return outputs


def _fill(data: bytes, tag: str) -> bytes:
    """Put text inside the empty must-preserve element (``&lt;b&gt;&lt;/b&gt;``)."""
    if tag == "br":
        return re.sub(rb"&lt;br\s*/?&gt;", "avant-br&lt;br /&gt;après-br".encode(), data)
    opening = b'&lt;a href="https://exemple.org/garde"&gt;' if tag == "a" else \
        f"&lt;{tag}&gt;".encode()
    return data.replace(f"&lt;{tag}&gt;&lt;/{tag}&gt;".encode(),
                        opening + f"gardé-{tag}&lt;/{tag}&gt;".encode())


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> Run:
    if ROOT is None:
        pytest.skip("INFOLETTRE_CORPORA is not set: feed corpus tests SKIPPED "
                    "(scripts/test and .ci/run set it)")
    i18n.activate("fr_CA")
    root = tmp_path_factory.mktemp("feeds")
    base = load_settings(SAMPLE_CONFIG)
    settings = dataclasses.replace(
        base, max_email_bytes=10**9,
        paths=dataclasses.replace(base.paths, contenu=root / "content", sortie=root / "build",
                                  boite_envoi=root / "outbox", donnees=root / "data",
                                  site=root / "site"))
    seconds: dict[str, float] = {}
    started = time.perf_counter()

    files = []
    for source in sources():
        parsed, took = _timed_parse(source)
        t0 = time.perf_counter()
        drafts = [entry_to_draft(e, FEED, settings, month="2026-12", fetched_at=FETCHED)
                  for e in parsed.entries]
        files.append(FileRun(source, parsed, took + time.perf_counter() - t0, drafts))
    seconds["parse+convert"] = time.perf_counter() - started

    t0 = time.perf_counter()
    written: dict[Path, tuple[FileRun, int]] = {}
    count = 0
    for run_ in files:
        for k, draft in enumerate(run_.drafts):
            month = f"{2000 + count // PER_MONTH // 12}-{count // PER_MONTH % 12 + 1:02d}"
            written[store.write_draft(settings, month, draft).resolve()] = (run_, k)
            count += 1
    seconds["write"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    load_errors = []
    for month in store.months(settings):
        items, problems = store.load_month(settings, month)
        load_errors += [str(p) for p in problems if p.severity is Severity.ERROR]
        for item in items:
            owner, _k = written[item.path.resolve()]
            owner.items.append(item)
    seconds["load"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    body_findings = []
    for run_ in files:
        for item in run_.items:
            for _offset, message in scan(markdown_to_html(item.corps), "html"):
                body_findings.append(f"{run_.source.path}: {message}")
    seconds["bodies"] = time.perf_counter() - t0

    # Render every item of the files where it matters (must-strip, must-preserve, encodings,
    # real snapshots) and one item of every other file, in batches.
    t0 = time.perf_counter()
    findings: list[str] = []
    todo: list[tuple[Item, str]] = []
    for run_ in files:
        s = run_.source
        every = s.sanitize_kind in ("must-strip", "must-preserve") or s.group == "rss-parser" \
            or s.category == "encoding"
        for item in run_.items if every else run_.items[:1]:
            todo.append((item, f"{s.group}/{s.path}"))
            run_.rendered = True
    for first in range(0, len(todo), BATCH):
        batch = todo[first:first + BATCH]
        _render_checked([i for i, _n in batch], [n for _i, n in batch], settings, findings)
    seconds["render"] = time.perf_counter() - t0

    # must-preserve, with text inside each element our allow-list permits
    t0 = time.perf_counter()
    outputs = []
    preserve_items = []
    for run_ in files:
        tag = _element(run_.source)
        if tag in PRESERVED:
            parsed = parse_feed(_fill(run_.source.file.read_bytes(), tag), run_.source.headers,
                                "https://corpus.example/")
            for e in parsed.entries:
                draft = entry_to_draft(e, FEED, settings, month="2026-12", fetched_at=FETCHED)
                path = store.write_draft(settings, "2030-01", draft)
                item, _problems = store.read_item(path, settings, "2030-01")
                preserve_items.append((item, tag))
    if preserve_items:
        outputs = [(name, text) for name, kind, text in _render_checked(
            [i for i, _t in preserve_items], [f"filled {t}" for _i, t in preserve_items],
            settings, findings) if kind == "html"]
    seconds["preserve"] = time.perf_counter() - t0

    # must-strip again, feedparser's sanitizer OFF: our own defences alone
    t0 = time.perf_counter()
    alone: list[str] = []
    todo = []
    real_parse = feedparser.parse

    def unsanitized(*args, **kwargs):
        return real_parse(*args, **{**kwargs, "sanitize_html": False})

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(feed_parse.feedparser, "parse", unsanitized)
        for run_ in files:
            if run_.source.sanitize_kind != "must-strip":
                continue
            parsed, _took = _timed_parse(run_.source)
            for e in parsed.entries:
                draft = entry_to_draft(e, FEED, settings, month="2026-12", fetched_at=FETCHED)
                path = store.write_draft(settings, "2031-01", draft)
                item, problems = store.read_item(path, settings, "2031-01")
                if item is None:
                    load_errors += [f"{run_.source.path} (unsanitized): {p}" for p in problems]
                    continue
                todo.append((item, f"{run_.source.path} (feedparser sanitizer off)"))
                for _offset, message in scan(markdown_to_html(item.corps), "html"):
                    body_findings.append(f"{run_.source.path} (sanitizer off): {message}")
    for first in range(0, len(todo), BATCH):
        batch = todo[first:first + BATCH]
        _render_checked([i for i, _n in batch], [n for _i, n in batch], settings, alone)
    findings += alone
    seconds["unsanitized"] = time.perf_counter() - t0
    unsanitized_items = len(todo)
    seconds["total"] = time.perf_counter() - started
    return Run(files, settings, load_errors, findings, body_findings, outputs, seconds,
               unsanitized_items)


def _element(source: Source) -> str | None:
    m = re.search(r"acceptable_element_([\w-]+)\.xml$", source.path)
    return m.group(1) if m and source.sanitize_kind == "must-preserve" else None


def _figures(run: Run) -> str:
    entries = sum(len(f.parsed.entries) for f in run.files)
    drafts = sum(len(f.drafts) for f in run.files)
    problems = sum(1 for f in run.files if f.parsed.problem)
    slowest = max(run.files, key=lambda f: f.seconds)
    return (f"{len(run.files)} files, {entries} entries, {drafts} drafts, "
            f"{sum(len(f.items) for f in run.files)} items loaded, {problems} clear problems, "
            f"{sum(1 for f in run.files if f.rendered)} files rendered, "
            f"{run.unsanitized_items} must-strip entries rendered with feedparser's sanitizer "
            f"off; slowest "
            f"{slowest.source.path} {slowest.seconds:.3f} s; "
            + ", ".join(f"{k} {v:.1f} s" for k, v in run.seconds.items()))


# --- the tests -------------------------------------------------------------------------

def test_every_file_gives_entries_or_a_clear_problem(run):
    print("\n" + _figures(run))
    assert len(run.files) >= 1700, len(run.files)
    silent = [f.source.path for f in run.files
              if not f.parsed.entries and not f.parsed.problem and f.parsed.version == ""]
    assert not silent, f"no entries, no problem, not a feed: {silent[:20]}"
    for f in run.files:
        if f.parsed.problem:
            assert not f.parsed.entries
            assert len(f.parsed.problem) > 20 and f.parsed.problem[0].islower(), f.parsed.problem
    # most feedparser files test one element: feed-level ones have no entry, and an entry
    # with neither title, link nor text is dropped (nothing to show): about 530 in all
    assert sum(len(f.parsed.entries) for f in run.files) >= 500


def test_time_per_file_and_total(run):
    slowest = max(run.files, key=lambda f: f.seconds)
    assert slowest.seconds < SLOWEST_FILE_S, (slowest.source.path, slowest.seconds)
    assert run.seconds["total"] < TOTAL_BUDGET_S, _figures(run)


def test_every_draft_is_a_valid_item(run):
    assert not run.load_errors, run.load_errors[:20]
    lost = [(f.source.path, len(f.drafts), len(f.items)) for f in run.files
            if len(f.items) != len(f.drafts)]
    assert not lost, lost[:20]


def test_entries_are_clean_values(run):
    bad = []
    for f in run.files:
        for e in f.parsed.entries:
            # (« History of the <blink> tag » is a fine plain-text title: templates escape it)
            if not e.titre or "\n" in e.titre or len(e.titre) > 205:
                bad.append((f.source.path, "titre", e.titre[:80]))
            if e.lien is not None and not re.match(r"^https?://", e.lien):
                bad.append((f.source.path, "lien", e.lien))
            if e.image_url is not None and not re.match(r"^https?://", e.image_url):
                bad.append((f.source.path, "image", e.image_url))
            if e.publie is not None and e.publie.tzinfo is None:
                bad.append((f.source.path, "publie", e.publie))
    assert not bad, bad[:20]


def test_bodies_render_safely(run):
    """Every body's own HTML (what templates receive) is free of dangers, for every file."""
    assert not run.body_findings, "\n".join(run.body_findings[:40])


def test_rendered_outputs_are_safe(run):
    """must-strip files (all their entries), snapshots, encodings and one entry of every other
    file: nothing dangerous in any edition's HTML and text part nor in the print version."""
    rendered = [f for f in run.files if f.rendered]
    strip = [f for f in run.files if f.source.sanitize_kind == "must-strip"]
    assert len(strip) >= 200
    assert all(f.rendered for f in strip if f.items)
    assert all(f.rendered for f in run.files if f.items)
    assert len(rendered) >= 450  # every file with an entry (about 500)
    # 216 files; feed-level ones have no entry, and an entry left with nothing once its
    # dangerous content is removed (no title, link or text) is dropped: 67 here
    assert run.unsanitized_items >= 60, run.unsanitized_items
    assert not run.findings, f"{len(run.findings)} finding(s):\n" + "\n".join(run.findings[:40])


def test_must_preserve_elements_feedparser_keeps(run):
    """feedparser's own sanitizer keeps the allowed elements (what our checks rely on)."""
    for f in run.files:
        tag = _element(f.source)
        if tag in PRESERVED:
            raw = feedparser.parse(io.BytesIO(f.source.file.read_bytes()))
            value = raw.entries[0].get("description", "")
            assert f"<{tag}" in value, (f.source.path, value)


@pytest.mark.parametrize("tag", sorted(PRESERVED))
def test_must_preserve_element_survives_render(run, tag):
    """With text inside, each allowed element reaches every rendered edition's HTML."""
    files = [f for f in run.files if _element(f.source) == tag]
    assert files, f"no must-preserve file for <{tag}>"
    pattern = re.compile(PRESERVED[tag])
    missing = [name for name, text in run.outputs if not pattern.search(text)]
    assert run.outputs and not missing, (tag, missing)


def test_real_snapshots_have_title_link_and_date(run):
    snapshots = [f for f in run.files if f.source.group == "rss-parser"]
    assert len(snapshots) >= 40
    lacking = {}
    for f in snapshots:
        if f.parsed.problem:
            lacking[f.source.path] = f"problem: {f.parsed.problem}"
            continue
        if not f.parsed.entries:
            lacking[f.source.path] = "no entries"
            continue
        missing = sorted({what for e in f.parsed.entries for what, ok in
                          (("title", e.titre != UNTITLED), ("link", e.lien is not None),
                           ("date", e.publie is not None)) if not ok})
        if missing:
            lacking[f.source.path] = "missing " + ", ".join(missing)
    unexpected = {k: v for k, v in lacking.items() if k not in SNAPSHOT_EXCEPTIONS}
    assert not unexpected, unexpected
    stale = set(SNAPSHOT_EXCEPTIONS) - set(lacking)
    assert not stale, f"listed as exceptions but fine now: {stale}"


def test_no_mojibake_in_encoding_files(run):
    bad = []
    for f in run.files:
        if f.source.category != "encoding" or f.source.path in BROKEN_ON_PURPOSE:
            continue
        texts = [f.parsed.titre] + [t for e in f.parsed.entries for t in (e.titre, e.corps)]
        for text in texts:
            for needle in MOJIBAKE:
                if needle in text:
                    bad.append((f.source.path, needle, text[:60]))
    assert not bad, bad


@pytest.mark.parametrize("path", sorted(EXPECTED_TEXT))
def test_encoding_expected_text(run, path):
    [f] = [f for f in run.files if f.source.path == path]
    where, expected = EXPECTED_TEXT[path]
    if where == "feed":
        assert f.parsed.titre == expected
    else:
        assert f.parsed.entries, f.parsed
        assert f.parsed.entries[0].corps == expected, f.parsed.entries[0]
