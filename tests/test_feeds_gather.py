"""``infolettre gather feeds`` end to end, against a real HTTP server on loopback.

A mix of healthy, slow, broken and hostile feeds on two « sites » (127.0.0.1, 127.0.0.2):
clean, deduplicated items for review; every failing feed reported in French and counted;
an unchanged feed costs one 304; a failure while writing loses nothing.
"""

from __future__ import annotations

import io
from contextlib import closing
from datetime import UTC, datetime
from email.message import EmailMessage

import pytest
from PIL import Image

from infolettre.cli import main
from infolettre.clock import FixedClock
from infolettre.gather.feeds import run as feeds_run
from infolettre.gather.feeds.run import gather_feeds
from infolettre.gather.intake import process_raw
from infolettre.pipeline import prepare
from infolettre.state import connect, state_file
from infolettre.content import load_month

from . import feedserver
from .feedserver import Response, drop, feed, gzipped, html_page, huge, redirect, status

feed_server = feedserver.feed_server

NOW = datetime(2026, 11, 25, 15, 0, tzinfo=UTC)  # → the December 2026 issue
MONTH = "2026-12"
JPEG = "image/jpeg"


def _jpeg(width: int = 1600, height: int = 900) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (200, 120, 40)).save(out, "JPEG")
    return out.getvalue()


def _rss(items: str, title: str = "Flux") -> bytes:
    return (f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0" '
            f'xmlns:media="http://search.yahoo.com/mrss/"><channel><title>{title}</title>'
            f"<link>https://exemple.org/</link>{items}</channel></rss>").encode()


def _item(title: str, link: str, day: str, body: str = "<p>Texte.</p>", extra: str = "") -> str:
    return (f"<item><title>{title}</title><link>{link}</link><guid>{link}#guid</guid>"
            f"<pubDate>{day}</pubDate><description><![CDATA[{body}]]></description>{extra}"
            "</item>")


HOSTILE = ('<script>alert(1)</script><p onclick="alert(2)">Inscriptions <b>ouvertes</b> '
           '{{ 7*7 }} {% include "x" %}</p><iframe src="https://evil.example/"></iframe>'
           '<a href="javascript:alert(3)">piège</a> <form><input name="q"></form>'
           '<img src="https://pixel.example/t.gif" onerror="alert(4)">'
           '<p><a href="https://trds.example.org/forum">Détails</a></p>')
FORUM = "Forum régional sur le logement social : les inscriptions sont ouvertes"
SUPPER = "Souper communautaire de Noël à Lac-Etchemin le 12 décembre"


def _feed_a(server) -> bytes:
    image = server.url("/img/forum.jpg")
    return _rss("".join([
        _item(FORUM, "https://trds.example.org/forum?utm_source=rss&amp;utm_medium=flux",
              "Fri, 20 Nov 2026 10:00:00 -0500", HOSTILE,
              f'<enclosure url="{image}" type="{JPEG}" length="1000"/>'),
        _item("Ancienne nouvelle d'octobre sur le transport collectif régional",
              "https://trds.example.org/octobre", "Thu, 15 Oct 2026 10:00:00 -0400"),
        _item("Appel de projets : fonds régions et ruralité, volet local",
              "https://trds.example.org/frr", "Sun, 22 Nov 2026 09:00:00 -0500"),
    ]), "Table régionale")


def _feed_b() -> bytes:
    entries = [
        (FORUM + " !", "http://www.trds.example.org/forum/", "2026-11-21T12:00:00Z"),
        (SUPPER, "https://cdc-etchemins.example.org/souper", "2026-11-22T12:00:00Z"),
        ("Nouvelle friperie solidaire à Saint-Prosper : ouverture officielle",
         "/friperie", "2026-11-23T12:00:00Z"),
    ]
    body = "".join(
        f"<entry><title>{t}</title><link href=\"{link}\"/><id>urn:b:{n}</id>"
        f"<updated>{when}</updated><summary type=\"html\">&lt;p&gt;Résumé {n}&lt;/p&gt;"
        f"</summary></entry>" for n, (t, link, when) in enumerate(entries))
    return ('<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom" '
            'xml:base="https://cdc-etchemins.example.org/nouvelles/"><title>CDC</title>'
            f"<id>urn:b</id><updated>2026-11-23T12:00:00Z</updated>{body}</feed>").encode()


FEEDS = [  # (path, nom, territoire, rubrique, confiance, host index)
    ("/a.xml", "Table régionale en développement social", "regional", "nouvelles", "revue", 0),
    ("/b.xml", "CDC des Etchemins", "les-etchemins", "bons-coups", "revue", 1),
    ("/gz.xml", "CDC de Bellechasse", "bellechasse", "ressources", "auto", 1),
    ("/lent.xml", "Municipalité lente", "regional", "nouvelles", "revue", 0),
    ("/panne.xml", "Plateforme en panne", "regional", "nouvelles", "revue", 0),
    ("/page.xml", "Site sans flux", "regional", "nouvelles", "revue", 0),
    ("/boucle.xml", "Redirection en boucle", "regional", "nouvelles", "revue", 1),
    ("/enorme.xml", "Réponse énorme", "regional", "nouvelles", "revue", 1),
    ("/casse.xml", "XML cassé", "regional", "nouvelles", "revue", 0),
    ("/coupe.xml", "Connexion coupée", "regional", "nouvelles", "revue", 0),
]
BROKEN = {"Municipalité lente": "1 s", "Plateforme en panne": "500",
          "Site sans flux": "pas un flux", "Redirection en boucle": "redirections",
          "Réponse énorme": "Mo", "XML cassé": "mal formé", "Connexion coupée": "connexion"}


@pytest.fixture
def mixed(feed_server, project):
    """The server with every feed routed, and a project that watches them all."""
    server = feed_server
    server.route("/a.xml", feed(_feed_a(server), etag='"a1"'))
    server.route("/b.xml", feed(_feed_b(), etag=None))  # Last-Modified only
    server.route("/gz.xml", gzipped(_rss(_item(
        "Guide des ressources en sécurité alimentaire de Bellechasse, édition 2027",
        "https://cdc-bellechasse.example.org/guide", "Tue, 24 Nov 2026 08:00:00 -0500"))))
    server.route("/img/forum.jpg", Response(200, _jpeg(), {"Content-Type": JPEG}))
    server.route("/lent.xml", Response(200, _rss(""), {"Content-Type": "application/rss+xml"},
                                       delay=3))
    server.route("/panne.xml", status(500))
    server.route("/page.xml", html_page())
    server.route("/boucle.xml", redirect("/boucle.xml"))
    server.route("/enorme.xml", huge(3 * 1024 * 1024))
    server.route("/casse.xml", Response(200, b"<rss><channel><item><title>x</ti",
                                        {"Content-Type": "application/rss+xml"}))
    server.route("/coupe.xml", drop())
    text = "".join(
        f'\n[[flux]]\nurl = "{server.url(path, server.hosts[host])}"\nnom = "{nom}"\n'
        f'territoire = "{territoire}"\nrubrique = "{rubrique}"\nconfiance = "{trust}"\n'
        for path, nom, territoire, rubrique, trust, host in FEEDS)
    text += ("\n[veille]\ndelai_connexion_s = 2\ndelai_lecture_s = 1\ndelai_total_s = 4\n"
             "taille_max_mo = 1\nalerte_apres = 3\nimages_reseau_local = true\n")
    project.config.write_text(project.config.read_text(encoding="utf-8") + text,
                              encoding="utf-8")
    project.write("souper-courriel.md", (
        "---\n# Reçu par courriel de cdc@etchemins.example.org (Message-ID : x@y).\n"
        f"titre: {SUPPER}\norganisme: CDC des Etchemins\nrubrique: agenda\n"
        "date: 2026-11-18\nevenement: {debut: \"2026-12-12 17:00\"}\nstatut: soumis\n"
        "source: courriel\n---\nVenez nombreux.\n"))
    return server, project


def _files(project) -> dict[str, str]:
    folder = project.root / "content" / MONTH
    return {p.name: p.read_text(encoding="utf-8") for p in sorted(folder.glob("*.md"))}


def test_mixed_feeds_give_clean_deduplicated_items_and_clear_failures(mixed):
    server, project = mixed
    settings = project.settings()
    report = gather_feeds(settings, clock=FixedClock(NOW))
    by_name = {o.feed.nom: o for o in report.outcomes}

    # every broken feed: a French message naming what happened, counted once
    assert {o.feed.nom for o in report.failed} == set(BROKEN)
    for name, expected in BROKEN.items():
        assert expected in by_name[name].error, (name, by_name[name].error)
        assert by_name[name].failures == 1
    assert not report.alerts

    a, b, gz = (by_name[n] for n in ("Table régionale en développement social",
                                     "CDC des Etchemins", "CDC de Bellechasse"))
    assert (len(a.written), a.old, a.duplicates) == (2, 1, [])
    assert len(b.written) == 1 and len(gz.written) == 1
    assert sorted(why for _, _, why in b.duplicates) == ["lien", "titre"]

    files = _files(project)
    assert len(files) == 5  # the emailed supper + 2 from A + 1 from B + 1 from the gzip feed
    forum = next(t for t in files.values() if FORUM in t and "source: rss" in t)
    assert "statut: soumis" in forum and "flux: Table régionale en développement social" in forum
    for bad in ("<script", "alert(", "onclick", "iframe", "javascript:", "<form", "<input",
                "pixel.example", "onerror"):
        assert bad not in forum, bad
    assert "**ouvertes**" in forum and "{{ 7\\*7 }}" in forum  # Markdown for « {{ 7*7 }} »
    # the same news from feed B: one item, with B noted in it
    assert "# Aussi reçu du flux « CDC des Etchemins » (même lien)" in forum
    supper = files["souper-courriel.md"]
    assert "# Aussi reçu du flux « CDC des Etchemins » (titre presque identique)" in supper
    friperie = next(t for t in files.values() if "friperie" in t)
    assert "lien: https://cdc-etchemins.example.org/friperie" in friperie  # xml:base resolved
    assert "territoire: les-etchemins" in friperie and "rubrique: bons-coups" in friperie
    guide = next(t for t in files.values() if "Guide des ressources" in t)
    assert "statut: approuve" in guide  # « auto » trust, complete entry

    # the image: fetched, resized to 1200 px, beside the item
    image_name = next(line.split(": ", 1)[1] for line in forum.splitlines()
                      if line.startswith("image: "))
    with Image.open(project.root / "content" / MONTH / image_name) as image:
        assert image.width == 1200
    assert "image_alt" in forum or "texte alternatif" in forum

    # every written item reads back: no error, and the approved one is in the issue
    items, problems = load_month(settings, MONTH)
    assert not [p for p in problems if p.severity.value == "erreur"], problems
    assert len(items) == 5
    rendered, _ = prepare(settings, MONTH)
    html = rendered.editions[-1].html
    assert "Guide des ressources en sécurité alimentaire" in html
    assert FORUM not in html  # submitted, not approved: not in the issue
    preview, _ = prepare(settings, MONTH, preview=True)
    html = preview.editions[-1].html
    assert "{{ 7*7 }}" in html and '{% include "x" %}' in html.replace("&#34;", '"')
    assert "<script" not in html and "javascript:" not in html


def _email(subject: str, body: str, message_id: str) -> bytes:
    message = EmailMessage()
    message["From"] = "Coordination TRDS <coordination@trds-ca.example.org>"
    message["To"] = "infolettre@example.org"
    message["Subject"] = subject
    message["Message-ID"] = f"<{message_id}@trds-ca.example.org>"
    message["Date"] = "Wed, 25 Nov 2026 10:00:00 -0500"
    message.set_content(body)
    return bytes(message)


def test_an_email_after_the_feed_names_the_feed_item_and_both_are_kept(mixed):
    """The feed came first, then the organization emails the same news (same link once
    tracking is removed, or a near-identical title): the email is still written — a
    submission is never dropped — and each file names the other, for the pivot to keep one."""
    _server, project = mixed
    settings = project.settings()
    gather_feeds(settings, clock=FixedClock(NOW))
    frr = "Appel de projets : fonds régions et ruralité, volet local"
    with closing(connect(state_file(settings.paths.donnees))) as conn:
        by_link = process_raw(_email(
            "Inscriptions au forum sur le logement", "Lien : https://www.trds.example.org/forum"
            "?utm_campaign=nov#programme\n\nVenez au forum régional.", "forum"),
            settings, source="test", conn=conn, month=MONTH)
        by_title = process_raw(_email(
            f"Tr: {frr} !", "Les projets sont attendus avant le 15 janvier.", "frr"),
            settings, source="test", conn=conn, month=MONTH)
        other = process_raw(_email(
            "Appel de projets : fonds régions et ruralité, volet 2", "Autre volet.", "v2"),
            settings, source="test", conn=conn, month=MONTH)
    assert (by_link.kind, by_title.kind, other.kind) == ("item", "item", "item")
    files = _files(project)
    forum = next(t for t in files.values() if FORUM in t and "source: rss" in t)
    assert f"# Aussi reçu par courriel de coordination@trds-ca.example.org (même lien) : " \
           f"{MONTH}/{by_link.path.name}" in " ".join(forum.split())
    emailed = " ".join(by_link.path.read_text(encoding="utf-8").split())
    assert "même nouvelle qu'un élément déjà reçu du flux « Table régionale en développement " \
           "social » (même lien)" in emailed
    fund = next(t for t in files.values() if frr in t and "source: rss" in t)
    assert "(titre presque identique)" in fund and by_title.path.name in fund
    assert "même nouvelle" in by_title.path.read_text(encoding="utf-8")
    assert "même nouvelle" not in other.path.read_text(encoding="utf-8")  # volet 2: not it
    items, problems = load_month(settings, MONTH)
    assert not [p for p in problems if p.severity.value == "erreur"], problems


def test_images_on_the_local_network_are_refused_by_default(mixed):
    """A feed's image URL pointing at our own machines (here: loopback) is not fetched;
    the item is still written, with a note saying why it has no image."""
    server, project = mixed
    project.config.write_text(project.config.read_text(encoding="utf-8").replace(
        "images_reseau_local = true", "images_reseau_local = false"), encoding="utf-8")
    gather_feeds(project.settings(), clock=FixedClock(NOW))
    forum = next(t for t in _files(project).values() if FORUM in t and "source: rss" in t)
    assert "image:" not in forum
    assert "adresse du réseau local refusée (127.0.0.1)" in " ".join(forum.split())
    assert not server.requests_to("/img/forum.jpg")  # never even asked


def test_second_run_costs_a_304_and_failures_build_up_to_an_alert(mixed):
    server, project = mixed
    settings = project.settings()
    gather_feeds(settings, clock=FixedClock(NOW))
    before = _files(project)
    server.reset_counters()
    report = gather_feeds(settings, clock=FixedClock(NOW))
    by_name = {o.feed.nom: o for o in report.outcomes}
    assert by_name["Table régionale en développement social"].status == "inchange"
    assert by_name["CDC des Etchemins"].status == "inchange"
    second = server.requests_to("/a.xml")[-1]
    assert second.headers.get("if-none-match") == '"a1"'
    assert server.requests_to("/b.xml")[-1].headers.get("if-modified-since")
    assert _files(project) == before  # nothing written, no note added twice
    assert {o.failures for o in report.failed} == {2} and not report.alerts
    # the gzip feed has no validators: fetched again, its entry already seen
    gz = by_name["CDC de Bellechasse"]
    assert gz.status == "nouveau" and gz.seen == 1 and not gz.written

    third = gather_feeds(settings, clock=FixedClock(NOW))
    assert {o.feed.nom for o in third.alerts} == set(BROKEN)
    assert all(o.failures == 3 for o in third.alerts)


def test_a_changed_feed_gives_only_its_new_entry(mixed):
    server, project = mixed
    settings = project.settings()
    gather_feeds(settings, clock=FixedClock(NOW))
    count = len(_files(project))
    body = _feed_a(server).replace(b"</channel>", _item(
        "Bilan de la campagne de la guignolée régionale 2026 : merci aux bénévoles",
        "https://trds.example.org/guignolee", "Tue, 24 Nov 2026 18:00:00 -0500").encode()
        + b"</channel>")
    server.route("/a.xml", feed(body, etag='"a2"'))
    report = gather_feeds(settings, clock=FixedClock(NOW))
    a = report.outcomes[0]
    assert a.status == "nouveau" and len(a.written) == 1 and a.seen == 2 and a.old == 1
    assert len(_files(project)) == count + 1


def test_a_failure_while_writing_loses_nothing(mixed, monkeypatch):
    server, project = mixed
    settings = project.settings()
    real, calls = feeds_run.write_draft, []

    def failing(settings_, month, draft):
        calls.append(draft.front_matter["titre"])
        if len(calls) == 2:
            raise OSError(28, "No space left on device")
        return real(settings_, month, draft)

    monkeypatch.setattr(feeds_run, "write_draft", failing)
    report = gather_feeds(settings, clock=FixedClock(NOW))
    a = report.outcomes[0]
    assert a.status == "erreur" and "No space left on device" in a.error
    assert len(a.written) == 1
    assert report.outcomes[1].written  # the next feed went on
    monkeypatch.setattr(feeds_run, "write_draft", real)
    server.reset_counters()
    again = gather_feeds(settings, clock=FixedClock(NOW)).outcomes[0]
    assert server.requests_to("/a.xml")[-1].headers.get("if-none-match") is None
    # the entry that failed is taken now: B's copy of the same news came first meanwhile,
    # so it is recognised as that item (and noted in it), not written a second time
    assert again.status == "nouveau" and again.seen == 1
    assert len(again.written) + len(again.duplicates) == 1
    texts = list(_files(project).values())
    assert sum("fonds régions" in t for t in texts) == 1
    assert sum(t.count("logement social") > 0 and "source: rss" in t for t in texts) == 1


def test_cli_reports_and_shows_feed_health(mixed, capsys):
    server, project = mixed
    config = str(project.config)
    for _ in range(3):  # the clock of the CLI is the test's: NOW → the December 2026 issue
        code = main(["--config", config, "gather", "feeds"], clock=FixedClock(NOW))
    out = capsys.readouterr()
    assert code == 1  # alerts after 3 failures in a row
    assert "Alerte" in out.err and "Plateforme en panne" in out.err
    assert "Flux : 10 suivi(s)" in out.out and "au dimanche 1er novembre 2026" in out.out
    assert "✓ Table régionale en développement social : 2 nouvelle(s)" in out.out  # 1st run
    assert "= Table régionale en développement social : inchangé" in out.out  # then 304s
    assert "✗ Échec Plateforme en panne" in out.err
    assert main(["--config", config, "feeds"], clock=FixedClock(NOW)) == 1
    table = capsys.readouterr().out
    assert "Plateforme en panne" in table and "500" in table
    assert "dernière réussite : " in table and " 2026 à " in table and " h " in table


def test_no_feed_configured_says_how_to_add_one(project, capsys):
    assert main(["--config", str(project.config), "gather", "feeds"]) == 2
    assert "[[flux]]" in capsys.readouterr().err


AVIS = "Avis public : consultation sur le règlement de zonage"


def test_a_recurring_title_in_one_feed_gives_one_item_per_entry(feed_server, project):
    """A municipality publishes « Avis public : … » each week, each with its own link: every
    entry is news, in the same run and in a later one (the first is then a file)."""
    def avis(*numbers: int) -> bytes:
        return _rss("".join(_item(AVIS, f"https://ville.example/avis/{n}",
                                  f"Tue, {n - 100:02d} Dec 2026 09:00:00 -0500")
                            for n in numbers), "Ville")
    url = feed_server.route("/avis.xml", feed(avis(101, 102), etag='"1"'))
    project.config.write_text(project.config.read_text(encoding="utf-8") + (
        f'\n[[flux]]\nurl = "{url}"\nnom = "Ville de Lac-Etchemin"\nterritoire = '
        '"les-etchemins"\nrubrique = "nouvelles"\n'), encoding="utf-8")
    settings = project.settings()
    first = gather_feeds(settings, clock=FixedClock(NOW)).outcomes[0]
    assert len(first.written) == 2 and first.duplicates == []
    feed_server.route("/avis.xml", feed(avis(101, 102, 103), etag='"2"'))
    later = gather_feeds(settings, clock=FixedClock(NOW)).outcomes[0]
    assert len(later.written) == 1 and later.duplicates == [] and later.seen == 2
    assert len(_files(project)) == 3
