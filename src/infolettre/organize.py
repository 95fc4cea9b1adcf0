"""Items → Issue: sections, editions, agenda and calls for funding. Pure: no I/O.

Which items: only ``statut: approuve`` ones, unless ``preview`` (then every item, shown with
its status). Events that ended before the publication date and calls whose deadline passed
are left out, each with a note for the pivot — a warning naming it when the item is not
approved yet (submitted or held: the pivot may not know it will never appear, see
``expired_pending``); same-day events in one territory are reported as possible clashes.

Editions: one per territory — *Chez vous* (that territory), *Régional*, *Agenda* and
*Financement* (regional and that territory's), *Ailleurs dans la région* (headlines from the
other territories) — and the *complete* edition: *Régional*, every territory, the whole
agenda and every open call.

Stable order (documented for the pivot):
- news sections: by rubrique in the order of ``[rubriques]``, then newest ``date`` first,
  then title (case-insensitive), then file name;
- agenda: by start time, then title; financement: by deadline, then title;
- headlines: by territory in the order of ``[territoires]``, then as news sections.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from itertools import groupby

from .errors import Problem, Severity
from .i18n import _
from .models import (AGENDA, COMPLETE, FUNDING, REGIONAL, Edition, Group, Issue, Item,
                     Month, Section, SectionKind, Status)
from .dates import long_date
from .settings import Settings

SPECIAL = (AGENDA, FUNDING)


def organize(items: list[Item], settings: Settings, month: str, *,
             parution: date | None = None, preview: bool = False) -> Issue:
    """Build the issue of ``month`` from its items (the organize stage)."""
    parution = parution or Month(month).first_day
    chosen = [i for i in items if preview or i.approved]
    notices: list[Problem] = []
    events = upcoming_events(chosen, parution, notices)
    calls = open_calls(chosen, parution, notices)
    notices += expired_pending([i for i in items if not (preview or i.approved)], parution)
    notices += clashes(events, settings)
    news = [i for i in chosen if i.rubrique not in SPECIAL]
    kept = sorted(news, key=lambda i: news_key(i, settings)) + events + calls
    editions = [territorial_edition(t, news, events, calls, settings) for t in settings.territories]
    editions.append(complete_edition(news, events, calls, settings))
    return Issue(month=month, parution=parution, items=tuple(kept), editions=tuple(editions),
                 notices=tuple(notices), preview=preview)


def news_key(item: Item, settings: Settings) -> tuple:
    """Sort key of news sections: rubrique order, newest first, title, file name."""
    return (settings.rubrique_rank(item.rubrique), -item.date.toordinal(),
            item.titre.casefold(), item.slug)


def upcoming_events(items: list[Item], parution: date, notices: list[Problem]) -> list[Item]:
    """Keep agenda items that have not ended by the publication date, in start order."""
    kept = []
    for item in (i for i in items if i.rubrique == AGENDA and i.evenement):
        if expired(item, parution):
            notices.append(expired_notice(item, parution))
        else:
            kept.append(item)
    return sorted(kept, key=lambda i: (i.evenement.debut, i.titre.casefold(), i.slug))


def open_calls(items: list[Item], parution: date, notices: list[Problem]) -> list[Item]:
    """Keep calls for projects still open at the publication date, by deadline."""
    kept = []
    for item in (i for i in items if i.rubrique == FUNDING and i.echeance):
        if expired(item, parution):
            notices.append(expired_notice(item, parution))
        else:
            kept.append(item)
    return sorted(kept, key=lambda i: (i.echeance, i.titre.casefold(), i.slug))


def expired(item: Item, parution: date) -> date | None:
    """Return the day an agenda event ended or a call closed, when before ``parution``."""
    if item.rubrique == AGENDA and item.evenement:
        day = (item.evenement.fin or item.evenement.debut).date()
    elif item.rubrique == FUNDING and item.echeance:
        day = item.echeance
    else:
        return None
    return day if day < parution else None


def expired_notice(item: Item, parution: date) -> Problem:
    """Say that an expired item is left out: a note when decided, else a warning.

    An item not approved yet is named, with what to do: the pivot might otherwise approve
    it and never see it in the issue (mail and feeds bring items for the issue in
    preparation, whatever their dates).
    """
    day = long_date(expired(item, parution))
    if item.statut in (Status.APPROVED, Status.REFUSED):  # (refused: shown in a preview)
        text = _("événement passé (le {day}), retiré du numéro.") if item.rubrique == AGENDA \
            else _("appel échu (le {day}), retiré du numéro.")
        return Problem(Severity.NOTICE, text.format(day=day), item.path)
    text = _("« {titre} » : événement passé le {day}, avant la parution du numéro ({parution}) "
             ": il n'y paraîtra pas, même approuvé.") if item.rubrique == AGENDA else \
        _("« {titre} » : date limite passée le {day}, avant la parution du numéro ({parution}) "
          ": l'appel n'y paraîtra pas, même approuvé.")
    return Problem(Severity.WARNING, text.format(titre=item.titre, day=day,
                                                 parution=long_date(parution)), item.path,
                   fix=_("Corrigez la date si elle est fausse ; sinon refusez la nouvelle "
                         "(statut: refuse), ou déplacez le fichier dans le dossier d'un numéro "
                         "pas encore envoyé."))


def expired_pending(items: list[Item], parution: date) -> list[Problem]:
    """Warn about items left out of the issue, not approved yet, whose date is past.

    Refused items are the pivot's decision already: nothing to say about them.
    """
    return [expired_notice(i, parution) for i in items
            if i.statut is not Status.REFUSED and expired(i, parution)]


#: The ``kind`` of the possible-clash notes, so a page can show them apart.
CLASH = "conflit"


def same_day_events(events: list[Item]) -> list[tuple[str, date, list[Item]]]:
    """Group events starting the same day in the same territory (two or more), by day.

    The one definition of an agenda clash: ``check`` notes them for the issue's events, the
    review app's home lists them over every event not refused yet.
    """
    def key(i: Item) -> tuple[str, date]:
        return i.territoire, i.evenement.debut.date()
    groups = []
    for (territory, day), group in groupby(sorted(events, key=key), key=key):
        group = sorted(group, key=lambda i: (i.evenement.debut, i.slug))
        if len(group) > 1:
            groups.append((territory, day, group))
    return sorted(groups, key=lambda g: (g[1], g[0]))


def clashes(events: list[Item], settings: Settings) -> list[Problem]:
    """Report events on the same day in the same territory: organizers may want to know."""
    found = []
    for territory, day, group in same_day_events(events):
        titles = " ; ".join(f"« {i.titre} » ({i.organisme})" for i in group)
        found.append(Problem(
            Severity.NOTICE,
            _("conflit d'horaire possible le {day} ({territory}) : {titles}.").format(
                day=long_date(day), territory=settings.territory_name(territory), titles=titles),
            group[0].path,
            fix=_("Prévenez les organisateurs si leurs publics se recoupent."), kind=CLASH))
    return found


def by_rubrique(items: list[Item], settings: Settings) -> tuple[Group, ...]:
    """Group news under their rubrique, in the configured order."""
    buckets: dict[str, list[Item]] = defaultdict(list)
    for item in sorted(items, key=lambda i: news_key(i, settings)):
        buckets[item.rubrique].append(item)
    return tuple(Group(r, settings.rubriques[r], tuple(buckets[r]))
                 for r in settings.rubriques if buckets.get(r))


def news_section(key: str, titre: str, items: list[Item], settings: Settings) -> Section:
    return Section(key, titre, SectionKind.FULL, by_rubrique(items, settings))


def dated_section(rubrique: str, kind: SectionKind, items: list[Item],
                  settings: Settings) -> Section:
    return Section(rubrique, settings.rubriques.get(rubrique, rubrique), kind,
                   (Group(rubrique, "", tuple(items)),))


def in_territories(items: list[Item], *slugs: str) -> list[Item]:
    return [i for i in items if i.territoire in slugs]


def territorial_edition(slug: str, news: list[Item], events: list[Item], calls: list[Item],
                        settings: Settings) -> Edition:
    """Build the edition read in one territory."""
    name = settings.territories[slug]
    elsewhere = [Group(t, settings.territories[t],
                       tuple(sorted(in_territories(news + events + calls, t),
                                    key=lambda i: news_key(i, settings))))
                 for t in settings.territories if t != slug]
    # The reader's own territory first: what happens near them is why they open it.
    sections = [
        news_section("chez-vous", _("Chez vous — {name}").format(name=name),
                     in_territories(news, slug), settings),
        news_section(REGIONAL, _("Régional"), in_territories(news, REGIONAL), settings),
        dated_section(AGENDA, SectionKind.AGENDA, in_territories(events, REGIONAL, slug), settings),
        dated_section(FUNDING, SectionKind.FUNDING, in_territories(calls, REGIONAL, slug),
                      settings),
        Section("ailleurs", _("Ailleurs dans la région"), SectionKind.HEADLINES,
                tuple(g for g in elsewhere if g.items)),
    ]
    keep = [s for s in sections if s or s.key == "chez-vous"]
    return Edition(slug, _("Édition {name}").format(name=name), tuple(keep))


def complete_edition(news: list[Item], events: list[Item], calls: list[Item],
                     settings: Settings) -> Edition:
    """Build the edition with every section: regional bodies, print, web archive."""
    sections = [news_section(REGIONAL, _("Régional"), in_territories(news, REGIONAL), settings)]
    sections += [news_section(t, name, in_territories(news, t), settings)
                 for t, name in settings.territories.items()]
    sections += [dated_section(AGENDA, SectionKind.AGENDA, events, settings),
                 dated_section(FUNDING, SectionKind.FUNDING, calls, settings)]
    return Edition(COMPLETE, _("Édition complète"), tuple(s for s in sections if s))
