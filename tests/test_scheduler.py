"""The calendar's steps run by ``pipeline.schedule`` with an injected clock: each occurrence
once, a missed send run once on restart, an unsigned or changed issue never sent, a failing
step that stops nothing else, notices in French, deferred messages retried until sent."""

from __future__ import annotations

import email
from collections import Counter
from contextlib import closing
from datetime import datetime, timedelta
from email import policy
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from infolettre import pipeline
from infolettre.clock import FixedClock
from infolettre.state import connect, state_file
from infolettre.state.steps import StepStore

from .sinks import CountingSink, counting_server

TZ = ZoneInfo("America/Toronto")
MONTH = "2026-12"
SEND = datetime(2026, 12, 1, 9, 0, tzinfo=TZ)   # the first Tuesday of December 2026
ITEM = ("---\ntitre: Nouvelle\norganisme: CDC des Etchemins\nrubrique: nouvelles\n"
        "date: 2026-11-02\nstatut: approuve\n---\nTexte de la nouvelle.\n")
TERRITORIES = ("bellechasse", "les-appalaches", "les-etchemins", "lotbiniere", "montmagny")


def make_project(project, emails: list[str], extra: str = ""):
    """An issue of December 2026 with one approved item, ``emails`` as subscribers."""
    project.write("item.md", ITEM)
    lines = ["courriel,nom,territoire,format,adresse_postale"]
    lines += [f"{e},Personne {i},{TERRITORIES[i % len(TERRITORIES)]},courriel,"
              for i, e in enumerate(emails)]
    (project.root / "recipients.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    extra, _sep, calendar = extra.partition("[calendrier]\n")
    if calendar:
        project.calendar(calendar)
    if extra:
        with open(project.config, "a", encoding="utf-8") as handle:
            handle.write("\n" + extra + "\n")
    return project.settings()


def sent_files(settings) -> list[Path]:
    return sorted((settings.paths.boite_envoi / MONTH).rglob("*.eml"))


def notices(settings) -> list[email.message.EmailMessage]:
    folder = settings.paths.donnees / "avis"
    return [email.message_from_bytes(p.read_bytes(), policy=policy.default)
            for p in sorted(folder.glob("*"))] if folder.exists() else []


def subjects(settings) -> list[str]:
    return [str(m["Subject"]) for m in notices(settings)]


def run(settings, clock, *steps):
    return pipeline.schedule.run_due(settings, clock=clock, steps=steps or None)


EMAILS = [f"p{i}@example.org" for i in range(6)]


def test_a_send_missed_while_the_machine_was_off_runs_once_on_restart(project):
    """Off at 9 h, started at 13 h: the signed issue goes out once; the runs after (the same
    day, the next days of the window) send nothing more."""
    settings = make_project(project, EMAILS)
    clock = FixedClock(SEND - timedelta(days=2))
    pipeline.approve(settings, MONTH, "pivot@example.org", clock=clock)
    clock.moment = (SEND + timedelta(hours=4)).astimezone(clock.moment.tzinfo)
    (outcome,) = run(settings, clock, "envoi")
    assert outcome.status == "fait" and "envoyés 6" in outcome.message
    assert len(sent_files(settings)) == 6
    assert run(settings, clock, "envoi") == []
    for _day in range(8):
        clock.advance(days=1)
        assert run(settings, clock, "envoi") == []
    assert len(sent_files(settings)) == 6


def test_a_send_missed_for_days_runs_at_restart_within_the_window_only(project):
    """Off from Monday to Thursday 8 h: the send goes out at restart (Wednesday's daily try
    is within its day of grace). Off past the window: an old issue is not sent by itself."""
    settings = make_project(project, EMAILS)
    clock = FixedClock(SEND - timedelta(days=1))
    pipeline.approve(settings, MONTH, "pivot@example.org", clock=clock)
    clock.moment = (SEND + timedelta(days=2, hours=-1)).astimezone(clock.moment.tzinfo)
    (outcome,) = run(settings, clock, "envoi")
    assert (outcome.occurrence.attempt, outcome.status) == (1, "fait")
    assert len(sent_files(settings)) == 6

    (project.root / "tard").mkdir()
    late = make_project(type(project)(project.root / "tard"), EMAILS)
    pipeline.approve(late, MONTH, "pivot@example.org", clock=FixedClock(SEND))
    clock.moment = (SEND + timedelta(days=8, hours=1)).astimezone(clock.moment.tzinfo)
    assert run(late, clock, "envoi") == []
    assert sent_files(late) == []


def test_an_unsigned_issue_is_never_sent_and_the_pivot_is_told_each_day(project):
    """Not approved: nothing leaves, the pivot gets « Envoi en attente » with the next try;
    approved the next day, the next daily try sends it."""
    settings = make_project(project, EMAILS)
    clock = FixedClock(SEND + timedelta(minutes=1))
    (outcome,) = run(settings, clock, "envoi")
    assert outcome.status == "attente" and "n'est pas approuvé" in outcome.message
    assert sent_files(settings) == []
    assert run(settings, clock, "envoi") == []        # the same try: not told twice
    (told,) = notices(settings)
    assert told["Subject"] == "[infolettre] Envoi en attente : numéro de décembre 2026"
    assert told["To"] == settings.identity.repondre_a
    body = told.get_content()
    assert "mercredi 2 décembre 2026 à 9 h" in body and "Approuver le numéro" in body
    clock.advance(days=1)
    (outcome,) = run(settings, clock, "envoi")
    assert outcome.status == "attente" and len(notices(settings)) == 2
    pipeline.approve(settings, MONTH, "pivot@example.org", clock=clock)
    clock.advance(days=1)
    (outcome,) = run(settings, clock, "envoi")
    assert outcome.status == "fait" and len(sent_files(settings)) == 6


def test_an_issue_changed_after_its_approval_is_never_sent(project):
    """Approved, then an item changed: every daily try refuses; the last one says to send
    by hand."""
    settings = make_project(project, EMAILS)
    clock = FixedClock(SEND - timedelta(days=1))
    pipeline.approve(settings, MONTH, "pivot@example.org", clock=clock)
    item = settings.paths.contenu / MONTH / "item.md"
    item.write_text(ITEM.replace("Texte de la nouvelle.", "Texte changé."), encoding="utf-8")
    clock.moment = (SEND + timedelta(minutes=1)).astimezone(clock.moment.tzinfo)
    outcomes = []
    for _day in range(settings.calendar.envoi_fenetre + 1):
        outcomes += run(settings, clock, "envoi")
        clock.advance(days=1)
    assert [o.status for o in outcomes] == ["attente"] * 8
    assert all("modifié depuis son approbation" in o.message for o in outcomes)
    assert sent_files(settings) == []
    assert "C'était le dernier essai automatique" in notices(settings)[-1].get_content()


def test_a_failing_step_is_reported_once_and_does_not_stop_the_others(project):
    """The Maildir is missing: the mail reading fails (one notice, not one every 15
    minutes), the backup still runs; once the Maildir exists, « Rétabli »."""
    maildir = project.root / "Maildir"
    settings = make_project(project, EMAILS,
                            f'[courriel_entrant]\nmaildir = "{maildir.as_posix()}"')
    clock = FixedClock(datetime(2026, 12, 15, 3, 5, tzinfo=TZ))
    outcomes = {o.occurrence.step: o for o in run(settings, clock)}
    assert outcomes["courriel"].status == "echec"
    assert outcomes["sauvegarde"].status == "ok"
    assert (settings.paths.donnees / "sauvegardes").is_dir()
    assert subjects(settings) == ["[infolettre] Échec : relevé du courriel"]
    assert "Les autres étapes continuent." in notices(settings)[0].get_content()
    clock.advance(minutes=15)
    (again,) = run(settings, clock, "courriel")
    assert again.status == "echec" and len(notices(settings)) == 1
    for sub in ("new", "cur", "tmp"):
        (maildir / sub).mkdir(parents=True)
    clock.advance(minutes=15)
    (fixed,) = run(settings, clock, "courriel")
    assert fixed.status == "ok"
    assert subjects(settings)[-1] == "[infolettre] Rétabli : relevé du courriel"


def test_the_call_for_news_goes_once_to_every_address_with_the_deadline(project):
    """8 December 2026 at 9 h: the call for January 2027 to each address of each registered
    organization, in French, with the deadline; run again, nobody gets it twice."""
    settings = make_project(project, EMAILS)
    clock = FixedClock(datetime(2026, 12, 8, 9, 10, tzinfo=TZ))
    (outcome,) = run(settings, clock, "appel")
    addresses = [a for o in settings.organizations for a in o.courriels]
    assert outcome.status == "fait" and len(notices(settings)) == len(addresses)
    assert Counter(str(m["To"]) for m in notices(settings)) == Counter(addresses)
    first = notices(settings)[0]
    assert str(first["Subject"]).startswith("Appel de nouvelles : numéro de janvier 2027")
    body = first.get_content()
    assert "mardi 29 décembre 2026 à 9 h" in body and settings.identity.repondre_a in body
    assert first["Auto-Submitted"] == "auto-generated"
    assert run(settings, clock, "appel") == []
    assert len(notices(settings)) == len(addresses)


def test_a_call_interrupted_midway_is_finished_without_repeating_anyone(project):
    """A scheduler killed during the call left it « en cours »: the next run writes only to
    the addresses not reached yet."""
    settings = make_project(project, EMAILS)
    clock = FixedClock(datetime(2026, 12, 8, 9, 10, tzinfo=TZ))
    addresses = [a for o in settings.organizations for a in o.courriels]
    planned = datetime(2026, 12, 8, 9, 0, tzinfo=TZ)
    with closing(connect(state_file(settings.paths.donnees))) as conn:
        store = StepStore(conn, clock=clock)
        store.begin("appel", "2027-01", planned)
        for address in addresses[:3]:
            store.mark_notified("appel", "2027-01", address)
    (outcome,) = run(settings, clock, "appel")
    assert outcome.status == "fait"
    assert sorted(str(m["To"]) for m in notices(settings)) == sorted(addresses[3:])


def test_the_reminder_goes_only_to_organizations_silent_for_the_issue(project):
    """26 December: organizations that sent something for January are not reminded."""
    settings = make_project(project, EMAILS)
    project.write("cdc.md", ITEM, month="2027-01")   # CDC des Etchemins spoke
    clock = FixedClock(datetime(2026, 12, 26, 9, 30, tzinfo=TZ))
    (outcome,) = run(settings, clock, "rappel")
    spoke = settings.organization("CDC des Etchemins")
    got = {str(m["To"]) for m in notices(settings)}
    assert outcome.status == "fait" and got
    assert not got & set(spoke.courriels)
    assert "Rappel : date de tombée du numéro de janvier 2027" in subjects(settings)


def test_the_deadline_builds_the_preview_and_sends_the_pivot_a_summary(project):
    """29 December at 9 h: the preview of January exists and the pivot has the counts."""
    settings = make_project(project, EMAILS)
    project.write("a.md", ITEM.replace("statut: approuve", "statut: soumis"), month="2027-01")
    clock = FixedClock(datetime(2026, 12, 29, 9, 1, tzinfo=TZ))
    (outcome,) = run(settings, clock, "tombee")
    assert outcome.status == "fait"
    (summary,) = notices(settings)
    assert summary["Subject"] == "[infolettre] Date de tombée : numéro de janvier 2027"
    body = summary.get_content()
    assert "1 à relire" in body and "mardi 5 janvier 2027 à 9 h" in body
    assert pipeline.previews.preview(settings, "2027-01").rebuilt is False


def test_deferred_messages_are_retried_by_the_scheduler_until_sent(project):
    """Two 451 at the send: the « reprise » step sends them once their time has come, and
    the pivot gets the report once everything is over."""
    sink = CountingSink(defer_once={"p1@example.org": "451 4.7.1 Réessayez plus tard",
                                    "p4@example.org": "451 4.3.0 File d'attente pleine"})
    with counting_server(sink) as port:
        settings = make_project(
            project, EMAILS, f'[smtp]\nhote = "127.0.0.1"\nport = {port}\n'
            'securite = "aucune"\nconnexions = 1\ndelai = 10\n'
            '[calendrier]\navis = "pivot@example.org"')
        clock = FixedClock(SEND - timedelta(days=1))
        pipeline.approve(settings, MONTH, "pivot@example.org", clock=clock)
        clock.moment = (SEND + timedelta(minutes=1)).astimezone(clock.moment.tzinfo)
        (outcome,) = run(settings, clock, "envoi")
        assert "reportés 2" in outcome.message
        clock.advance(minutes=9)
        (retry,) = run(settings, clock, "reprise")
        assert "envoyés 2" in retry.message
        clock.advance(minutes=10)
        (quiet,) = run(settings, clock, "reprise")
        assert quiet.message == "rien à reprendre."
    per = sink.per_recipient()
    assert all(per[e] == 1 for e in EMAILS)
    assert per["pivot@example.org"] == 1       # the report, once


def test_only_one_scheduler_runs_per_data_folder(settings):
    """The scheduler's lock: a second one is refused, naming the first; the app's and the
    command's lock stays free."""
    import threading

    from infolettre.state.runlock import RunLocked, current_holder

    clock, refused = FixedClock(SEND), []

    def second():
        try:
            with pipeline.schedule.scheduler_lock(settings, clock):
                pass
        except RunLocked as exc:
            refused.append(exc)

    with pipeline.schedule.scheduler_lock(settings, clock):
        other = threading.Thread(target=second)
        other.start()
        other.join()
        assert current_holder(settings.paths.donnees) is None
    (exc,) = refused
    assert "« calendrier »" in str(exc) and "rien n'a été fait" in str(exc)


def test_a_month_nobody_prepared_is_reported_not_failed(project):
    """No folder for February 2027: the deadline says no news came, the send waits and
    says why (a daily try), nothing is counted as a failure."""
    settings = make_project(project, EMAILS)
    clock = FixedClock(datetime(2027, 1, 26, 9, 1, tzinfo=TZ))
    (deadline,) = run(settings, clock, "tombee")
    assert deadline.status == "fait"
    clock.moment = datetime(2027, 2, 2, 9, 1, tzinfo=TZ).astimezone(clock.moment.tzinfo)
    (send,) = run(settings, clock, "envoi")
    assert send.status == "attente" and "content/2027-02 n'existe pas" in send.message
    assert subjects(settings) == ["[infolettre] Date de tombée : numéro de février 2027",
                                  "[infolettre] Envoi en attente : numéro de février 2027"]


def test_a_send_that_could_not_publish_the_site_tells_the_pivot(project):
    """The messages go out (they matter more than the archive), and the pivot is told that
    their links to the site lead nowhere until ``infolettre publish`` runs again."""
    settings = make_project(project, EMAILS)
    settings.paths.site.write_text("un fichier à la place du dossier du site\n", encoding="utf-8")
    clock = FixedClock(SEND - timedelta(days=1))
    pipeline.approve(settings, MONTH, "pivot@example.org", clock=clock)
    clock.moment = (SEND + timedelta(minutes=5)).astimezone(clock.moment.tzinfo)
    (outcome,) = run(settings, clock, "envoi")
    assert outcome.status == "fait" and len(sent_files(settings)) == 6
    [told] = [m for m in notices(settings) if "Site non publié" in str(m["Subject"])]
    assert "relancez infolettre publish 2026-12" in told.get_content()


def test_a_send_that_published_the_site_says_nothing_about_it(project):
    settings = make_project(project, EMAILS)
    clock = FixedClock(SEND - timedelta(days=1))
    pipeline.approve(settings, MONTH, "pivot@example.org", clock=clock)
    clock.moment = (SEND + timedelta(minutes=5)).astimezone(clock.moment.tzinfo)
    (outcome,) = run(settings, clock, "envoi")
    assert outcome.status == "fait" and (settings.paths.site / "index.html").is_file()
    assert not [s for s in subjects(settings) if "Site" in s]
