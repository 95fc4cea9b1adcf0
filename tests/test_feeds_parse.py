"""Feed bytes → entries (parse) and entries → item drafts (convert), on small inline feeds."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime

import pytest

from infolettre import content as store
from infolettre.gather.feeds.convert import entry_to_draft, with_image
from infolettre.gather.feeds.model import FeedEntry
from infolettre.gather.feeds.parse import MAX_BODY, MORE, parse_feed
from infolettre.render.markdown import markdown_to_html
from infolettre.settings import FeedSource

from .safety import find_dangers

URL = "https://exemple.org/blogue/flux.xml"
XML = {"content-type": "application/rss+xml; charset=utf-8"}
MONTH = "2026-12"
FETCHED = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)


def rss(items: str, *, encoding: str = "utf-8", extra_ns: str = "") -> bytes:
    head = f'<?xml version="1.0" encoding="{encoding}"?>\n'
    body = (f'<rss version="2.0" xmlns:media="http://search.yahoo.com/mrss/" '
            f'xmlns:content="http://purl.org/rss/1.0/modules/content/" '
            f'xmlns:ev="http://purl.org/rss/1.0/modules/event/" {extra_ns}>'
            f"<channel><title>Blogue de la CDC</title><link>https://exemple.org/</link>"
            f"{items}</channel></rss>")
    return (head + body).encode(encoding)


def one(items: str, headers=XML, **kw) -> FeedEntry:
    parsed = parse_feed(rss(items, **kw), headers, URL)
    assert not parsed.problem, parsed.problem
    assert len(parsed.entries) == 1, parsed
    return parsed.entries[0]


# --- parse: formats and problems ------------------------------------------------------

def test_rss20_entry():
    parsed = parse_feed(rss(
        "<item><title>Frigo communautaire</title><link>https://exemple.org/frigo</link>"
        "<guid>https://exemple.org/?p=12</guid>"
        "<pubDate>Thu, 05 Nov 2026 14:30:00 -0500</pubDate>"
        "<description>&lt;p&gt;Un &lt;strong&gt;frigo&lt;/strong&gt; ouvert à tous.&lt;/p&gt;"
        "</description></item>"), XML, URL)
    assert parsed.version == "rss20" and not parsed.problem and not parsed.warnings
    assert parsed.titre == "Blogue de la CDC"
    [e] = parsed.entries
    assert e.titre == "Frigo communautaire"
    assert e.lien == "https://exemple.org/frigo"
    assert e.key == "guid:https://exemple.org/?p=12"
    assert e.publie == datetime(2026, 11, 5, 19, 30, tzinfo=UTC)
    assert e.corps == "Un **frigo** ouvert à tous."


def test_atom_relative_links_and_xml_base():
    atom = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:base="https://exemple.org/nouvelles/">
  <title>Nouvelles</title>
  <entry xml:base="2026/">
    <title type="html">Portes &lt;em&gt;ouvertes&lt;/em&gt;</title>
    <id>tag:exemple.org,2026:1</id>
    <link rel="alternate" href="portes-ouvertes.html"/>
    <updated>2026-11-10T12:00:00Z</updated>
    <content type="html">&lt;p&gt;Voir &lt;a href="../plan.pdf"&gt;le plan&lt;/a&gt;.&lt;/p&gt;
    </content>
  </entry>
  <entry>
    <title>Sans base</title>
    <link href="/racine"/>
    <updated>2026-11-09T12:00:00Z</updated>
  </entry>
</feed>"""
    parsed = parse_feed(atom, {"content-type": "application/atom+xml"}, URL)
    assert parsed.version == "atom10" and not parsed.problem
    first, second = parsed.entries
    assert first.titre == "Portes ouvertes"
    assert first.lien == "https://exemple.org/nouvelles/2026/portes-ouvertes.html"
    assert first.key == "guid:tag:exemple.org,2026:1"
    assert "(https://exemple.org/nouvelles/plan.pdf)" in first.corps
    assert first.publie == datetime(2026, 11, 10, 12, 0, tzinfo=UTC)
    assert second.lien == "https://exemple.org/racine"


def test_relative_link_without_base_resolves_against_the_feed_url():
    e = one("<item><title>T</title><link>../frigo.html</link></item>")
    assert e.lien == "https://exemple.org/frigo.html"


def test_html_page_is_a_problem():
    page = b"<!doctype html><html><head><title>Accueil</title></head><body><p>Bienvenue</p>" \
           b"</body></html>"
    parsed = parse_feed(page, {"content-type": "text/html; charset=utf-8"}, URL)
    assert parsed.problem.startswith("ce n'est pas un flux RSS ou Atom (page HTML ?)")
    assert parsed.entries == []


def test_garbage_is_a_problem():
    parsed = parse_feed(b"\x00\x01\xff\xfe garbage \x89PNG", {}, URL)
    assert parsed.problem.startswith("flux mal formé")
    assert parsed.entries == []


def test_empty_body_is_a_problem():
    assert parse_feed(b"", {}, URL).problem


def test_entries_with_nothing_to_show_are_dropped_and_said():
    """No title, no link, no text (a guid alone, or only a script once cleaned): nothing
    for the pivot to read; the others are kept and the feed says how many were dropped."""
    empty = "<item><guid isPermaLink=\"false\">x-1</guid></item>"
    scripted = "<item><description>&lt;script&gt;alert(1)&lt;/script&gt;</description></item>"
    kept = "<item><title>Soupe populaire</title><link>https://exemple.org/soupe</link></item>"
    parsed = parse_feed(rss(empty + scripted + kept), XML, URL)
    assert not parsed.problem
    assert [e.titre for e in parsed.entries] == ["Soupe populaire"]
    assert any("2 entrée(s) vide(s)" in w for w in parsed.warnings), parsed.warnings
    only_empty = parse_feed(rss(empty + scripted), XML, URL)
    assert only_empty.entries == []
    assert only_empty.problem.startswith("aucune entrée utilisable"), only_empty.problem


def test_markup_alone_is_neither_a_title_nor_a_text(sample_settings):
    """« <hr> » becomes « --- » in Markdown: neither a title nor a text. Without a link such
    an entry is empty (dropped, and said); with one, it is « Sans titre », never « --- »,
    so it waits for the pivot (a feed in « auto » trust cannot approve it); a real text
    still gives the title."""
    rule = "<item><link>https://exemple.org/a</link><description>&lt;hr&gt;</description></item>"
    dashes = ("<item><title>---</title><guid isPermaLink='false'>b</guid>"
              "<description>&lt;hr/&gt; * * *</description></item>")
    text = ("<item><title> - </title><guid isPermaLink='false'>d</guid><description>&lt;hr&gt;"
            "&lt;p&gt;Portes ouvertes au jardin&lt;/p&gt;</description></item>")
    parsed = parse_feed(rss(rule + dashes + text), XML, URL)
    assert not parsed.problem
    assert [(e.titre, e.corps) for e in parsed.entries] == [
        ("Sans titre", ""), ("Portes ouvertes au jardin", "---\n\nPortes ouvertes au jardin")]
    assert any("1 entrée(s) vide(s)" in w for w in parsed.warnings), parsed.warnings
    draft = entry_to_draft(parsed.entries[0], AUTO, sample_settings, month=MONTH,
                           fetched_at=FETCHED)
    assert draft.front_matter["statut"] == "soumis"


def test_json_feed_is_a_clear_problem():
    body = b'{"version": "https://jsonfeed.org/version/1.1", "items": []}'
    parsed = parse_feed(body, {"content-type": "application/feed+json"}, URL)
    assert "JSON" in parsed.problem


def test_ill_formed_xml_with_entries_gives_entries_and_a_warning():
    body = ('<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>T</title>'
            "<item><title>Premier &amp; dernier</title><link>https://exemple.org/1</link>"
            "<description>Texte &nbsp; avec <b>une balise non fermée</description></item>"
            "<item><title>Deuxième</title><link>https://exemple.org/2</link></item>"
            "</channel>").encode()  # no </rss>, an undefined entity, an unclosed tag
    parsed = parse_feed(body, XML, URL)
    assert not parsed.problem
    assert [e.titre for e in parsed.entries] == ["Premier & dernier", "Deuxième"]
    assert parsed.warnings and "mal formé" in parsed.warnings[0]


def test_ill_formed_without_entries_is_a_problem():
    parsed = parse_feed(b"<rss><channel><title>oups</chan", XML, URL)
    assert parsed.problem


def test_never_raises(monkeypatch):
    from infolettre.gather.feeds import parse

    def boom(*_a, **_k):
        raise MemoryError("too big")

    monkeypatch.setattr(parse.feedparser, "parse", boom)
    assert "MemoryError" in parse_feed(rss(""), XML, URL).problem


def test_entries_are_capped():
    items = "".join(f"<item><title>n{i}</title><guid>g{i}</guid></item>" for i in range(520))
    parsed = parse_feed(rss(items), XML, URL)
    assert len(parsed.entries) == 500
    assert any("500" in w for w in parsed.warnings)


# --- parse: encodings ----------------------------------------------------------------

@pytest.mark.parametrize("encoding", ["iso-8859-1", "windows-1252"])
def test_declared_single_byte_encoding(encoding):
    e = one("<item><title>Fête de l'été à Montmagny</title><guid>1</guid>"
            "<description>Événement « gratuit » : café offert.</description></item>",
            headers={"content-type": "application/rss+xml"}, encoding=encoding)
    assert e.titre == "Fête de l'été à Montmagny"
    assert "Événement « gratuit » : café offert." in e.corps


def test_windows_1252_quotes_and_dashes():
    items = "<item><title>L’été — “enfin”</title><guid>1</guid></item>"
    e = one(items, headers={"content-type": "text/xml; charset=windows-1252"},
            encoding="windows-1252")
    assert e.titre == "L’été — “enfin”"


def test_http_charset_wins_and_no_mojibake():
    body = rss("<item><title>Été</title><guid>1</guid></item>", encoding="utf-8")
    parsed = parse_feed(body, {"content-type": "application/xml; charset=utf-8"}, URL)
    assert parsed.entries[0].titre == "Été"
    for bad in ("Ã©", "â€", "\ufffd"):
        assert bad not in parsed.entries[0].titre


def test_wrong_declared_charset_is_a_warning():
    body = rss("<item><title>Été</title><guid>1</guid></item>").replace(
        b'encoding="utf-8"', b'encoding="us-ascii"')
    parsed = parse_feed(body, {"content-type": "text/xml; charset=us-ascii"}, URL)
    assert parsed.entries  # read anyway
    assert parsed.warnings


# --- parse: sanitizing and text -------------------------------------------------------

def test_hostile_cdata_is_removed_from_the_body():
    e = one("<item><title>T</title><guid>1</guid><description><![CDATA["
            "<p>Bonjour <script>alert(1)</script><img src=x onerror=alert(2)>"
            "<iframe src='https://mal.example'></iframe>"
            "<a href='javascript:alert(3)'>clic</a> <a href=\"JaVaScRiPt:alert(4)\">deux</a>"
            "<a href='https://bon.example/x'>bon</a></p>"
            "<svg onload=alert(5)></svg><form><input></form><style>p{}</style>]]>"
            "</description></item>")
    body = e.corps
    lowered = body.lower()
    for needle in ("script", "onerror", "iframe", "javascript", "alert(", "onload", "<svg",
                   "<form", "<input", "<style"):
        assert needle not in lowered, (needle, body)
    assert "[bon](https://bon.example/x)" in body
    rendered = markdown_to_html(body)
    assert not find_dangers(rendered, "html")


def test_title_with_tags_and_entities_is_plain():
    e = one("<item><title>&lt;b&gt;Souper&lt;/b&gt; &amp;amp; danse&lt;script&gt;x()"
            "&lt;/script&gt; &#233;t&#xE9;  \n  2026</title><guid>1</guid></item>")
    assert e.titre == "Souper & danse été 2026"


def test_long_title_is_cut():
    e = one(f"<item><title>{'mot ' * 100}</title><guid>1</guid></item>")
    assert len(e.titre) <= 200 and e.titre.endswith("…")


def test_empty_title_takes_the_first_words_of_the_body():
    e = one("<item><guid>1</guid><description>Une &lt;b&gt;belle&lt;/b&gt; journée pour "
            "inaugurer le jardin collectif du quartier Saint-Roch avec les "
            "familles.</description></item>")
    assert e.titre.startswith("Une belle journée pour inaugurer")
    assert e.titre.endswith("…")


def test_no_title_no_body():
    assert one("<item><guid>1</guid></item>").titre == "Sans titre"


def test_keys_guid_link_hash():
    assert one("<item><title>a</title><guid isPermaLink='false'>abc-1</guid>"
               "<link>https://exemple.org/a</link></item>").key == "guid:abc-1"
    assert one("<item><title>a</title><link>https://exemple.org/a</link></item>").key \
        == "lien:https://exemple.org/a"
    hashed = one("<item><title>a</title><pubDate>Thu, 05 Nov 2026 14:30:00 GMT</pubDate>"
                 "</item>")
    assert hashed.key.startswith("hash:") and len(hashed.key) == 5 + 64
    other = one("<item><title>b</title><pubDate>Thu, 05 Nov 2026 14:30:00 GMT</pubDate>"
                "</item>")
    assert other.key != hashed.key


def test_published_before_updated():
    atom = b"""<feed xmlns="http://www.w3.org/2005/Atom"><title>t</title>
<entry><title>a</title><id>1</id><published>2026-11-01T10:00:00-04:00</published>
<updated>2026-11-15T10:00:00Z</updated></entry>
<entry><title>b</title><id>2</id><updated>2026-11-15T10:00:00Z</updated></entry>
<entry><title>c</title><id>3</id></entry></feed>"""
    a, b, c = parse_feed(atom, {"content-type": "application/atom+xml"}, URL).entries
    assert a.publie == datetime(2026, 11, 1, 14, 0, tzinfo=UTC)
    assert b.publie == datetime(2026, 11, 15, 10, 0, tzinfo=UTC)
    assert c.publie is None


def test_impossible_date_is_none():
    e = one("<item><title>a</title><guid>1</guid><pubDate>Mon, 31 Feb 2026 99:99:00 GMT"
            "</pubDate></item>")
    assert e.publie is None


def test_non_http_link_is_dropped():
    e = one("<item><title>a</title><guid>1</guid><link>javascript:alert(1)</link></item>")
    assert e.lien is None
    e = one("<item><title>a</title><guid>1</guid><link>ftp://exemple.org/x</link></item>")
    assert e.lien is None


def test_media_content_image_and_description():
    e = one("<item><title>a</title><guid>1</guid><description>Le texte.</description>"
            "<media:content url='/photos/frigo.jpg' medium='image' type='image/jpeg'>"
            "<media:description>Un frigo rempli de légumes</media:description>"
            "</media:content></item>")
    assert e.image_url == "https://exemple.org/photos/frigo.jpg"
    assert e.image_alt == "Un frigo rempli de légumes"
    assert e.corps == "Le texte."


def test_media_thumbnail_image():
    e = one("<item><title>a</title><guid>1</guid><description>x</description>"
            "<media:thumbnail url='https://cdn.exemple.org/t.png'/></item>")
    assert e.image_url == "https://cdn.exemple.org/t.png"
    assert e.image_alt is None


def test_enclosure_image_first():
    e = one("<item><title>a</title><guid>1</guid>"
            "<enclosure url='https://exemple.org/balado.mp3' type='audio/mpeg' length='1'/>"
            "<enclosure url='https://exemple.org/affiche.png' type='image/png' length='1'/>"
            "</item>")
    assert e.image_url == "https://exemple.org/affiche.png"
    assert e.image_alt is None


def test_non_http_image_is_dropped():
    e = one("<item><title>a</title><guid>1</guid>"
            "<enclosure url='data:image/png;base64,AAAA' type='image/png' length='1'/></item>")
    assert e.image_url is None


def test_text_plain_content_is_escaped():
    atom = b"""<feed xmlns="http://www.w3.org/2005/Atom"><title>t</title>
<entry><title>a</title><id>1</id>
<content type="text">5 * 3 = 15 et &lt;b&gt;pas gras&lt;/b&gt; &amp;amp; [lien](https://x.example)
# pas un titre</content></entry></feed>"""
    [e] = parse_feed(atom, {"content-type": "application/atom+xml"}, URL).entries
    rendered = markdown_to_html(e.corps)
    assert "5 * 3 = 15" in rendered
    assert "&lt;b&gt;pas gras&lt;/b&gt;" in rendered
    assert "&amp;amp;" in rendered
    assert "<a " not in rendered and "<h" not in rendered and "<strong>" not in rendered


def test_template_syntax_stays_literal():
    e = one("<item><title>Calcul {{ 7*7 }} {% raw %}</title><guid>1</guid>"
            "<description>&lt;p&gt;Valeur {{ 7*7 }} et {% for x in y %}&lt;/p&gt;"
            "</description></item>")
    assert e.titre == "Calcul {{ 7*7 }} {% raw %}"
    rendered = markdown_to_html(e.corps)
    assert "{{ 7*7 }}" in rendered and "{% for x in y %}" in rendered
    assert "49" not in rendered


def test_content_longer_than_summary_wins():
    e = one("<item><title>a</title><guid>1</guid><description>Court.</description>"
            "<content:encoded><![CDATA[<p>Le texte complet, bien plus long que le "
            "résumé.</p>]]></content:encoded></item>")
    assert e.corps == "Le texte complet, bien plus long que le résumé."


def test_long_body_is_cut_with_a_link():
    paragraphs = "".join(f"<p>Paragraphe {n} : {'bla ' * 60}</p>" for n in range(40))
    e = one(f"<item><title>a</title><guid>1</guid><link>https://exemple.org/long</link>"
            f"<description><![CDATA[{paragraphs}]]></description></item>")
    assert len(e.corps) < MAX_BODY + 200
    assert e.corps.endswith(f"[{MORE}](https://exemple.org/long)")
    assert "Paragraphe 0" in e.corps and "Paragraphe 39" not in e.corps
    body_paragraphs = e.corps.split("\n\n")[:-1]
    assert all(p.startswith("Paragraphe ") and p.endswith("bla") for p in body_paragraphs)


def test_wordpress_footer_is_removed():
    e = one("<item><title>a</title><guid>1</guid><description><![CDATA[<p>Le vrai texte.</p>"
            "<p>The post <a href='https://exemple.org/a'>Titre</a> appeared first on "
            "<a href='https://exemple.org'>CDC</a>.</p>]]></description></item>")
    assert e.corps == "Le vrai texte."
    e = one("<item><title>a</title><guid>1</guid><description><![CDATA[<p>Texte.</p>"
            "<p>Cet article <a href='https://exemple.org/a'>Titre</a> est apparu en premier "
            "sur <a href='https://exemple.org'>CDC</a>.</p>]]></description></item>")
    assert e.corps == "Texte."


def test_event_module():
    e = one("<item><title>Souper</title><guid>1</guid>"
            "<ev:startdate>2026-12-05T18:00:00-05:00</ev:startdate>"
            "<ev:enddate>2026-12-05T21:00</ev:enddate>"
            "<ev:location>Salle &amp; paroisse</ev:location></item>")
    assert e.debut == datetime(2026, 12, 5, 23, 0, tzinfo=UTC)
    assert e.fin.astimezone(UTC) == datetime(2026, 12, 6, 2, 0, tzinfo=UTC)
    assert e.lieu == "Salle & paroisse"


# --- convert ---------------------------------------------------------------------------

REVUE = FeedSource(url="https://exemple.org/flux", nom="Table de test", territoire="regional",
                   rubrique="nouvelles")
AUTO = FeedSource(url="https://cdc-bellechasse.example/feed", nom="Blogue de la CDC",
                  territoire="bellechasse", rubrique="nouvelles", confiance="auto",
                  organisme="CDC de Bellechasse")


def entry(**kw) -> FeedEntry:
    values = {"key": "guid:1", "titre": "Frigo communautaire",
              "lien": "https://exemple.org/frigo",
              "publie": datetime(2026, 11, 5, 15, 0, tzinfo=UTC), "corps": "Un **frigo** ouvert."}
    values.update(kw)
    return FeedEntry(**values)


def notes_of(draft) -> list[str]:
    return [getattr(draft, "origin", ""), *draft.notes]


def test_draft_from_a_revue_feed(sample_settings):
    d = entry_to_draft(entry(), REVUE, sample_settings, month=MONTH, fetched_at=FETCHED)
    assert d.front_matter == {
        "titre": "Frigo communautaire", "organisme": "Table de test", "territoire": "regional",
        "rubrique": "nouvelles", "date": date(2026, 11, 5), "lien": "https://exemple.org/frigo",
        "statut": "soumis", "source": "rss", "flux": "Table de test"}
    assert d.slug == "frigo-communautaire"
    assert d.message_id is None and d.sender == "Table de test"
    assert d.corps == "Un **frigo** ouvert."
    assert d.attachments == []
    import hashlib
    assert d.digest == hashlib.sha256(b"https://exemple.org/fluxguid:1").hexdigest()
    assert any("Reçu du flux « Table de test » (https://exemple.org/flux), entrée publiée le "
               "jeudi 5 novembre 2026." in n for n in notes_of(d))


def test_draft_from_an_auto_feed_is_approved(sample_settings):
    d = entry_to_draft(entry(), AUTO, sample_settings, month=MONTH, fetched_at=FETCHED)
    assert d.front_matter["statut"] == "approuve"
    assert d.front_matter["organisme"] == "CDC de Bellechasse"
    assert d.front_matter["flux"] == "Blogue de la CDC"


def test_auto_agenda_without_event_waits(sample_settings):
    feed = dataclasses.replace(AUTO, rubrique="agenda")
    d = entry_to_draft(entry(), feed, sample_settings, month=MONTH, fetched_at=FETCHED)
    assert d.front_matter["statut"] == "soumis"
    assert any("agenda" in n and "soumis" in n for n in d.notes)


def test_auto_agenda_with_event_is_approved(sample_settings):
    feed = dataclasses.replace(AUTO, rubrique="agenda")
    e = entry(debut=datetime(2026, 12, 5, 23, 0, tzinfo=UTC),
              fin=datetime(2026, 12, 6, 2, 0, tzinfo=UTC), lieu="Salle")
    d = entry_to_draft(e, feed, sample_settings, month=MONTH, fetched_at=FETCHED)
    assert d.front_matter["statut"] == "approuve"
    assert d.front_matter["evenement"] == {"debut": "2026-12-05 18:00",
                                           "fin": "2026-12-05 21:00", "lieu": "Salle"}


def test_auto_funding_waits_for_a_deadline(sample_settings):
    feed = dataclasses.replace(AUTO, rubrique="financement")
    d = entry_to_draft(entry(), feed, sample_settings, month=MONTH, fetched_at=FETCHED)
    assert d.front_matter["statut"] == "soumis"
    assert any("échéance" in n for n in d.notes)


def test_revue_agenda_without_event_has_a_note(sample_settings):
    feed = dataclasses.replace(REVUE, rubrique="agenda")
    d = entry_to_draft(entry(), feed, sample_settings, month=MONTH, fetched_at=FETCHED)
    assert d.front_matter["statut"] == "soumis"
    assert any("evenement" in n for n in d.notes)


def test_date_in_the_bulletin_timezone(sample_settings):
    e = entry(publie=datetime(2026, 12, 1, 3, 0, tzinfo=UTC))
    d = entry_to_draft(e, REVUE, sample_settings, month=MONTH, fetched_at=FETCHED)
    assert d.front_matter["date"] == date(2026, 11, 30)


def test_no_date_uses_the_fetch(sample_settings):
    d = entry_to_draft(entry(publie=None), REVUE, sample_settings, month=MONTH,
                       fetched_at=datetime(2026, 12, 2, 4, 0, tzinfo=UTC))
    assert d.front_matter["date"] == date(2026, 12, 1)
    assert any("sans date" in n for n in d.notes)


def test_slug_falls_back_to_the_key(sample_settings):
    d = entry_to_draft(entry(titre="« ! »"), REVUE, sample_settings, month=MONTH,
                       fetched_at=FETCHED)
    assert d.slug.startswith("flux-") and len(d.slug) == 13


def test_with_image_and_alt(sample_settings):
    d = entry_to_draft(entry(), AUTO, sample_settings, month=MONTH, fetched_at=FETCHED)
    d2 = with_image(d, "../frigo.jpg", b"\xff\xd8\xffdata", "image/jpeg", "Un frigo")
    assert d2.front_matter["image"] == "frigo.jpg"
    assert d2.front_matter["image_alt"] == "Un frigo"
    assert d2.front_matter["statut"] == "approuve"
    assert [a.kind for a in d2.attachments] == ["image"]
    assert d.attachments == [] and "image" not in d.front_matter  # the original is unchanged
    keys = list(d2.front_matter)
    assert keys.index("image") < keys.index("statut") < keys.index("flux")


def test_with_image_without_alt_demotes_auto(sample_settings):
    d = entry_to_draft(entry(), AUTO, sample_settings, month=MONTH, fetched_at=FETCHED)
    d2 = with_image(d, "frigo.jpg", b"\xff\xd8\xffdata", "image/jpeg", None)
    assert d2.front_matter["statut"] == "soumis"
    assert "image_alt" not in d2.front_matter
    assert any("texte alternatif" in n for n in d2.notes)


def test_written_drafts_load(settings):
    """Each draft kind is a valid file once written (revue, auto, agenda, image)."""
    feed_agenda = dataclasses.replace(AUTO, rubrique="agenda")
    ev = entry(key="guid:2", titre="Souper {{ 7*7 }}",
               debut=datetime(2026, 12, 5, 23, 0, tzinfo=UTC), lieu="Salle")
    drafts = [
        entry_to_draft(entry(), REVUE, settings, month=MONTH, fetched_at=FETCHED),
        entry_to_draft(entry(), AUTO, settings, month=MONTH, fetched_at=FETCHED),
        entry_to_draft(ev, feed_agenda, settings, month=MONTH, fetched_at=FETCHED),
    ]
    png = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00"
           b"\x00\x00\x90wS\xde\x00\x00\x00\x0cIDATx\x9cc\xf8\xcf\xc0\x00\x00\x03\x01\x01\x00"
           b"\xc9\xfe\x92\xef\x00\x00\x00\x00IEND\xaeB`\x82")
    drafts.append(with_image(drafts[1], "photo.png", png, "image/png", "Une photo"))
    odd = entry(key="guid:3", titre="null", corps="---\n\nx\n\n---", publie=None)
    drafts.append(entry_to_draft(odd, REVUE, settings, month=MONTH, fetched_at=FETCHED))
    for d in drafts:
        store.write_draft(settings, MONTH, d)
    items, problems = store.load_month(settings, MONTH)
    errors = [p for p in problems if p.severity.name == "ERROR"]
    assert not errors, errors
    assert len(items) == 5
    by_title = {i.titre: i for i in items}
    assert by_title["Souper {{ 7*7 }}"].evenement.debut.hour == 18
    assert by_title["null"].corps.strip() == "---\n\nx\n\n---"
    assert sorted(i.statut.value for i in items) == ["approuve", "approuve", "approuve", "soumis",
                                                     "soumis"]
    assert all(i.source.value == "rss" for i in items)
    text = next(settings.paths.contenu.glob(f"{MONTH}/*.md")).read_text(encoding="utf-8")
    assert "# Reçu du flux" in text


def test_text_plain_line_breaks_are_kept():
    atom = b"""<feed xmlns="http://www.w3.org/2005/Atom"><title>t</title>
<entry><title>a</title><id>1</id>
<content type="text">Quand : samedi
    O\xc3\xb9 : salle municipale

- pas une liste</content></entry></feed>"""
    [e] = parse_feed(atom, {"content-type": "application/atom+xml"}, URL).entries
    rendered = markdown_to_html(e.corps)
    assert rendered == ("<p>Quand : samedi<br>\nOù : salle municipale</p>\n"
                        "<p>- pas une liste</p>")


def test_feed_served_as_html_is_read_with_a_warning():
    parsed = parse_feed(rss("<item><title>a</title><guid>1</guid></item>"),
                        {"content-type": "text/html; charset=utf-8"}, URL)
    assert not parsed.problem and [e.titre for e in parsed.entries] == ["a"]
    assert "text/html" in parsed.warnings[0]
