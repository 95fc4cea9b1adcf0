"""The infolettre command: French messages, exit codes, never a traceback without --debug."""

from __future__ import annotations


from infolettre import cli
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
    monkeypatch.setattr(cli, "load_settings", boom)
    code, _, err = run(capsys, "check")
    assert code == 3 and "--debug" in err and "Traceback" not in err
    code, _, err = run(capsys, "--debug", "check")
    assert code == 3 and "Traceback" in err
