"""Benchmark: the review app — server time per page, and the pivot's actions for a month.

Run from the repository root (see bench/README.md):

    .venv/bin/python bench/review.py                 # 200-item pages, then the 40-item month
    .venv/bin/python bench/review.py --items 500 --requests 50 --no-browser

(a) **Server time per page**: a throwaway project (a copy of ``infolettre.toml``, templates
    pointed back at the repository) whose month 2026-12 holds ``--items`` generated items
    (written by the content store, ``content.write_draft``: every territory and rubrique,
    a mix of statuses), the app built by ``create_app`` with a ``FixedClock``; the pivot
    signed in through Flask's test client, then ``GET /`` and ``GET /nouvelles`` each
    ``--requests`` times after two warm-ups: the median, in process (no network).
(b) **The pivot's actions** for a month of ``--month-items`` submitted items, in Debian's
    chromium (Playwright) against the app served by waitress on loopback, from « the
    submissions arrived » (every item ``soumis``) to « the issue is signed off »: every
    click and form submission goes through ``Pivot.click``, which counts it; typing in a
    field is counted apart (« saisies »), never as an action. Twice: a clean month (one bulk
    « Approuver la sélection », then « Approuver le numéro ») and a month where 3 items
    need a fix (an unknown rubrique: « Modifier », choose it, « Enregistrer »). The run
    checks that the issue ends approved (``review`` sign-off rows), or says what stopped it.

The target (issue 12): ≤ 15 actions for the clean month, plus ≤ 2 per fixed item. The last
line is ``RATIO review_actions <clean actions / 15>`` (≤ 1 meets the target). Nothing here
asserts a duration.
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
for entry in (str(REPO / "src"), str(REPO)):  # runnable without an editable install
    if entry not in sys.path:
        sys.path.insert(0, entry)

from infolettre import pipeline  # noqa: E402
from infolettre.clock import FixedClock  # noqa: E402
from infolettre.content import write_draft  # noqa: E402
from infolettre.models import ItemDraft  # noqa: E402
from infolettre.settings import Settings, load_settings  # noqa: E402

MONTH = "2026-12"
NOW = datetime(2026, 12, 2, 9, 0, tzinfo=ZoneInfo("America/Toronto"))
PIVOT, PASSWORD = "pivot@example.org", "une longue phrase de passe"
STATUSES = ("soumis", "soumis", "approuve", "approuve", "approuve", "refuse")
BODY = ("{org} annonce une nouvelle activité ouverte à toute la population du territoire. "
        "Les inscriptions sont gratuites et l'accueil se fait en français et en anglais.\n\n"
        "Pour en savoir plus, écrivez à l'organisme ou consultez son site.")


def make_project(root: Path, items: int, *, status: str | None = None,
                 broken: int = 0) -> Settings:
    """Write a throwaway project in ``root`` with ``items`` generated items in 2026-12
    (``status`` for all, or a mix); the first ``broken`` have an unknown rubrique."""
    text = (REPO / "infolettre.toml").read_text(encoding="utf-8")
    text = re.sub(r'(?m)^gabarits = "templates"', f'gabarits = "{(REPO / "templates").as_posix()}"',
                  text)
    (root / "infolettre.toml").write_text(text, encoding="utf-8")
    (root / "content").mkdir()
    settings = load_settings(root / "infolettre.toml")
    orgs = [o for o in settings.organizations if o.territoire in settings.territories]
    rubriques = ["nouvelles", "bons-coups", "ressources", "agenda", "financement"]
    for n in range(items):
        org, rubrique = orgs[n % len(orgs)], rubriques[n % len(rubriques)]
        front = {"titre": f"Nouvelle numéro {n + 1} de {org.nom}", "organisme": org.nom,
                 "territoire": org.territoire, "rubrique": rubrique, "date": "2026-11-25",
                 "statut": status or STATUSES[n % len(STATUSES)], "source": "fichier"}
        if rubrique == "agenda":
            front["evenement"] = {"debut": f"2026-12-{10 + n % 15:02d} 13:30",
                                  "lieu": "Salle communautaire"}
        if rubrique == "financement":
            front["echeance"] = "2027-01-30"
        if n < broken:
            front["rubrique"] = "nouvelle"  # a typo: « rubrique « nouvelle » inconnue »
        write_draft(settings, MONTH, ItemDraft(
            front_matter=front, corps=BODY.format(org=org.nom), slug=f"nouvelle-{n + 1:03d}",
            message_id=None, sender="", digest="", origin="Écrit par bench/review.py."))
    return settings


def page_times(settings: Settings, requests: int) -> dict[str, float]:
    """Return the median server time (ms) of the home and list pages, in process."""
    from infolettre.web import create_app

    clock = FixedClock(NOW)
    pipeline.user_add(settings, PIVOT, PASSWORD, clock=clock)
    client = create_app(settings, clock=clock, testing=True).test_client()
    form = client.get("/connexion").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
    client.post("/connexion", data={"courriel": PIVOT, "mot_de_passe": PASSWORD,
                                    "csrf_token": token})
    medians = {}
    for path in (f"/?numero={MONTH}", f"/nouvelles?numero={MONTH}"):
        status = client.get(path).status_code
        client.get(path)
        runs = []
        for _ in range(requests):
            start = time.perf_counter()
            client.get(path)
            runs.append((time.perf_counter() - start) * 1000)
        medians[path] = statistics.median(runs) if status == 200 else float("nan")
        print(f"  GET {path:<28} {medians[path]:8.1f} ms (médiane de {requests})"
              + ("" if status == 200 else f"   — réponse {status} : page absente"))
    return medians


class Pivot:
    """The pivot in the browser: every click and form submission is counted."""

    def __init__(self, page, base: str):
        self.page, self.base = page, base
        self.actions: list[str] = []
        self.typed = 0

    def click(self, locator, what: str) -> None:
        locator.click()
        self.page.wait_for_load_state()
        self.actions.append(what)

    def fill(self, locator, value: str) -> None:
        locator.fill(value)
        self.typed += 1

    def choose(self, locator, label: str) -> None:
        locator.select_option(label=label)
        self.typed += 1


def review_month(browser, settings: Settings, broken: int) -> Pivot:
    """Do the month as the pivot would, in the browser; return the counted pivot."""
    sys.path.insert(0, str(REPO))
    from tests.browser.conftest import Server

    clock = FixedClock(NOW)
    pipeline.user_add(settings, PIVOT, PASSWORD, clock=clock)
    server = Server(settings, clock)
    context = browser.new_context(base_url=server.url, locale="fr-CA")
    context.set_default_timeout(10_000)  # a hang guard (a missing button stops the run)
    page = context.new_page()
    pivot = Pivot(page, server.url)
    try:
        page.goto("/")  # the address the pivot was sent: not an action
        pivot.fill(page.get_by_label("Courriel"), PIVOT)
        pivot.fill(page.get_by_label("Mot de passe"), PASSWORD)
        pivot.click(page.get_by_role("button", name="Se connecter"), "Se connecter")
        nav = page.locator("header nav")
        pivot.click(nav.get_by_role("link", name=re.compile("nouvelles", re.I)), "Les nouvelles")
        for _ in range(broken):
            fix_one(pivot)
        bulk_approve(pivot)
        pivot.click(nav.get_by_role("link", name=re.compile("Approbation|Approuver", re.I)),
                    "page Approuver le numéro")
        pivot.click(page.get_by_role("button", name="Approuver le numéro"),
                    "Approuver le numéro")
    finally:
        context.close()
        server.stop()
    return pivot


def fix_one(pivot: Pivot) -> None:
    """From the list: « Modifier » the first item with the unknown rubrique, choose it,
    « Enregistrer »; back to the list if the app did not go there."""
    page = pivot.page
    row = page.locator("tr").filter(has_text="rubrique « nouvelle » inconnue").first
    pivot.click(row.get_by_role("link", name="Modifier"), "Modifier")
    pivot.choose(page.get_by_label("Rubrique"), "Nouvelles des concertations")
    pivot.click(page.get_by_role("button", name="Enregistrer"), "Enregistrer")
    if not re.search(r"/nouvelles/?(\?|$)", page.url):
        pivot.click(page.locator("header nav").get_by_role("link", name="Les nouvelles"),
                    "retour à la liste")


def bulk_approve(pivot: Pivot) -> None:
    """Approve what is left in one submission: « Approuver les N nouvelles soumises sans
    problème » if the list has it; else a « Tout sélectionner », else each box of a
    ``soumis`` row (one click each), then « Approuver la sélection »."""
    page = pivot.page
    clean = page.get_by_role("button", name=re.compile("soumises? sans problème"))
    if clean.count():
        pivot.click(clean.first, "Approuver les nouvelles sans problème")
        return
    everything = page.get_by_label(re.compile("Tout sélectionner|Tout cocher", re.I))
    if everything.count():
        pivot.click(everything.first, "Tout sélectionner")
    else:
        boxes = page.locator('tr.statut-soumis input[type="checkbox"]')
        for n in range(boxes.count()):
            boxes.nth(n).check()
            pivot.actions.append("cocher")
    pivot.click(page.get_by_role("button", name="Approuver la sélection"),
                "Approuver la sélection")


def signed_off(settings: Settings) -> bool:
    """Tell whether the month has a sign-off (the row ``infolettre approve`` writes too)."""
    from contextlib import closing

    from infolettre.state import connect, state_file
    from infolettre.state.signatures import SignoffStore

    with closing(connect(state_file(settings.paths.donnees))) as conn:
        return SignoffStore(conn).current(MONTH) is not None


def browser_part(month_items: int) -> int | None:
    """Run (b) for a clean month and one with 3 fixes; return the clean month's actions."""
    sys.path.insert(0, str(REPO))
    from playwright.sync_api import sync_playwright

    from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, _browser_env

    clean = None
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS,
                                             env=_browser_env())
        for broken in (0, 3):
            with tempfile.TemporaryDirectory(prefix="infolettre-review-") as folder:
                settings = make_project(Path(folder), month_items, status="soumis",
                                        broken=broken)
                label = "propre" if broken == 0 else f"{broken} à corriger"
                try:
                    pivot = review_month(browser, settings, broken)
                except Exception as exc:  # a page of the contract is missing: say which
                    print(f"  mois {label} : arrêté — {type(exc).__name__}: "
                          f"{str(exc).splitlines()[0]}")
                    continue
                done = signed_off(settings)
                print(f"  mois {label} ({month_items} nouvelles) : {len(pivot.actions)} actions"
                      f" (+ {pivot.typed} saisies), numéro approuvé : "
                      f"{'oui' if done else 'NON'}")
                print("    " + " → ".join(pivot.actions))
                if broken == 0 and done:
                    clean = len(pivot.actions)
        browser.close()
    return clean


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=200)
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--month-items", type=int, default=40)
    parser.add_argument("--no-browser", action="store_true")
    args = parser.parse_args()
    print(f"(a) temps serveur par page, mois de {args.items} nouvelles générées")
    with tempfile.TemporaryDirectory(prefix="infolettre-review-") as folder:
        page_times(make_project(Path(folder), args.items), args.requests)
    clean = None
    if not args.no_browser:
        print(f"(b) actions de la personne pivot dans chromium, mois de {args.month_items} "
              "nouvelles soumises → numéro approuvé (cible : ≤ 15, + ≤ 2 par correction)")
        clean = browser_part(args.month_items)
    print(f"RATIO review_actions {clean / 15:.2f}" if clean else "RATIO review_actions nan")
    return 0 if clean else 1


if __name__ == "__main__":
    raise SystemExit(main())
