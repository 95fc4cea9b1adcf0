"""A generated year of issues for the circulation report and the reminder of the silent:
twelve months of items written into a throwaway project's ``content/`` by the content
store's own writer, with every organization's habits chosen so the report has something to
say (steady voices, organizations that fell silent, one never heard, one that only writes
refused items, held mail from outside the registry, all three sources, every rubrique,
mixed statuses, an event already over when its issue came out).

``file_counts`` reads the files back with python-frontmatter, independently of the code
under test, and counts what the report should say.
"""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import frontmatter

from infolettre.content import write_draft
from infolettre.models import ItemDraft, Month
from infolettre.settings import Settings

MONTHS = [Month(f"2026-{n:02d}") for n in range(1, 13)]
RUBRIQUES = ["nouvelles", "bons-coups", "ressources", "agenda", "financement"]
SOURCES = ["fichier", "courriel", "rss"]

#: Organization → the months (1 to 12) it writes in, and how many items each time.
HABITS = {
    "Alliance pour la solidarité de Chaudière-Appalaches": (range(1, 13), 1),
    "Table régionale en développement social": (range(1, 13, 2), 1),
    "Centraide Québec et Chaudière-Appalaches": (range(1, 10), 1),   # silent since October
    "CISSS de Chaudière-Appalaches": ((), 0),                        # never heard
    "CDC de Bellechasse": (range(1, 13), 2),
    "Entraide Bellechasse": (range(1, 8), 1),                        # silent since August
    "CDC des Appalaches": (range(1, 13), 1),
    "Maison de la famille des Appalaches": ((11,), 1),               # one item, never approved
    "CDC des Etchemins": (range(1, 13), 2),
    "Transport collectif des Etchemins": (range(1, 13), 1),          # refused from October
    "CDC de Lotbinière": ((3, 9), 1),                                # Lotbinière: quiet
    "Carrefour jeunesse-emploi de Lotbinière": ((), 0),
    "CDC Ici Montmagny-L'Islet": (range(1, 13), 2),
    "Comptoir alimentaire de Montmagny": (range(2, 13), 1),
}
UNKNOWN = "Groupe citoyen inconnu"  # held mail from outside the registry, every quarter


@dataclass
class Year:
    """What was written: each file, and the month of each."""

    files: list[Path] = field(default_factory=list)


def _status(org: str, month: int, rng: random.Random) -> str:
    if org == "Maison de la famille des Appalaches":
        return "soumis"
    if org == "Transport collectif des Etchemins" and month >= 10:
        return "refuse"
    return rng.choices(["approuve", "soumis", "refuse"], weights=[8, 1, 1])[0]


def _front(settings: Settings, org: str, month: Month, n: int, rubrique: str, status: str,
           source: str, territory: str) -> dict:
    front = {"titre": f"{org} — {rubrique} n° {n} de {month}", "organisme": org,
             "territoire": territory, "rubrique": rubrique, "date": month.first_day.replace(day=5),
             "statut": status, "source": source}
    if rubrique == "agenda":
        over = (n // 5) % 2 == 0  # every other event happened the month before: over
        start = month.previous().first_day.replace(day=27) if over else \
            month.first_day.replace(day=20)
        front["evenement"] = {"debut": f"{start.isoformat()} 10:00", "lieu": "Salle municipale"}
    if rubrique == "financement":
        front["echeance"] = month.first_day.replace(day=25)
    return front


def write_year(settings: Settings, seed: int = 18) -> Year:
    """Write the twelve months of items with the content store's writer."""
    rng, year, n = random.Random(seed), Year(), 0
    for org, (months, per_issue) in HABITS.items():
        territory = settings.organization(org).territoire
        for number in months:
            month = MONTHS[number - 1]
            for _k in range(per_issue):
                n += 1
                rubrique = RUBRIQUES[n % len(RUBRIQUES)]
                source = SOURCES[(n // 2) % len(SOURCES)]
                place = territory
                if territory != "regional" and n % 11 == 0:
                    place = "regional"  # a local organization writing for the whole region
                draft = ItemDraft(
                    front_matter=_front(settings, org, month, n, rubrique,
                                        _status(org, number, rng), source, place),
                    corps=f"Texte de la nouvelle n° {n}, avec des accents : été, Lévis.\n",
                    slug=f"item-{n:03d}", message_id=f"<{n}@example.org>",
                    sender="delegue@example.org", digest=f"d{n}", origin="Généré.")
                year.files.append(write_draft(settings, month, draft))
    for number in range(3, 13, 3):
        n += 1
        draft = ItemDraft(front_matter={"titre": "Nouvelle d'un groupe inconnu",
                                        "organisme": UNKNOWN, "territoire": "lotbiniere",
                                        "rubrique": "nouvelles",
                                        "date": MONTHS[number - 1].first_day, "statut": "retenu",
                                        "source": "courriel"},
                          corps="Bonjour.\n", slug=f"retenu-{n}", message_id=f"<{n}@x.org>",
                          sender="inconnu@example.net", digest=f"r{n}", origin="Généré.")
        year.files.append(write_draft(settings, MONTHS[number - 1], draft))
    return year


@dataclass
class FileCounts:
    """The report's figures, counted from the files alone."""

    total: int
    left_out: Counter
    territory: Counter
    territory_month: dict
    organization: Counter
    rubrique: Counter
    source: Counter
    territory_rubrique: dict
    territory_source: dict
    elsewhere: Counter          # territory → its local items that reached other editions
    regional_reached: int
    silent: dict                # organization → (issues, since, last heard)


def _over(meta: dict, month: Month) -> bool:
    """Tell whether an agenda item or a call had ended before its issue's first day."""
    if meta["rubrique"] == "agenda":
        start = meta["evenement"]["debut"]
        start = date.fromisoformat(str(start)[:10])
        return start < month.first_day
    if meta["rubrique"] == "financement":
        return date.fromisoformat(str(meta["echeance"])) < month.first_day
    return False


def file_counts(settings: Settings, window: list[Month], *, silence_after: int = 3,
                history: list[Month] | None = None) -> FileCounts:
    """Count, from the front matter of the files of ``content/``, what the report says."""
    history = history or window
    root = settings.paths.contenu
    posts = {m: [frontmatter.load(p).metadata for p in sorted((root / m).glob("*.md"))]
             for m in history if (root / m).is_dir()}
    total, left_out, territory = 0, Counter(), Counter()
    territory_month, organization = defaultdict(Counter), Counter()
    rubrique, source = Counter(), Counter()
    t_rub, t_src, elsewhere = defaultdict(Counter), defaultdict(Counter), Counter()
    regional = 0
    for month in window:
        for meta in posts.get(month, []):
            if meta["statut"] != "approuve":
                left_out[meta["statut"]] += 1
                continue
            total += 1
            t = meta["territoire"]
            territory[t] += 1
            territory_month[t][month] += 1
            organization[meta["organisme"]] += 1
            rubrique[meta["rubrique"]] += 1
            source[meta["source"]] += 1
            t_rub[t][meta["rubrique"]] += 1
            t_src[t][meta["source"]] += 1
            if not _over(meta, month):
                if t == "regional":
                    regional += 1
                else:
                    elsewhere[t] += 1
    last: dict[str, int] = {}
    for index, month in enumerate(history):
        for meta in posts.get(month, []):
            if meta["statut"] in ("soumis", "approuve"):
                last[meta["organisme"]] = index
    silent = {}
    for org in settings.organizations:
        index = last.get(org.nom)
        issues = len(history) - 1 - index if index is not None else len(history)
        if issues >= silence_after:
            silent[org.nom] = (issues, history[len(history) - issues],
                               history[index] if index is not None else None)
    return FileCounts(total, left_out, territory, territory_month, organization, rubrique,
                      source, t_rub, t_src, elsewhere, regional, silent)
