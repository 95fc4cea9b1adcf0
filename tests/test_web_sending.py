"""« Envoi » in the review app: a real send started from the page in the background, the
ledger's counts, the « incertains » decisions, the downloads, and the security matrix."""

from __future__ import annotations

import asyncio
import threading
import time
from urllib.parse import quote

import pytest

from infolettre import pipeline
from infolettre.clock import FixedClock
from infolettre.deliver.ledger import Ledger, State
from infolettre.state import state_file
from infolettre.web import create_app

from .sinks import CountingSink, counting_server
from .test_web import NOW
from .web_send_fixtures import MONTH, PASSWORD, TRICKS, post_form, sign_in, token_of, tree
from .web_send_fixtures import clock, here, pivot, relecteur, web  # noqa: F401

PAGE = f"/envoi/{MONTH}"
ITEM = ("---\ntitre: Nouvelle\norganisme: CDC des Etchemins\nrubrique: nouvelles\n"
        "date: 2026-11-02\nstatut: approuve\n---\nTexte de la nouvelle.\n")
EMAILS = [f"personne{i}@example.org" for i in range(6)]


class GatedSink(CountingSink):
    """A sink that answers no message until the test opens its gate (so a send started from
    the page is certainly still running when the test looks at it)."""

    def __init__(self):
        super().__init__()
        self.gate = threading.Event()

    async def handle_DATA(self, server, session, envelope):
        while not self.gate.is_set():
            await asyncio.sleep(0.05)
        return await super().handle_DATA(server, session, envelope)


def smtp_project(project, port: int):
    """A project on disk with one approved item, six recipients, an [smtp] table on loopback."""
    project.write("item.md", ITEM)
    lines = ["courriel,nom,territoire,format,adresse_postale"]
    lines += [f"{e},Personne {i},{'regional' if i % 2 else 'les-etchemins'},courriel,"
              for i, e in enumerate(EMAILS)]
    lines.append("poste@example.org,Par la poste,regional,poste,\"1 rue Principale, Lévis\"")
    (project.root / "recipients.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    with open(project.config, "a", encoding="utf-8") as handle:
        handle.write(f'\n[smtp]\nhote = "127.0.0.1"\nport = {port}\nsecurite = "aucune"\n'
                     "connexions = 2\ndelai = 10\n")
    return project.settings()


def wait_for_the_end(client, *, guard: int = 600) -> str:
    """Poll the page until the send is over (no meta refresh); fail, not hang, past ``guard``."""
    for _ in range(guard):
        page = client.get(PAGE).text
        if 'http-equiv="refresh"' not in page and "envoyés : " in page:
            return page
        time.sleep(0.2)
    pytest.fail("the background send did not end: see data/envois/2026-12.log")


def test_a_send_started_from_the_page_runs_in_the_background_to_a_real_server(project):
    """« Lancer l'envoi » returns while no message can have been answered yet; the command
    runs detached (the page says « Envoi en cours » and refreshes itself), logs to
    data/envois/AAAA-MM.log; once it ends the page shows the ledger's counts and the log."""
    sink = GatedSink()
    with counting_server(sink) as port:
        settings = smtp_project(project, port)
        clock_ = FixedClock(NOW)
        pipeline.user_add(settings, "pivot@example.org", PASSWORD, clock=clock_)
        pipeline.approve(settings, MONTH, "pivot@example.org", clock=clock_)
        client = create_app(settings, clock=clock_, testing=True).test_client()
        sign_in(client)
        page = client.get(PAGE).text
        assert "prêt à partir" in page and "Lancer l" in page
        assert "Les Etchemins</td><td>3" in page and "complète (régionale)</td><td>3" in page
        started = client.post(PAGE, data={"csrf_token": token_of(page)})
        assert started.status_code == 302 and sink.total() == 0  # the gate is still closed
        answer = client.get(PAGE)
        running = answer.text
        assert answer.headers["Refresh"] == "5" and "Envoi en cours" in running and 'http-equiv="refresh" content="5"' in running
        assert '<button type="submit" disabled>Lancer' in running
        sink.gate.set()
        page = wait_for_the_end(client)
        assert sink.total() == len(EMAILS)
    assert "envoyés : 6" in page and "échecs : 0" in page and "incertains : 0" in page
    log = (settings.paths.donnees / "envois" / f"{MONTH}.log").read_text(encoding="utf-8")
    assert "envoi lancé depuis l'application" in log and "Journal de l" in page
    again = post_form(client, PAGE, PAGE)  # a second send: nothing left, still one each
    assert again.status_code == 302


def test_failures_show_their_reason_and_uncertain_ones_get_a_decision(pivot, here):
    """Failed rows show the server's answer; « incertains » can be counted as sent."""
    pipeline.approve(here, MONTH, "pivot@example.org")
    with Ledger(state_file(here.paths.donnees)) as ledger:
        ledger.plan(MONTH, [("a@example.org", "complete"), ("b@example.org", "complete")])
        with ledger.transaction():
            for row, state, reason in ((ledger.read(MONTH, "a@example.org", "complete"),
                                        State.FAILED, "refus définitif : 550 5.1.1 inconnu"),
                                       (ledger.read(MONTH, "b@example.org", "complete"),
                                        State.TRANSMITTED, "incertain : interrompu")):
                ledger.write(row._replace(state=state, reason=reason), was=State.PENDING)
    page = pivot.get(PAGE).text
    assert "550 5.1.1 inconnu" in page and "échecs : 1" in page and "incertains : 1" in page
    assert "Renvoyer les incertains" in page and "Les compter comme envoyés" in page
    done = post_form(pivot, PAGE, f"{PAGE}/incertains/recus")
    assert done.status_code == 302
    page = pivot.get(PAGE).text
    assert "1 message(s) incertain(s) comptés comme envoyés" in page
    assert "incertains : 0" in page and "envoyés : 1" in page
    with Ledger(state_file(here.paths.donnees)) as ledger:
        row = ledger.read(MONTH, "b@example.org", "complete")
    assert row.state is State.SENT and "pivot@example.org" in row.reason


def test_an_unsigned_issue_cannot_be_started(pivot, here):
    page = pivot.get(PAGE).text
    assert "Pas encore approuvé" in page and '<button type="submit" disabled>Lancer' in page
    post_form(pivot, PAGE, PAGE)
    page = pivot.get(PAGE).text
    assert "a pas été approuvé ; rien n" in page
    assert not (here.paths.donnees / "envois").exists()


def test_the_postal_list_and_the_print_pdf_download_with_french_names(pivot, here):
    """Attachments named « Le Fil régional 2026-12 — … » (RFC 5987 filename*)."""
    answer = pivot.get(f"{PAGE}/liste-postale.csv")
    disposition = answer.headers["Content-Disposition"]
    assert answer.status_code == 200 and disposition.startswith("attachment")
    assert "filename*=UTF-8''" + quote("Le Fil régional 2026-12 — envoi postal.csv") \
        in disposition
    assert answer.data.startswith(b"\xef\xbb\xbf") or b"," in answer.data
    labels = pivot.get(f"{PAGE}/etiquettes.pdf")  # the sample has people who get paper
    assert labels.status_code == 200 and labels.data.startswith(b"%PDF")
    assert quote("étiquettes Avery 5160.pdf") in labels.headers["Content-Disposition"]
    assert "Étiquettes d'adresse" in pivot.get(PAGE).text
    assert pivot.get(f"{PAGE}/impression.pdf").status_code == 404  # not built yet
    (here.paths.sortie / MONTH).mkdir(parents=True, exist_ok=True)
    (here.paths.sortie / MONTH / "print.pdf").write_bytes(b"%PDF-1.7 essai")
    assert "Version imprimable (PDF)" in pivot.get(PAGE).text
    pdf = pivot.get(f"{PAGE}/impression.pdf")
    assert pdf.data == b"%PDF-1.7 essai"
    assert quote("impression.pdf") in pdf.headers["Content-Disposition"]


# -- the security matrix -------------------------------------------------------------------

POSTS = ["", "/incertains/renvoyer", "/incertains/recus"]
GETS = ["", "/liste-postale.csv", "/etiquettes.pdf", "/impression.pdf"]


def test_without_a_session_pages_go_to_sign_in_and_posts_do_nothing(web, here):
    client = web.test_client()
    for tail in GETS:
        answer = client.get(PAGE + tail)
        assert answer.status_code == 302 and "/connexion" in answer.headers["Location"]
    for tail in POSTS:
        assert client.post(PAGE + tail).status_code == 400
    assert not (here.paths.donnees / "envois").exists()


def test_posts_without_csrf_are_refused(pivot, here):
    pipeline.approve(here, MONTH, "pivot@example.org")
    for tail in POSTS:
        answer = pivot.post(PAGE + tail)
        assert answer.status_code == 400 and "Formulaire expiré" in answer.text
    assert not (here.paths.donnees / "envois").exists()


def test_a_relecteur_gets_403_everywhere(relecteur, here):
    token = token_of(relecteur.get("/").text)
    for tail in GETS:
        assert relecteur.get(PAGE + tail).status_code == 403
    for tail in POSTS:
        assert relecteur.post(PAGE + tail, data={"csrf_token": token}).status_code == 403
    assert not (here.paths.donnees / "envois").exists()
    assert not (here.paths.sortie / MONTH).exists()


@pytest.mark.parametrize("month", TRICKS)
def test_path_tricks_in_the_month_are_not_found_and_touch_nothing(pivot, here, month):
    before = tree(here.paths.donnees) | tree(here.paths.sortie)
    token = token_of(pivot.get("/").text)
    for tail in GETS:
        assert pivot.get(f"/envoi/{month}{tail}").status_code == 404
    for tail in POSTS:
        assert pivot.post(f"/envoi/{month}{tail}",
                          data={"csrf_token": token}).status_code == 404
    assert tree(here.paths.donnees) | tree(here.paths.sortie) == before
