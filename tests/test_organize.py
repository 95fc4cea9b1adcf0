"""Organize: approved items → sections, editions, agenda and calls, in a documented order."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from infolettre.errors import Severity
from infolettre.models import COMPLETE, Event, Item, SectionKind, Status
from infolettre.organize import organize

TZ = ZoneInfo("America/Montreal")


def item(slug, territoire="les-etchemins", rubrique="nouvelles", statut=Status.APPROVED,
         day=date(2026, 11, 10), **extra):
    return Item(slug=slug, month="2026-12", titre=extra.pop("titre", slug.title()),
                organisme="CDC des Etchemins", territoire=territoire, rubrique=rubrique,
                date=day, statut=statut, **extra)


def event(slug, start, end=None, territoire="les-etchemins"):
    return item(slug, territoire, "agenda", evenement=Event(start, end, "Salle"))


def at(d, h=10):
    return datetime(2026, 12, d, h, tzinfo=TZ) if d >= 1 else None


def section(edition, key):
    return next((s for s in edition.sections if s.key == key), None)


def test_only_approved_items_go_out(sample_settings):
    """Submitted, refused and held items are left out; preview shows them all."""
    items = [item("ok"), item("soumis", statut=Status.SUBMITTED),
             item("refuse", statut=Status.REFUSED), item("retenu", statut=Status.HELD)]
    assert [i.slug for i in organize(items, sample_settings, "2026-12").items] == ["ok"]
    preview = organize(items, sample_settings, "2026-12", preview=True)
    assert preview.preview and len(preview.items) == 4


def test_territorial_edition_sections(sample_settings):
    """A territory's edition: Chez vous first, then Régional, Agenda, Financement, Ailleurs."""
    items = [item("reg", "regional"), item("local"), item("voisin", "bellechasse"),
             event("fete", at(5)), item("appel", rubrique="financement",
                                        echeance=date(2027, 1, 15))]
    issue = organize(items, sample_settings, "2026-12")
    etchemins = issue.edition("les-etchemins")
    assert [s.key for s in etchemins.sections] == [
        "chez-vous", "regional", "agenda", "financement", "ailleurs"]
    assert [i.slug for i in section(etchemins, "chez-vous").items] == ["local"]
    ailleurs = section(etchemins, "ailleurs")
    assert ailleurs.kind is SectionKind.HEADLINES
    assert [(g.key, [i.slug for i in g.items]) for g in ailleurs.groups] == [("bellechasse", ["voisin"])]
    bellechasse = issue.edition("bellechasse")
    assert section(bellechasse, "agenda") is None  # the event is local to Les Etchemins
    assert "fete" in [i.slug for g in section(bellechasse, "ailleurs").groups for i in g.items]


def test_empty_chez_vous_is_kept_other_empty_sections_dropped(sample_settings):
    """« Chez vous » stays (to invite submissions); an empty agenda is dropped."""
    issue = organize([item("reg", "regional")], sample_settings, "2026-12")
    keys = [s.key for s in issue.edition("montmagny").sections]
    assert keys == ["chez-vous", "regional"]


def test_complete_edition_has_every_territory(sample_settings):
    """The complete edition holds the regional section and each territory's news."""
    items = [item("reg", "regional"), item("a"), item("b", "montmagny")]
    complete = organize(items, sample_settings, "2026-12").edition(COMPLETE)
    assert [s.key for s in complete.sections] == ["regional", "les-etchemins", "montmagny"]
    assert len(organize(items, sample_settings, "2026-12").editions) == 6


def test_past_events_dropped_upcoming_in_date_order(sample_settings):
    """Events that ended before publication are dropped (with a note); others by start."""
    items = [event("tard", at(20)), event("tot", at(3)),
             event("passe", datetime(2026, 11, 27, 10, tzinfo=TZ)),
             event("en-cours", datetime(2026, 11, 30, 9, tzinfo=TZ), at(2, 17))]
    issue = organize(items, sample_settings, "2026-12")
    agenda = section(issue.edition(COMPLETE), "agenda")
    assert [i.slug for i in agenda.items] == ["en-cours", "tot", "tard"]
    assert any("passé" in n.message and n.severity is Severity.NOTICE for n in issue.notices)


def test_open_calls_by_deadline_expired_dropped(sample_settings):
    """Calls for projects: open ones by deadline; expired ones dropped with a note."""
    items = [item("mars", rubrique="financement", echeance=date(2027, 3, 1)),
             item("janv", rubrique="financement", echeance=date(2027, 1, 15)),
             item("echu", rubrique="financement", echeance=date(2026, 11, 20)),
             item("jour-meme", rubrique="financement", echeance=date(2026, 12, 1))]
    issue = organize(items, sample_settings, "2026-12")
    funding = section(issue.edition(COMPLETE), "financement")
    assert [i.slug for i in funding.items] == ["jour-meme", "janv", "mars"]
    assert any("échu" in n.message for n in issue.notices)


def test_same_day_same_territory_is_a_possible_clash(sample_settings):
    """Two events the same day in one territory are flagged; other territories are not."""
    items = [event("a", at(5, 10)), event("b", at(5, 19)), event("c", at(5), territoire="montmagny")]
    clashes = [n for n in organize(items, sample_settings, "2026-12").notices if "conflit" in n.message]
    assert len(clashes) == 1 and "« A »" in clashes[0].message and "« B »" in clashes[0].message


def test_news_order_is_rubrique_then_newest_then_title(sample_settings):
    """Within a section: rubrique order from the config, newest first, then title."""
    items = [item("vieux", day=date(2026, 11, 1)), item("b-neuf", day=date(2026, 11, 20)),
             item("a-neuf", day=date(2026, 11, 20)), item("bon-coup", rubrique="bons-coups")]
    chez_vous = section(organize(items, sample_settings, "2026-12").edition("les-etchemins"),
                        "chez-vous")
    assert [(g.key, [i.slug for i in g.items]) for g in chez_vous.groups] == [
        ("nouvelles", ["a-neuf", "b-neuf", "vieux"]), ("bons-coups", ["bon-coup"])]


def test_parution_date_moves_the_cutoff(sample_settings):
    """A later publication date drops the events before it."""
    items = [event("tot", at(3)), event("tard", at(20))]
    issue = organize(items, sample_settings, "2026-12", parution=date(2026, 12, 10))
    assert [i.slug for i in section(issue.edition(COMPLETE), "agenda").items] == ["tard"]


def test_each_recipient_reads_their_territorys_edition_else_the_complete_one(sample_settings):
    """Organize's rule for who gets which: a territory's people get its edition; regional
    people, and a territory unknown this month, get the complete edition."""
    from infolettre.models import REGIONAL, Recipient

    issue = organize([item("a")], sample_settings, "2026-12")
    assert issue.edition_slug_for(Recipient("a@x.org", territoire="montmagny")) == "montmagny"
    assert issue.edition_slug_for(Recipient("b@x.org", territoire=REGIONAL)) == COMPLETE
    assert issue.edition_slug_for(Recipient("c@x.org", territoire="ailleurs")) == COMPLETE
