"""The command speaks French everywhere, click's own words included (help, usage errors)."""

from __future__ import annotations

import re

import pytest

from infolettre import cli
from .conftest import SAMPLE_CONFIG

#: Click's English, as it would appear if a message escaped translation.
ENGLISH = re.compile(r"Usage|Options:|Commands|Show this|Error|Missing|No such|Got unexpected|"
                     r"Invalid value|Try '|\bCOMMAND\b|\bARGS\b|\bPATH\b|DIRECTORY|Did you mean|"
                     r"does not|is a directory")


def run(capsys, *args):
    code = cli.main(list(args))
    out, err = capsys.readouterr()
    return code, out + err


@pytest.mark.parametrize("args", [
    ["--help"], ["-h"], ["build", "--help"], ["status", "--help"], ["gather", "--help"],
    ["gather", "mail", "--help"], ["desabonnements", "--help"]])
def test_help_is_french(capsys, args):
    """Every help page reads « Utilisation : », « Options : », « Afficher ce message… »."""
    code, text = run(capsys, *args)
    assert code == 0
    assert "Utilisation : infolettre" in text and "Options :" in text
    assert "Afficher ce message et quitter." in text
    assert not ENGLISH.search(text), text


def test_main_help_names_the_commands_in_french(capsys):
    """The main help lists « Commandes : » and shows « COMMANDE [ARGUMENTS]... »."""
    _, text = run(capsys, "--help")
    assert "Commandes :" in text and "COMMANDE [ARGUMENTS]..." in text


@pytest.mark.parametrize("args, expected", [
    (["check", "--nope"], "Option inconnue : « --nope »."),
    (["--confg", "x", "check"], "Vouliez-vous dire '--config' ?"),
    (["approve", "2026-12", "b"], "Argument en trop : b"),
    (["nope"], "Commande inconnue : « nope »."),
    (["desabonner"], "Il manque l'argument"),
    (["status", "--csv"], "L'option « --csv » demande une valeur."),
    (["status", "--csv", "."], "Valeur invalide pour '--csv'"),
])
def test_usage_errors_are_french(capsys, args, expected):
    """A mistyped command gets a French error, the usage line and where to find help."""
    code, text = run(capsys, "--config", str(SAMPLE_CONFIG), *args)
    assert code == 2
    assert expected in text, text
    assert text.startswith("Erreur : ") or "Pour l'aide : infolettre" in text
    assert "Erreur : " in text
    assert not ENGLISH.search(text), text


def test_click_messages_are_in_the_catalog():
    """Click's words come from our own catalog, so another language can be added there."""
    from infolettre.cli import french as cli_french
    from infolettre.i18n import _

    assert cli_french.translate("Usage:") == _("Utilisation :")
    assert cli_french.translate("an unknown message") == "an unknown message"
