"""What feedparser's sanitizer and link resolution used to do, now that they are off.

``parse_feed`` calls feedparser with ``sanitize_html=False, resolve_relative_uris=False``:
relative links inside bodies must still resolve against the feed (or its ``xml:base``), and
nothing feedparser's pass used to remove may reach a body, a title or a rendered page.
"""

from __future__ import annotations

import pytest

from infolettre.gather.feeds import markup
from infolettre.gather.feeds.markup import absolute_href, entry_markdown
from infolettre.gather.feeds.parse import parse_feed
from infolettre.render.markdown import markdown_to_html

from .safety import find_dangers
from .test_feeds_parse import URL, one

ATOM = {"content-type": "application/atom+xml"}


def atom(entry: str, *, feed_base: str = "") -> bytes:
    base = f' xml:base="{feed_base}"' if feed_base else ""
    return (f'<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom"'
            f'{base}><title>N</title>{entry}</feed>').encode()


# --- relative links inside bodies --------------------------------------------------------

def test_relative_link_in_an_rss_body_resolves_against_the_feed_url():
    e = one("<item><title>T</title><guid>1</guid><description>&lt;p&gt;Voir "
            "&lt;a href=\"../plan.pdf\"&gt;le plan&lt;/a&gt; et &lt;a href='/contact'&gt;"
            "nous joindre&lt;/a&gt;.&lt;/p&gt;</description></item>")
    assert "[le plan](https://exemple.org/plan.pdf)" in e.corps
    assert "[nous joindre](https://exemple.org/contact)" in e.corps


def test_protocol_relative_and_query_links_resolve():
    e = one("<item><title>T</title><guid>1</guid><description><![CDATA["
            "<a href=\"//autre.example/p?a=1&amp;b=2\">ailleurs</a> "
            "<a href=\"?page=2\">suite</a>]]></description></item>")
    assert "[ailleurs](https://autre.example/p?a=1&b=2)" in e.corps
    assert "[suite](https://exemple.org/blogue/flux.xml?page=2)" in e.corps


def test_content_resolves_against_its_own_xml_base():
    body = atom('<entry xml:base="2026/"><title>T</title><id>1</id>'
                '<content type="html" xml:base="billets/">&lt;a href="x.html"&gt;x&lt;/a&gt;'
                '</content></entry>', feed_base="https://exemple.org/nouvelles/")
    [e] = parse_feed(body, ATOM, URL).entries
    assert "[x](https://exemple.org/nouvelles/2026/billets/x.html)" in e.corps


def test_summary_resolves_against_the_entry_base():
    body = atom('<entry xml:base="https://autre.example/dossier/"><title>T</title><id>1</id>'
                '<summary type="html">&lt;a href="../page"&gt;p&lt;/a&gt;</summary></entry>')
    [e] = parse_feed(body, ATOM, URL).entries
    assert "[p](https://autre.example/page)" in e.corps


def test_a_javascript_base_does_not_make_links_dangerous():
    body = atom('<entry xml:base="javascript:alert(1)//"><title>T</title><id>1</id>'
                '<summary type="html">&lt;a href="x"&gt;lien&lt;/a&gt;</summary></entry>')
    [e] = parse_feed(body, ATOM, URL).entries
    assert "javascript" not in e.corps and "alert" not in e.corps
    assert "lien" in e.corps


# --- what feedparser's sanitizer used to catch --------------------------------------------

@pytest.mark.parametrize("href", [
    "javascript:alert(1)", "JaVaScRiPt:alert(1)", " javascript:alert(1)",
    "java&#x09;script:alert(1)", "java\tscript:alert(1)", "&#106;avascript:alert(1)",
    "javascript&colon;alert(1)", "vbscript:msgbox(1)", "data:text/html;base64,PHNjcmlwdD4=",
    "file:///etc/passwd"])
def test_dangerous_hrefs_are_dropped_text_kept(href):
    e = one("<item><title>T</title><guid>1</guid><description><![CDATA["
            f"<a href=\"{href}\">clic</a> <a href=\"https://bon.example/\">bon</a>]]>"
            "</description></item>")
    lowered = e.corps.lower()
    assert "script" not in lowered and "data:" not in lowered and "file:" not in lowered
    assert "clic" in e.corps and "[bon](https://bon.example/)" in e.corps


def test_raw_text_elements_are_removed_with_their_inside():
    """HTML reads these as raw text: left in, their markup would show as literal text."""
    e = one("<item><title>T</title><guid>1</guid><description><![CDATA[<p>avant</p>"
            "<iframe src=\"https://mal.example\"><b>cadre</b></iframe>"
            "<noscript><img src=x onerror=alert(1)>sans-script</noscript>"
            "<textarea><script>alert(2)</script></textarea><noembed><i>x</i></noembed>"
            "<noframes><a href=x>y</a></noframes><xmp><u>xmp</u></xmp>"
            "<template><p>gabarit</p></template><style>p{color:red}</style>"
            "<script>alert(3)</script><p>après</p>]]></description></item>")
    assert e.corps == "avant\n\naprès", e.corps


def test_object_fallback_text_stays():
    e = one("<item><title>T</title><guid>1</guid><description>safe&lt;object classid=\"c\"&gt;"
            " description&lt;embed src=\"x.swf\"&gt;</description></item>")
    assert e.corps == "safe description"


@pytest.mark.parametrize("payload", [
    "<img src=x onerror=alert(1)>", "<svg><script>alert(1)</script></svg>",
    "<svg onload=alert(1)>", "<math><mtext><script>alert(1)</script></mtext></math>",
    "<p style=\"background:url(javascript:alert(1))\">style</p>",
    "<div onmouseover=\"alert(1)\">survol</div>", "<!--<script>alert(1)</script>-->",
    "<base href=\"javascript:alert(1)//\">",
    "<meta http-equiv=\"refresh\" content=\"0;url=javascript:alert(1)\">",
    "<link rel=\"stylesheet\" href=\"https://mal.example/x.css\">",
    "<form action=\"https://mal.example\"><input name=q><button>go</button></form>",
    "<object data=\"data:text/html,<script>alert(1)</script>\"></object>",
    "<embed src=\"javascript:alert(1)\">", "<a href=\"x\" onclick=\"alert(1)\">x</a>",
    "<img src=\"data:image/svg+xml;base64,PHN2Zz4=\">", "<video src=x onerror=alert(1)>",
])
def test_hostile_markup_never_reaches_the_body_or_the_page(payload):
    data = payload.replace("]]>", "]]]]><![CDATA[>")
    e = one(f"<item><title>T</title><guid>1</guid><description><![CDATA[<p>ok</p>{data}]]>"
            "</description></item>")
    lowered = e.corps.lower()
    for needle in ("alert(", "javascript", "onerror", "onload", "onclick", "onmouseover",
                   "data:", "<svg", "<script", "style=", "mal.example"):
        assert needle not in lowered, (needle, e.corps)
    assert not find_dangers(markdown_to_html(e.corps), "html")


def test_cdata_inside_html_reads_as_a_browser_reads_it():
    """« <![CDATA[ » in HTML opens a bogus comment that ends at the first « > »: what follows
    is text for a browser, and for us (inert, escaped), never an element."""
    e = one("<item><title>T</title><guid>1</guid><description><![CDATA[<p>ok</p>"
            "<![CDATA[<script>alert(1)</script>]]]]><![CDATA[>]]></description></item>")
    assert e.corps == "ok\n\nalert(1)\\]\\]>"
    html = markdown_to_html(e.corps)
    assert "<script" not in html and not find_dangers(html, "html")


def test_title_keeps_no_raw_text_element_inside():
    e = one("<item><title>&lt;iframe&gt;&lt;b&gt;cadre&lt;/b&gt;&lt;/iframe&gt;Souper "
            "&lt;script&gt;alert(1)&lt;/script&gt;&lt;noscript&gt;x&lt;/noscript&gt;communautaire"
            "</title><guid>1</guid></item>")
    assert e.titre == "Souper communautaire"


# --- the helpers --------------------------------------------------------------------------

@pytest.mark.parametrize(("href", "expected"), [
    ("https://a.example/x", "https://a.example/x"),
    ("  HTTP://A.example/x ", "HTTP://A.example/x"),
    ("mailto:info@exemple.org", "mailto:info@exemple.org"),
    ("../b", "https://exemple.org/b"),
    ("//c.example/", "https://c.example/"),
    ("javascript:alert(1)", None),
    ("java\nscript:alert(1)", None),
    ("data:text/html,x", None),
    ("//[", None),
    ("ftp://exemple.org/f", None),
])
def test_absolute_href(href, expected):
    assert absolute_href(href, "https://exemple.org/a/") == expected


def test_values_without_anything_to_resolve_skip_the_first_pass(monkeypatch):
    """The extra nh3 pass runs only when needed (it is ~45 µs a value); the result is the
    same either way."""
    calls = []
    real = markup.nh3.clean

    def counted(*args, **kwargs):
        if "attribute_filter" in kwargs:  # (html_to_markdown's own pass is not counted)
            calls.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(markup.nh3, "clean", counted)
    plain = '<p>Un <a href="https://exemple.org/x">lien</a> et <b>du gras</b>.</p>'
    assert entry_markdown(plain, URL) == "Un [lien](https://exemple.org/x) et **du gras**."
    assert calls == []
    assert entry_markdown(plain.replace("https://exemple.org/x", "x"), URL) == \
        "Un [lien](https://exemple.org/blogue/x) et **du gras**."
    assert len(calls) == 1


# --- feedparser's base-URI joins, remembered ------------------------------------------------

def test_base_joins_are_remembered_and_answer_the_same():
    import feedparser.mixin

    from infolettre.gather.feeds.baseuri import remember_base_joins

    assert remember_base_joins()
    memo = feedparser.mixin.make_safe_absolute_uri
    original = memo.__wrapped__
    for base, rel in [("https://exemple.org/a/", "https://exemple.org/a/"), ("", "b/"),
                      ("https://exemple.org/a/", "../c/"), ("https://exemple.org/", None),
                      ("https://exemple.org/", "javascript:alert(1)//"),
                      ("javascript:x", "https://exemple.org/"), ("https://exemple.org/", "//[")]:
        assert memo(base, rel) == original(base, rel), (base, rel)
    before = memo.cache_info().hits
    parse_feed(atom("<entry><title>T</title><id>1</id></entry>",
                    feed_base="https://exemple.org/"), ATOM, URL)
    assert memo.cache_info().hits > before
    assert remember_base_joins() and feedparser.mixin.make_safe_absolute_uri is memo  # once


def test_without_the_feedparser_function_nothing_is_installed(monkeypatch):
    import feedparser.mixin

    from infolettre.gather.feeds.baseuri import remember_base_joins

    monkeypatch.delattr(feedparser.mixin, "make_safe_absolute_uri")
    assert remember_base_joins() is False
    assert not hasattr(feedparser.mixin, "make_safe_absolute_uri")
