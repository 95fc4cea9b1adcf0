"""The infolettre command: French messages, exit codes, never a traceback without --debug."""

from __future__ import annotations


from infolettre import cli
from infolettre.cli import frame
from .conftest import SAMPLE_CONFIG


def run(capsys, *args):
    code = cli.main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_check_sample_issue_is_clean(capsys):
    """The sample issue has no errors: exit 0, with the pivot's notes listed."""
    code, out, _ = run(capsys, "--config", str(SAMPLE_CONFIG), "check", "2026-12")
    assert code == 0
    assert "Numéro 2026-12" in out and "conflit d'horaire" in out


def test_check_reports_bad_file_and_exits_1(project, capsys):
    """A bad item makes check exit 1, naming the file and what to fix."""
    project.write("mauvais.md", "---\ntitre: X\norganisme: Inconnu\nrubrique: nouvelles\n"
                                "date: 2026-11-02\n---\nTexte\n")
    code, out, _ = run(capsys, "--config", str(project.config), "check", "2026-12")
    assert code == 1
    assert "mauvais.md:3" in out.replace("\n", "") or "mauvais.md" in out
    assert "absent du registre" in out


def test_strict_turns_warnings_into_failure(project, capsys):
    """--strict makes a warning (here an unknown key) fail the command."""
    project.write("item.md", "---\ntitre: X\norganisme: CDC des Etchemins\nrubrique: nouvelles\n"
                             "date: 2026-11-02\ncouleur: bleu\n---\nTexte\n")
    assert run(capsys, "--config", str(project.config), "check", "2026-12")[0] == 0
    assert run(capsys, "--config", str(project.config), "--strict", "check", "2026-12")[0] == 1


def test_configuration_error_is_french_without_traceback(tmp_path, capsys):
    """A missing configuration gives exit 2 and a French fix, no traceback."""
    code, _, err = run(capsys, "--config", str(tmp_path / "absent.toml"), "check")
    assert code == 2
    assert "introuvable" in err and "Pour corriger" in err and "Traceback" not in err


def test_bad_month_argument(capsys):
    """A malformed month is explained."""
    code, _, err = run(capsys, "--config", str(SAMPLE_CONFIG), "check", "décembre")
    assert code == 2 and "2026-12" in err


def test_unexpected_error_asks_for_debug(monkeypatch, capsys):
    """A bug is reported as such, with the advice to rerun with --debug; --debug shows the trace."""
    def boom(*a, **k):
        raise RuntimeError("panne simulée")
    monkeypatch.setattr(frame, "load_settings", boom)
    code, _, err = run(capsys, "check")
    assert code == 3 and "--debug" in err and "Traceback" not in err
    code, _, err = run(capsys, "--debug", "check")
    assert code == 3 and "Traceback" in err


def test_send_needs_approve_and_postal_writes_the_list(project, capsys):
    """send refuses an unapproved issue (exit 2); approve --par lets it go; postal writes a CSV."""
    project.write("item.md", "---\ntitre: X\norganisme: CDC des Etchemins\nrubrique: nouvelles\n"
                             "date: 2026-11-02\nstatut: approuve\n---\nTexte\n")
    (project.root / "recipients.csv").write_text(
        "courriel,nom,territoire,format,adresse_postale\n"
        "a@example.org,Aline,les-etchemins,les-deux,\"1, rue A\nLac-Etchemin\"\n",
        encoding="utf-8")
    config = ["--config", str(project.config)]
    code, _, err = run(capsys, *config, "send", "2026-12")
    assert code == 2 and "infolettre approve 2026-12" in err
    code, out, _ = run(capsys, *config, "approve", "2026-12", "--par", "Julie Roy")
    assert code == 0 and "approuvé par Julie Roy" in out
    assert run(capsys, *config, "send", "2026-12")[0] == 0
    code, out, _ = run(capsys, *config, "postal", "2026-12")
    assert code == 0 and "1 destinataire(s) par la poste" in out
    data = (project.root / "build" / "2026-12" / "envoi-postal.csv").read_bytes()
    assert data.startswith(b"\xef\xbb\xbfnom,") and b'"1, rue A\nLac-Etchemin"' in data


def test_status_counts_after_send_and_resend_sends_nothing(project, capsys):
    """status gives exact counts; a second send delivers nothing twice."""
    project.write("item.md", "---\ntitre: X\norganisme: CDC des Etchemins\nrubrique: nouvelles\n"
                             "date: 2026-11-02\nstatut: approuve\n---\nTexte\n")
    (project.root / "recipients.csv").write_text(
        "courriel,nom,territoire,format,adresse_postale\n"
        "a@example.org,Aline,les-etchemins,courriel,\nb@example.org,Benoît,regional,courriel,\n"
        "c@example.org,Céline,montmagny,poste,\"12, rue du Parc, Montmagny\"\n",
        encoding="utf-8")
    config = ["--config", str(project.config)]
    assert run(capsys, *config, "status", "2026-12")[0] == 0
    run(capsys, *config, "approve", "2026-12", "--par", "Julie Roy")
    code, out, _ = run(capsys, *config, "send", "2026-12")
    assert code == 0 and "envoyés 2" in out
    code, out, _ = run(capsys, *config, "send", "2026-12")
    assert code == 0 and "envoyés 0, déjà faits 2" in out
    code, out, _ = run(capsys, *config, "status", "2026-12")
    assert code == 0 and "envoyés 2 / 2" in out


def test_error_text_with_brackets_is_shown_whole(capsys):
    """An error naming a TOML table like [desabonnement] is printed as written (no markup)."""
    code, _, err = run(capsys, "--config", str(SAMPLE_CONFIG), "desabonnements")
    assert code == 2 and "[desabonnement]" in err
