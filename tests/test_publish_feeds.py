"""The site's Atom feeds and iCalendar files: read back by feedparser and icalendar.

Each test builds a ``Site`` by hand (two issues, items with explicit aware times), so what is
checked is the contract: which items, which ids, which dates, what text, and that the same
site always gives the same bytes.
"""

from __future__ import annotations

import dataclasses
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import feedparser
import pytest
from icalendar import Calendar

from infolettre import permalinks
from infolettre.errors import BuildError
from infolettre.models import AGENDA, FUNDING, REGIONAL, Event, Item, Status
from infolettre.organize import organize
from infolettre.publish.atom import LIMIT, atom_feed
from infolettre.publish.feeds import feed_files
from infolettre.publish.ical import calendar_file
from infolettre.publish.model import PublishedIssue, PublishedItem, Site

URL = "https://infolettre.example.org"
HOST = "infolettre.example.org"
MTL = ZoneInfo("America/Montreal")
ATOM = "{http://www.w3.org/2005/Atom}"
NOV = datetime(2026, 11, 3, 14, 0, tzinfo=timezone.utc)
DEC = datetime(2026, 12, 2, 15, 0, tzinfo=timezone.utc)
CORRECTED = datetime(2026, 12, 4, 10, 0, tzinfo=timezone.utc)
NOW = datetime(2026, 12, 5, 12, 0, tzinfo=timezone.utc)
HOSTILE_BODY = ("Le **réfrigérateur** est ouvert à Lac-Etchemin, « même » le dimanche.\n\n"
                "<script>alert('x')</script>\n\n[clic](javascript:alert(1)) "
                "[autre page](../ailleurs.html)\n\n"
                "Pièce jointe : [rapport annuel.pdf](rapport%20annuel.pdf)\n")


def make(slug: str, month: str, territoire: str, rubrique: str, **fields) -> Item:
    fields.setdefault("titre", slug.replace("-", " ").capitalize())
    return Item(slug=slug, month=month, titre=fields.pop("titre"), organisme=fields.pop(
        "organisme", "CDC des Etchemins"), territoire=territoire, rubrique=rubrique,
        date=date.fromisoformat(month + "-01"), statut=Status.APPROVED, **fields)


def nov_items() -> list[Item]:
    return [
        make("frigo", "2026-11", "les-etchemins", "bons-coups",
             titre="Réfrigérateur communautaire à Lac-Etchemin", corps=HOSTILE_BODY),
        make("forum-regional", "2026-11", REGIONAL, AGENDA, titre="Forum régional",
             evenement=Event(datetime(2026, 11, 20, 10, tzinfo=MTL),
                             datetime(2026, 11, 20, 14, tzinfo=MTL), "Lévis")),
    ]


def dec_items() -> list[Item]:
    return [
        make("marche-noel", "2026-12", "lotbiniere", AGENDA, titre="Marché de Noël solidaire",
             corps="Artisans et bénévoles : venez nombreux !",
             evenement=Event(datetime(2026, 12, 12, 10, tzinfo=MTL),
                             datetime(2026, 12, 12, 16, tzinfo=MTL),
                             "Salle paroissiale de Sainte-Croix")),
        make("journee-benevoles", "2026-12", "bellechasse", AGENDA,
             titre="Journée des bénévoles",
             evenement=Event(datetime(2026, 12, 15, 0, 0, tzinfo=MTL))),
        make("salon-regional", "2026-12", REGIONAL, AGENDA, titre="Salon régional",
             corps=HOSTILE_BODY, lien="https://example.org/salon",
             evenement=Event(datetime(2026, 12, 10, 19, 0, tzinfo=MTL), lieu="Saint-Georges")),
        make("festival", "2026-12", "les-appalaches", AGENDA, titre="Festival d'hiver",
             evenement=Event(datetime(2026, 12, 18, 0, 0, tzinfo=MTL),
                             datetime(2026, 12, 20, 0, 0, tzinfo=MTL))),
        make("fonds-initiatives", "2026-12", REGIONAL, FUNDING, titre="Fonds d'initiatives",
             echeance=date(2027, 1, 15)),
        make("cuisine", "2026-12", "montmagny", "nouvelles", titre="Cuisine collective",
             corps="Des repas pour tous.", image="cuisine été.jpg",
             image_alt="Des bénévoles en cuisine", lien="https://example.org/cuisine?a=1&b=2"),
        make("retire", "2026-12", "lotbiniere", "nouvelles", titre="Nouvelle retirée"),
    ]


def make_issue(settings, month: str, items: list[Item], at: datetime,
               special: dict[str, dict] | None = None) -> PublishedIssue:
    special = special or {}
    published = tuple(PublishedItem(item=i, published_at=at,
                                    updated_at=special.get(i.slug, {}).get("updated_at", at),
                                    withdrawn_at=special.get(i.slug, {}).get("withdrawn_at"))
                      for i in items)
    parution = date.fromisoformat(month + "-01")
    return PublishedIssue(month=month, parution=parution,
                          issue=organize(items, settings, month, parution=parution),
                          items=published, first_published_at=at,
                          last_published_at=max(p.updated_at for p in published))


def make_site(settings, generated_at: datetime = NOW, corrected: bool = True) -> Site:
    special = {"retire": {"withdrawn_at": CORRECTED}}
    if corrected:
        special["marche-noel"] = {"updated_at": CORRECTED}
    issues = (make_issue(settings, "2026-12", dec_items(), DEC, special),
              make_issue(settings, "2026-11", nov_items(), NOV))
    return Site(issues=issues, url=URL, generated_at=generated_at)


def html_tags(text: str) -> list[tuple[str, list]]:
    """Every start tag of an HTML fragment, with its attributes (as a browser reads it)."""
    found: list[tuple[str, list]] = []

    class Collector(HTMLParser):
        def handle_starttag(self, tag, attrs):
            found.append((tag, attrs))

    Collector().feed(text)
    return found


def read_feed(data: bytes):
    parsed = feedparser.parse(data)
    assert not parsed.bozo, parsed.get("bozo_exception")
    return parsed


def entry_id(month: str, slug: str) -> str:
    return f"tag:{HOST},{month}-01:{month}/{slug}"


def test_network_feed_lists_every_published_item_newest_first(settings):
    """The network's feed: every item not withdrawn, newest publication first, stable ids."""
    feed = read_feed(atom_feed(make_site(settings), settings))
    assert feed.feed.title == "Le Fil régional"
    assert feed.feed.id == f"tag:{HOST},2026:reseau"
    links = {link.rel: link.href for link in feed.feed.links}
    assert links == {"self": f"{URL}/atom.xml", "alternate": f"{URL}/index.html"}
    ids = [e.id for e in feed.entries]
    december = sorted(["marche-noel", "journee-benevoles", "salon-regional", "festival",
                       "fonds-initiatives", "cuisine"])
    assert ids == ([entry_id("2026-12", s) for s in december]
                   + [entry_id("2026-11", s) for s in ("forum-regional", "frigo")])
    assert feed.feed.updated == "2026-12-04T10:00:00Z"  # the correction, not the clock
    frigo = feed.entries[-1]
    assert frigo.link == f"{URL}/2026-11/nouvelles/frigo.html"
    assert frigo.published == "2026-11-03T14:00:00Z" == frigo.updated
    assert frigo.author == "CDC des Etchemins"
    assert (frigo.tags[0].term, frigo.tags[0].label) == ("bons-coups", "Bons coups")


def test_territory_feed_has_its_own_and_regional_items_only(settings):
    """A territory's feed holds what its edition holds: its items and the regional ones."""
    data = atom_feed(make_site(settings), settings, "lotbiniere")
    feed = read_feed(data)
    assert feed.feed.title == "Le Fil régional — Lotbinière"
    assert feed.feed.id == f"tag:{HOST},2026:territoire/lotbiniere"
    links = {link.rel: link.href for link in feed.feed.links}
    assert links == {"self": f"{URL}/territoires/lotbiniere.xml",
                     "alternate": f"{URL}/territoires/lotbiniere.html"}
    assert [e.id for e in feed.entries] == [
        entry_id("2026-12", "fonds-initiatives"), entry_id("2026-12", "marche-noel"),
        entry_id("2026-12", "salon-regional"), entry_id("2026-11", "forum-regional")]


def test_entry_content_is_the_sanitized_body_with_absolute_links(settings):
    """Accents survive; script and javascript: do not; attached documents get the site's
    address, other relative links lose theirs; image and « En savoir plus » are absolute."""
    feed = read_feed(atom_feed(make_site(settings), settings))
    by_id = {e.id: e for e in feed.entries}
    frigo = by_id[entry_id("2026-11", "frigo")].content[0]
    assert frigo.type == "text/html"
    assert "<strong>réfrigérateur</strong>" in frigo.value and "« même »" in frigo.value
    tags = html_tags(frigo.value)
    assert "script" not in {name for name, _attrs in tags}
    hrefs = [dict(attrs).get("href") or "" for name, attrs in tags if name == "a"]
    assert not [h for h in hrefs if not h.startswith(("https://", "mailto:")) and h]
    assert f'href="{URL}/2026-11/documents/rapport%20annuel.pdf"' in frigo.value
    assert "ailleurs.html" not in frigo.value and "autre page" in frigo.value
    cuisine = by_id[entry_id("2026-12", "cuisine")].content[0].value
    assert f'src="{URL}/2026-12/images/cuisine%20%C3%A9t%C3%A9.jpg"' in cuisine
    assert 'alt="Des bénévoles en cuisine"' in cuisine
    assert 'href="https://example.org/cuisine?a=1&amp;b=2"' in cuisine
    assert "En savoir plus" in cuisine


def test_agenda_and_funding_entries_have_a_summary(settings):
    """An event says when and where; a call says its deadline, in French."""
    feed = read_feed(atom_feed(make_site(settings), settings))
    by_id = {e.id: e for e in feed.entries}
    assert by_id[entry_id("2026-12", "marche-noel")].summary == (
        "samedi 12 décembre 2026, de 10 h à 16 h — Salle paroissiale de Sainte-Croix")
    assert by_id[entry_id("2026-12", "fonds-initiatives")].summary == \
        "Date limite : vendredi 15 janvier 2027"
    root = ET.fromstring(atom_feed(make_site(settings), settings))
    cuisine = next(e for e in root.iter(f"{ATOM}entry")
                   if e.findtext(f"{ATOM}id") == entry_id("2026-12", "cuisine"))
    assert cuisine.find(f"{ATOM}summary") is None


def test_feed_has_the_elements_rfc_4287_requires(settings):
    """atom:feed and each atom:entry carry id, title, updated; an author covers each entry."""
    for territory in (None, *settings.territories):
        root = ET.fromstring(atom_feed(make_site(settings), settings, territory))
        assert root.tag == f"{ATOM}feed"
        for name in ("id", "title", "updated"):
            assert len(root.findall(f"{ATOM}{name}")) == 1 and root.findtext(f"{ATOM}{name}")
        assert root.find(f"{ATOM}author/{ATOM}name").text == "Le Fil régional"
        assert root.find(f"{ATOM}link[@rel='self']") is not None
        for entry in root.findall(f"{ATOM}entry"):
            for name in ("id", "title", "updated", "published"):
                assert len(entry.findall(f"{ATOM}{name}")) == 1 and entry.findtext(f"{ATOM}{name}")
                if name in ("updated", "published"):
                    datetime.fromisoformat(entry.findtext(f"{ATOM}{name}").replace("Z", "+00:00"))
            assert entry.find(f"{ATOM}link[@rel='alternate']") is not None
            assert entry.find(f"{ATOM}content").get("type") == "html"


def test_same_site_gives_the_same_bytes_whenever_generated(settings):
    """Generating again later with the same items changes no byte of any feed or calendar."""
    first = feed_files(make_site(settings, NOW), settings)
    later = feed_files(make_site(settings, NOW + timedelta(hours=30)), settings)
    assert first == later
    expected = {"atom.xml", "agenda.ics"} | {
        f"territoires/{t}.{ext}" for t in settings.territories for ext in ("xml", "ics")}
    assert set(first) == expected


def test_corrected_item_keeps_its_id_and_gets_a_later_update(settings):
    """A correction changes <updated> (and the calendar's SEQUENCE), never the ids."""
    before = read_feed(atom_feed(make_site(settings, corrected=False), settings, "lotbiniere"))
    after = read_feed(atom_feed(make_site(settings), settings, "lotbiniere"))
    key = entry_id("2026-12", "marche-noel")
    old = next(e for e in before.entries if e.id == key)
    new = next(e for e in after.entries if e.id == key)
    assert old.published == new.published == "2026-12-02T15:00:00Z"
    assert old.updated == "2026-12-02T15:00:00Z" and new.updated == "2026-12-04T10:00:00Z"
    events = [_events(calendar_file(make_site(settings, corrected=c), settings, "lotbiniere"))
              for c in (False, True)]
    uid = f"2026-12-marche-noel@{HOST}"
    assert events[0][uid]["sequence"] == 0 < events[1][uid]["sequence"]
    assert events[1][uid].decoded("dtstamp") == CORRECTED


def test_feed_keeps_the_fifty_newest(settings):
    """At most LIMIT entries: the newest ones, in order."""
    items = [make(f"nouvelle-{n:02d}", "2026-12", REGIONAL, "nouvelles") for n in range(60)]
    published = tuple(PublishedItem(item=i, published_at=DEC + timedelta(minutes=n),
                                    updated_at=DEC + timedelta(minutes=n))
                      for n, i in enumerate(items))
    issue = PublishedIssue(month="2026-12", parution=date(2026, 12, 1),
                           issue=organize(items, settings, "2026-12"), items=published,
                           first_published_at=DEC, last_published_at=DEC)
    feed = read_feed(atom_feed(Site((issue,), URL, NOW), settings))
    assert len(feed.entries) == LIMIT == 50
    assert [e.id for e in feed.entries] == [entry_id("2026-12", f"nouvelle-{n:02d}")
                                            for n in range(59, 9, -1)]


def test_hostile_text_keeps_the_feed_well_formed(settings):
    """Markup-like text and control characters in a title or a name never break the XML."""
    item = make("piege", "2026-12", REGIONAL, "nouvelles", titre="A & B <b>gras</b>\x0b\x00 fin",
                organisme="Org « x » & <y>\x1f")
    pub = PublishedItem(item=item, published_at=DEC, updated_at=DEC)
    issue = PublishedIssue("2026-12", date(2026, 12, 1), organize([item], settings, "2026-12"),
                           (pub,), DEC, DEC)
    data = atom_feed(Site((issue,), URL, NOW), settings)
    ET.fromstring(data)
    entry = read_feed(data).entries[0]
    assert entry.title == "A & B <b>gras</b> fin"
    assert entry.author == "Org « x » & <y>"


def test_unknown_territory_is_refused(settings):
    with pytest.raises(BuildError):
        atom_feed(make_site(settings), settings, "nulle-part")
    with pytest.raises(BuildError):
        calendar_file(make_site(settings), settings, "nulle-part")


def _events(data: bytes) -> dict:
    calendar = Calendar.from_ical(data)
    return {str(e["uid"]): e for e in calendar.walk("VEVENT")}


def test_network_calendar_has_upcoming_events_and_open_calls(settings):
    """Upcoming events and open calls, past ones left out, each UID its month and slug."""
    data = calendar_file(make_site(settings), settings)
    calendar = Calendar.from_ical(data)
    assert str(calendar["method"]) == "PUBLISH" and str(calendar["version"]) == "2.0"
    assert str(calendar["x-wr-calname"]) == "Le Fil régional"
    assert str(calendar["x-wr-timezone"]) == "America/Montreal"
    assert [str(t["tzid"]) for t in calendar.walk("VTIMEZONE")] == ["America/Montreal"]
    events = _events(data)
    assert set(events) == {f"2026-12-{s}@{HOST}" for s in (
        "marche-noel", "journee-benevoles", "salon-regional", "festival")} | {
        f"2026-12-fonds-initiatives-echeance@{HOST}"}  # the November forum is over
    marche = events[f"2026-12-marche-noel@{HOST}"]
    start = marche.decoded("dtstart")
    assert start == datetime(2026, 12, 12, 10, tzinfo=MTL) and start.tzinfo is not None
    assert marche["dtstart"].params["TZID"] == "America/Montreal"
    assert marche.decoded("dtend") == datetime(2026, 12, 12, 16, tzinfo=MTL)
    assert str(marche["summary"]) == "Marché de Noël solidaire"
    assert str(marche["location"]) == "Salle paroissiale de Sainte-Croix"
    assert "Artisans et bénévoles" in str(marche["description"])
    assert str(marche["url"]) == f"{URL}/2026-12/nouvelles/marche-noel.html"
    assert marche["categories"].cats == ["Agenda", "Lotbinière"]


def test_calendar_days_and_open_ended_events(settings):
    """All-day events are dates (end exclusive); a timed event without end has no DTEND."""
    events = _events(calendar_file(make_site(settings), settings))
    day = events[f"2026-12-journee-benevoles@{HOST}"]
    assert (day.decoded("dtstart"), day.decoded("dtend")) == (date(2026, 12, 15),
                                                              date(2026, 12, 16))
    assert not isinstance(day.decoded("dtstart"), datetime)
    festival = events[f"2026-12-festival@{HOST}"]
    assert (festival.decoded("dtstart"), festival.decoded("dtend")) == (date(2026, 12, 18),
                                                                        date(2026, 12, 21))
    salon = events[f"2026-12-salon-regional@{HOST}"]
    assert salon.decoded("dtstart") == datetime(2026, 12, 10, 19, tzinfo=MTL)
    assert "dtend" not in salon
    text = str(salon["description"])
    assert "« même » le dimanche" in text and "<script" not in text
    assert "javascript:" not in text and "En savoir plus : https://example.org/salon" in text
    call = events[f"2026-12-fonds-initiatives-echeance@{HOST}"]
    assert str(call["summary"]) == "Date limite : Fonds d'initiatives"
    assert call.decoded("dtstart") == date(2027, 1, 15)
    assert str(call["transp"]) == "TRANSPARENT"


def test_territory_calendar_and_past_events(settings):
    """A territory's calendar: its events and the regional ones; an event ended yesterday
    is gone, one ending today is still there."""
    site = make_site(settings, datetime(2026, 12, 12, 22, 0, tzinfo=timezone.utc))
    assert set(_events(calendar_file(site, settings, "lotbiniere"))) == {
        f"2026-12-marche-noel@{HOST}", f"2026-12-fonds-initiatives-echeance@{HOST}"}
    assert set(_events(calendar_file(site, settings, "bellechasse"))) == {
        f"2026-12-journee-benevoles@{HOST}", f"2026-12-fonds-initiatives-echeance@{HOST}"}
    calendar = Calendar.from_ical(calendar_file(site, settings, "bellechasse"))
    assert str(calendar["x-wr-calname"]) == "Le Fil régional — Bellechasse"


def test_calendar_lines_are_folded_and_accents_kept(settings):
    """Every line fits in 75 octets; long French text survives folding intact."""
    data = calendar_file(make_site(settings), settings)
    assert all(len(line) <= 75 for line in data.split(b"\r\n"))
    text = data.decode("utf-8")
    assert "Journée des bénévoles" in text
    events = _events(data)
    assert "Salle paroissiale de Sainte-Croix" == str(events[f"2026-12-marche-noel@{HOST}"]
                                                      ["location"])


def test_calendar_uses_the_bulletins_zone(settings):
    """With « fuseau = America/Toronto » the VTIMEZONE and every TZID say Toronto."""
    identity = dataclasses.replace(settings.identity, fuseau="America/Toronto")
    toronto = dataclasses.replace(settings, identity=identity)
    data = calendar_file(make_site(toronto), toronto)
    calendar = Calendar.from_ical(data)
    assert [str(t["tzid"]) for t in calendar.walk("VTIMEZONE")] == ["America/Toronto"]
    marche = _events(data)[f"2026-12-marche-noel@{HOST}"]
    assert marche["dtstart"].params["TZID"] == "America/Toronto"
    assert marche.decoded("dtstart") == datetime(2026, 12, 12, 10, tzinfo=MTL)


def test_ids_follow_the_sites_path(settings):
    """A bulletin published under a path keeps its ids apart from another on the same host."""
    site = dataclasses.replace(make_site(settings), url="https://example.org/fil")
    feed = read_feed(atom_feed(site, settings))
    assert feed.feed.id == "tag:example.org,2026:fil/reseau"
    assert feed.entries[-1].id == "tag:example.org,2026-11-01:fil/2026-11/frigo"
    assert feed.entries[-1].link == "https://example.org/fil/2026-11/nouvelles/frigo.html"
    assert f"2026-12-marche-noel@example.org/fil" in _events(calendar_file(site, settings))
    assert permalinks.atom_feed(None) == "atom.xml"


@pytest.mark.parametrize("url", ["", "file:///srv/site", "infolettre.example.org"])
def test_site_without_host_is_refused_with_advice(settings, url):
    """Ids and links need the site's public host: without one, say where and how to fix."""
    site = dataclasses.replace(make_site(settings), url=url)
    for make_file in (atom_feed, calendar_file):
        with pytest.raises(BuildError) as caught:
            make_file(site, settings)
        assert caught.value.where == "[infolettre] site" and "https://" in caught.value.fix


def test_item_of_a_territory_no_longer_configured_stays_in_the_network_files(settings):
    """An old item keeps its place after its territory left infolettre.toml (named by slug)."""
    territories = {k: v for k, v in settings.territories.items() if k != "lotbiniere"}
    fewer = dataclasses.replace(settings, territories=territories)
    site = make_site(settings)
    files = feed_files(site, fewer)
    assert "territoires/lotbiniere.ics" not in files
    marche = _events(files["agenda.ics"])[f"2026-12-marche-noel@{HOST}"]
    assert marche["categories"].cats == ["Agenda", "lotbiniere"]
    assert entry_id("2026-12", "marche-noel") in {e.id for e in read_feed(files["atom.xml"]).entries}
