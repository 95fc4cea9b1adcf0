"""The published web archive (``infolettre publish``): its files, its links, what it never
shows, and how a republished issue shows corrections and withdrawals."""

from __future__ import annotations

import csv
import html
import dataclasses
import re

import pytest

from infolettre import cli, permalinks, pipeline
from infolettre.errors import BuildError, DeliveryError, InfolettreError, Severity
from infolettre.models import COMPLETE
from infolettre.pipeline.publish import PUBLISHED

from .site_helpers import (DOCUMENT, DOCUMENT_ITEM, MONTHS, REPO, broken_links, pages,
                           publish_sample, sample_copy, withdraw_and_republish)
from .conftest import SAMPLE_CONFIG


@pytest.fixture
def published(tmp_path):
    """Both sample issues approved and published: (settings, clock, site folder)."""
    settings, clock = publish_sample(tmp_path)
    return settings, clock, settings.paths.site


def _item_page(site, month, slug):
    """The page's text, entities decoded (« d'un » is written « d&#39;un »)."""
    return html.unescape((site / permalinks.item_page(month, slug)).read_text(encoding="utf-8"))


def test_the_site_has_every_page(published):
    """Home, stylesheet, every edition, every item, every rubrique, territory and embed."""
    settings, clock, site = published
    expected = {permalinks.HOME, permalinks.STYLESHEET}
    for month in MONTHS:
        expected.add(permalinks.issue_page(month))
        expected |= {permalinks.edition_page(month, t) for t in settings.territories}
    expected |= {permalinks.rubrique_page(r) for r in settings.rubriques}
    expected |= {permalinks.territory_page(t) for t in (*settings.territories, "regional")}
    expected |= {permalinks.embed(t) for t in settings.territories}
    expected.add(permalinks.item_page("2026-12", "frigo-communautaire-lac-etchemin"))
    expected.add(permalinks.item_page("2026-11", "tournee-alliance-bilan"))
    files = {p.relative_to(site).as_posix() for p in site.rglob("*") if p.is_file()}
    assert expected <= files
    image = site / "2026-12" / "images" / "frigo-communautaire.jpg"
    assert image.read_bytes() == (settings.paths.contenu / "2026-12"
                                  / "frigo-communautaire.jpg").read_bytes()
    assert (site / "2026-12" / "documents" / DOCUMENT).read_bytes().startswith(b"%PDF")


def test_every_relative_link_resolves_and_pages_are_well_formed(published):
    """Every href and src of every page names a file of the site (and an id that exists);
    each page is French, has one h1 and no duplicated id."""
    _settings, _clock, site = published
    assert broken_links(site) == []
    for path in site.rglob("*.html"):
        assert "<script" not in path.read_text(encoding="utf-8"), path  # no JavaScript
    for path, page in pages(site).items():
        assert page.lang == "fr-CA", path
        assert page.headings.count(1) == 1, path
        assert len(page.ids) == len(set(page.ids)), path
        assert page.headings[0] == 1, path


def test_item_page_in_full_with_canonical_and_dates(published):
    """The item's permalink: title, organisme, image with its size, body, « Publié le »,
    the canonical absolute address; the document link points at the published copy."""
    settings, _clock, site = published
    text = _item_page(site, "2026-12", "frigo-communautaire-lac-etchemin")
    assert "Ouverture d'un frigo communautaire à Lac-Etchemin" in text
    assert "CDC des Etchemins" in text
    assert re.search(r'<img src="\.\./\.\./2026-12/images/frigo-communautaire\.jpg" '
                     r'alt="Illustration[^"]*" width="800" height="450"', text)
    assert ('<link rel="canonical" href="https://infolettre.example.org/2026-12/nouvelles/'
            'frigo-communautaire-lac-etchemin.html">') in text
    assert "Publié le mercredi 2\u00a0décembre 2026" in text and "Corrigé le" not in text
    popote = _item_page(site, "2026-12", DOCUMENT_ITEM[:-3])
    assert 'href="../../2026-12/documents/rapport%20annuel.pdf"' in popote
    issue = (site / permalinks.issue_page("2026-12")).read_text(encoding="utf-8")
    assert 'id="frigo-communautaire-lac-etchemin"' in issue
    assert 'href="../2026-12/nouvelles/frigo-communautaire-lac-etchemin.html"' in issue


def test_nothing_private_is_published(tmp_path):
    """No recipient's address, no placeholder, no unsubscribe link, no Message-ID, no
    sender of a submission (nor a submitting address of the register, ``courriels``), no
    comment of a file: only the items' public fields."""
    settings = sample_copy(tmp_path)
    path = settings.paths.contenu / "2026-12" / "courriel-recu.md"
    path.write_text("---\n# Reçu par courriel de marie.tremblay@courriel.example "
                    "(Message-ID : <abc123@mail.example>).\n# À vérifier : rien\n"
                    "titre: Nouvelle reçue par courriel\norganisme: CDC de Bellechasse\n"
                    "rubrique: nouvelles\ndate: 2026-11-20\nstatut: approuve\n"
                    "source: courriel\n---\nUn texte public.\n", encoding="utf-8")
    pipeline.approve(settings, "2026-12", "Julie Roy")
    pipeline.send(settings, "2026-12", outbox=tmp_path / "outbox")  # publishes first
    with open(REPO / "recipients.csv", encoding="utf-8") as handle:
        addresses = [row["courriel"].lower() for row in csv.DictReader(handle)]
    public = {o.courriel_public for o in settings.organizations}  # given for the directory
    addresses += [a for o in settings.organizations for a in o.courriels if a not in public]
    files = [p for p in settings.paths.site.rglob("*") if p.is_file()]
    assert any(p.name == "courriel-recu.html" for p in files)
    for path in files:
        text = path.read_text(encoding="utf-8", errors="replace").lower()
        assert not [a for a in addresses if a in text], path
        for secret in ("@@", "message-id", "marie.tremblay", "abc123", "desabonnement",
                       "désabonnement", "à vérifier", "reçu par courriel", "unsubscribe"):
            assert secret not in text, (path, secret)


def test_an_unsigned_issue_is_not_published(tmp_path):
    settings = sample_copy(tmp_path)
    with pytest.raises(DeliveryError) as caught:
        pipeline.publish(settings, "2026-12")
    assert "n'a pas été approuvé" in caught.value.message
    assert "infolettre approve 2026-12" in caught.value.fix
    assert not settings.paths.site.exists()


def test_a_changed_issue_is_not_published(tmp_path):
    settings = sample_copy(tmp_path)
    pipeline.approve(settings, "2026-12", "Julie Roy")
    item = settings.paths.contenu / "2026-12" / "frigo-communautaire-lac-etchemin.md"
    item.write_text(item.read_text(encoding="utf-8") + "\nUne phrase ajoutée.\n",
                    encoding="utf-8")
    with pytest.raises(DeliveryError) as caught:
        pipeline.publish(settings, "2026-12")
    assert "a changé" in caught.value.message and "approuvez de nouveau" in caught.value.fix
    assert not settings.paths.site.exists()


def test_a_correction_is_dated_and_the_first_publication_stays(published):
    settings, clock, site = published
    item = settings.paths.contenu / "2026-12" / "frigo-communautaire-lac-etchemin.md"
    item.write_text(item.read_text(encoding="utf-8").replace(
        "Depuis le 12 novembre", "Depuis le 13 novembre"), encoding="utf-8")
    clock.advance(days=3)
    pipeline.approve(settings, "2026-12", "Julie Roy", despite_sent=True, clock=clock)
    result = pipeline.publish(settings, "2026-12", clock=clock)
    assert (result.counts.new, result.counts.corrected, result.counts.withdrawn) == (0, 1, 0)
    text = _item_page(site, "2026-12", "frigo-communautaire-lac-etchemin")
    assert "Depuis le 13 novembre" in text and "le 12 novembre" not in text
    assert "Publié le mercredi 2\u00a0décembre 2026" in text
    assert "Corrigé le samedi 5\u00a0décembre 2026" in text
    other = _item_page(site, "2026-12", DOCUMENT_ITEM[:-3])
    assert "Corrigé le" not in other and "Publié le mercredi 2\u00a0décembre 2026" in other


def test_a_withdrawn_item_keeps_its_page_without_its_text(published):
    settings, clock, site = published
    result = withdraw_and_republish(settings, clock, "frigo-communautaire-lac-etchemin")
    assert result.counts.withdrawn == 1
    text = _item_page(site, "2026-12", "frigo-communautaire-lac-etchemin")
    assert "Ouverture d'un frigo communautaire à Lac-Etchemin" in text
    assert "Cette nouvelle a été retirée du bulletin le jeudi 3\u00a0décembre 2026." in text
    assert "Depuis le 12 novembre" not in text and "<img" not in text
    issue = (site / permalinks.issue_page("2026-12")).read_text(encoding="utf-8")
    assert "frigo-communautaire-lac-etchemin" not in issue
    assert (site / "2026-12" / "images" / "frigo-communautaire.jpg").exists()  # never deleted
    assert broken_links(site) == []


def test_an_image_that_became_a_link_is_refused(published, tmp_path):
    """An image replaced by a symbolic link: the issue is refused, nothing of the target
    reaches the site."""
    settings, clock, site = published
    secret = tmp_path / "passwd"
    secret.write_text("root:x:0:0:SECRET-DE-LA-MACHINE\n", encoding="utf-8")
    image = settings.paths.contenu / "2026-12" / "frigo-communautaire.jpg"
    image.unlink()
    image.symlink_to(secret)
    with pytest.raises(InfolettreError):
        pipeline.publish(settings, "2026-12", clock=clock)
    assert not any(b"SECRET-DE-LA-MACHINE" in p.read_bytes()
                   for p in site.rglob("*") if p.is_file())


def test_without_a_month_the_site_is_regenerated(published):
    settings, clock, site = published
    (site / permalinks.HOME).unlink()
    result = pipeline.publish(settings, clock=clock)
    assert result.month is None and result.written == (permalinks.HOME,)
    assert (site / permalinks.HOME).exists()


def test_nothing_published_yet_is_said(tmp_path):
    settings = sample_copy(tmp_path)
    with pytest.raises(BuildError) as caught:
        pipeline.publish(settings)
    assert "aucun numéro" in caught.value.message and "publish" in caught.value.fix


def test_the_public_address_is_required(tmp_path):
    settings = sample_copy(tmp_path, site=None)
    pipeline.approve(settings, "2026-12", "Julie Roy")
    with pytest.raises(BuildError) as caught:
        pipeline.publish(settings, "2026-12")
    assert caught.value.where == "[infolettre] site" and "site = " in caught.value.fix


def test_send_publishes_before_the_first_message(tmp_path):
    settings = sample_copy(tmp_path)
    pipeline.approve(settings, "2026-12", "Julie Roy")
    report, problems = pipeline.send(settings, "2026-12", outbox=tmp_path / "outbox")
    assert report.complete
    assert (settings.paths.site / permalinks.edition_page("2026-12", COMPLETE)).exists()
    assert not [p for p in problems if p.severity is not Severity.NOTICE and "publi" in p.message]
    [note] = [p for p in problems if p.kind == PUBLISHED]
    assert str(settings.paths.site / "index.html") in note.message


def test_send_goes_on_when_publishing_fails(tmp_path):
    settings = sample_copy(tmp_path)
    settings.paths.site.write_text("un fichier, pas un dossier", encoding="utf-8")
    pipeline.approve(settings, "2026-12", "Julie Roy")
    report, problems = pipeline.send(settings, "2026-12", outbox=tmp_path / "outbox")
    assert report.complete and list((tmp_path / "outbox").rglob("*.eml"))
    [warning] = [p for p in problems if "publié sur le site" in p.message]
    assert warning.severity is Severity.WARNING
    assert "relancez infolettre publish 2026-12" in warning.fix


def test_send_without_a_site_publishes_nothing(tmp_path):
    settings = sample_copy(tmp_path, site=None)
    pipeline.approve(settings, "2026-12", "Julie Roy")
    report, _problems = pipeline.send(settings, "2026-12", outbox=tmp_path / "outbox")
    assert report.complete and not settings.paths.site.exists()


def test_the_command(tmp_path, capsys):
    """``infolettre publish``: where the site is, the counts; 2 when refused."""
    config = tmp_path / "infolettre.toml"
    config.write_text(SAMPLE_CONFIG.read_text(encoding="utf-8").replace(
        'gabarits = "templates"', f'gabarits = "{(REPO / "templates").as_posix()}"'),
        encoding="utf-8")
    sample_copy(tmp_path)  # content/ beside the configuration, as it names it
    settings_paths = ["--config", str(config)]
    assert cli.main([*settings_paths, "publish", "2026-12"]) == 2
    out, err = capsys.readouterr()
    assert "n'a pas été approuvé" in err and "infolettre approve 2026-12" in err
    assert cli.main([*settings_paths, "approve", "2026-12", "--par", "Julie Roy"]) == 0
    capsys.readouterr()
    assert cli.main([*settings_paths, "publish", "2026-12"]) == 0
    out, err = capsys.readouterr()
    assert "34 nouvelle(s) publiée(s), 0 corrigée(s), 0 retirée(s)" in out
    assert str(tmp_path / "site" / "index.html") in out.replace("\n", "")
    assert cli.main([*settings_paths, "publish", "2026-13"]) == 2


def test_settings_have_the_site_folder(sample_settings):
    assert sample_settings.paths.site == REPO / "site"
    assert dataclasses.fields(sample_settings.paths)[-1].name == "site"


def test_a_territory_removed_since_keeps_its_published_items(published):
    """The site is regenerated from the records even when a territory left the settings:
    its items keep their pages (named by their slug), no link leads nowhere."""
    settings, clock, site = published
    fewer = dataclasses.replace(settings, territories={
        k: v for k, v in settings.territories.items() if k != "montmagny"})
    pipeline.publish(fewer, clock=clock)
    text = _item_page(site, "2026-12", "jardin-collectif-montmagny")
    assert "<dd>montmagny</dd>" in text
    assert broken_links(site) == []
