"""Builders shared by the render tests: items made in a test, a realistic 40-item issue.

``make_item`` fills every required field of ``models.Item`` so a test states only what it
is about; ``realistic_items`` writes items of ~100 words in every rubrique and territory,
like a busy month, to measure the weight of each edition.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from itertools import cycle
from zoneinfo import ZoneInfo

from infolettre.models import AGENDA, FUNDING, REGIONAL, Event, Issue, Item, Status
from infolettre.organize import organize
from infolettre.render.context import base_context, edition_context
from infolettre.render.environment import make_environment
from infolettre.render.personalize import Placeholders
from infolettre.settings import Settings

TZ = ZoneInfo("America/Montreal")
MONTH = "2026-12"


def make_item(slug: str, *, titre: str | None = None, territoire: str = REGIONAL,
              rubrique: str = "nouvelles", statut: Status = Status.APPROVED,
              organisme: str = "Table régionale en développement social", **extra) -> Item:
    """Build an approved item with sensible defaults; keyword arguments override them."""
    if rubrique == AGENDA and "evenement" not in extra:
        extra["evenement"] = Event(datetime(2026, 12, 10, 13, 30, tzinfo=TZ),
                                   datetime(2026, 12, 10, 16, 0, tzinfo=TZ), "Salle du conseil")
    if rubrique == FUNDING and "echeance" not in extra:
        extra["echeance"] = date(2027, 1, 15)
    return Item(slug=slug, month=MONTH, titre=titre or slug.replace("-", " ").capitalize(),
                organisme=organisme, territoire=territoire, rubrique=rubrique,
                date=extra.pop("date", date(2026, 11, 20)), statut=statut,
                corps=extra.pop("corps", "Un court texte de présentation."), **extra)


def render_context(issue: Issue, settings: Settings, slug: str,
                   placeholders: Placeholders | None = None):
    """Return (environment, context) to render edition ``slug`` as render_issue does."""
    env = make_environment(settings.paths.gabarits)
    base = base_context(issue, settings, placeholders or Placeholders(nonce="0" * 16))
    return env, edition_context(base, issue, issue.edition(slug), settings)


# --- a busy month ------------------------------------------------------------------------

_SUBJECTS = [
    ("Ouverture d'un frigo communautaire", "le frigo communautaire"),
    ("Une cuisine collective pour les familles", "la cuisine collective"),
    ("Transport solidaire vers les services de santé", "le minibus du transport solidaire"),
    ("Un comité de citoyens pour le logement abordable", "un immeuble en construction"),
    ("Rencontre régionale sur la sécurité alimentaire", "la salle de la rencontre"),
    ("Forum des aînés : briser l'isolement", "le centre des aînés"),
    ("Halte-garderie communautaire : nouvelles places", "la halte-garderie"),
    ("Portrait des besoins en transport collectif", "un abribus"),
    ("Accueil des personnes immigrantes en région", "le centre d'accueil"),
    ("Jardins collectifs : bilan de la saison", "les jardins collectifs"),
]
_SENTENCES = [
    "Le projet est né d'une démarche de concertation entre les organismes du milieu, la "
    "municipalité et des citoyennes et citoyens engagés.",
    "Au cours des derniers mois, plus de quarante personnes ont participé aux rencontres de "
    "planification et ont proposé des idées concrètes.",
    "Les partenaires souhaitent rejoindre en priorité les familles à faible revenu, les "
    "personnes aînées vivant seules et les jeunes adultes.",
    "Une première évaluation sera présentée à la table de développement social au "
    "printemps, avec des recommandations pour la suite.",
    "Le financement provient en partie de l'Alliance pour la solidarité et d'une "
    "contribution des caisses Desjardins du secteur.",
    "Les bénévoles intéressés peuvent s'inscrire dès maintenant ; une formation d'accueil "
    "est offerte en soirée.",
    "L'équipe remercie chaleureusement les commerçants qui ont fourni des denrées, du "
    "matériel et beaucoup d'encouragements.",
    "Pour en savoir davantage, communiquez avec l'organisme porteur, qui se fera un plaisir "
    "de répondre à vos questions.",
]


def _body(n: int, words: int = 100) -> str:
    """A ~``words``-word French body in two paragraphs, with a link and a short list."""
    sentences = cycle(_SENTENCES[n % len(_SENTENCES):] + _SENTENCES[:n % len(_SENTENCES)])
    text: list[str] = []
    while len(" ".join(text).split()) < words - 25:
        text.append(next(sentences))
    half = len(text) // 2
    return (" ".join(text[:half]) + "\n\n" + " ".join(text[half:]) +
            f" Détails sur [le site du projet](https://example.org/projets/{n}).\n\n"
            "- inscription gratuite ;\n- places limitées.")


def realistic_items(settings: Settings, count: int = 40, words: int = 100) -> list[Item]:
    """Return ``count`` approved items of ~``words`` words over every rubrique and territory."""
    territories = cycle([REGIONAL, *settings.territories])
    rubriques = cycle(settings.rubriques)
    orgs: dict[str, list[str]] = {}
    for org in settings.organizations:
        orgs.setdefault(org.territoire, []).append(org.nom)
    items = []
    for n in range(count):
        territoire, rubrique = next(territories), next(rubriques)
        titre, thing = _SUBJECTS[n % len(_SUBJECTS)]
        extra: dict = {}
        if rubrique == AGENDA:
            start = datetime(2026, 12, 3, 9, 0, tzinfo=TZ) + timedelta(days=n % 25, hours=n % 5)
            extra["evenement"] = Event(start, start + timedelta(hours=3),
                                       "Centre communautaire, 12, rue de l'Église")
        if rubrique == FUNDING:
            extra["echeance"] = date(2027, 1, 10) + timedelta(days=n * 3)
        if n % 4 == 0:
            extra["lien"] = f"https://example.org/nouvelles/{n}"
        if n % 9 == 0:
            extra.update(image=f"photo-{n}.jpg",
                         image_alt=f"Bénévoles et participants devant {thing}")
        items.append(make_item(
            f"item-{n:02d}", titre=f"{titre} ({n})", territoire=territoire, rubrique=rubrique,
            organisme=orgs[territoire][n % len(orgs[territoire])],
            corps=_body(n, words), date=date(2026, 11, 1 + n % 28), **extra))
    return items


def realistic_issue(settings: Settings, count: int = 40, *, preview: bool = False) -> Issue:
    """Organize ``realistic_items`` into the December 2026 issue."""
    return organize(realistic_items(settings, count), settings, MONTH, preview=preview)
