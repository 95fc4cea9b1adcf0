"""Configuration: typed, validated once, errors that name the key and the fix."""

from __future__ import annotations

import pytest

from infolettre.errors import ConfigError
from infolettre.settings import load_settings


def test_sample_configuration_loads(sample_settings):
    """The repository's infolettre.toml is valid and complete."""
    assert sample_settings.identity.nom == "Le Fil régional"
    assert sample_settings.identity.sender_address == "infolettre@example.org"
    assert "les-etchemins" in sample_settings.territories
    assert list(sample_settings.rubriques)[0] == "nouvelles"
    assert sample_settings.organization("cdc des etchemins").territoire == "les-etchemins"
    assert sample_settings.paper == "letter"


def _broken(project, old: str, new: str):
    text = project.config.read_text(encoding="utf-8")
    assert old in text
    project.config.write_text(text.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_settings(project.config)
    return str(info.value)


def test_unknown_key_is_refused_with_allowed_keys(project):
    """A typo in a key fails at load and lists the keys that exist."""
    message = _broken(project, "region =", "regoin =")
    assert "regoin" in message and "region" in message


def test_bad_territory_of_organization_names_key_value_and_choices(project):
    """An organization in an unknown territory: key, value and valid choices are named."""
    message = _broken(project, 'territoire = "les-etchemins"', 'territoire = "etchemins"')
    assert "organismes[" in message and "'etchemins'" in message and "les-etchemins" in message


def test_reserved_regional_territory(project):
    """« regional » cannot be declared as a territory."""
    message = _broken(project, 'bellechasse = "Bellechasse"', 'regional = "Régional"')
    assert "réservé" in message


def test_bad_sender_address(project):
    """The sender must be an email address."""
    message = _broken(project, '"Le Fil régional <infolettre@example.org>"', '"Le Fil régional"')
    assert "expediteur" in message


def test_bad_paper_size(project):
    """Paper is letter or a4, nothing else."""
    assert "letter | a4" in _broken(project, 'format = "letter"', 'format = "legal"')


def test_toml_syntax_error_is_explained(project):
    """A TOML syntax error says where and how to fix, never a traceback."""
    message = _broken(project, 'nom = "Le Fil régional"', 'nom = "Le Fil régional')
    assert "TOML" in message and "guillemets" in message


def test_missing_file_explains_config_option(tmp_path):
    """A missing configuration file tells how to point at one."""
    with pytest.raises(ConfigError) as info:
        load_settings(tmp_path / "absent.toml")
    assert "--config" in str(info.value) and "INFOLETTRE_CONFIG" in str(info.value)


def test_config_from_environment(project, monkeypatch):
    """INFOLETTRE_CONFIG is used when no path is given."""
    monkeypatch.setenv("INFOLETTRE_CONFIG", str(project.config))
    assert load_settings().source == project.config


def test_smtp_table_is_typed_and_password_comes_from_environment(project, monkeypatch):
    """An [smtp] table becomes typed settings; the password is read from the environment."""
    monkeypatch.setenv("INFOLETTRE_SMTP_PASSWORD", "s3cret")
    with project.config.open("a", encoding="utf-8") as handle:
        handle.write('\n[smtp]\nhote = "smtp.example.org"\nutilisateur = "infolettre@example.org"\n')
    smtp = load_settings(project.config).smtp
    assert smtp.hote == "smtp.example.org" and smtp.port == 587 and smtp.connexions == 4
    assert smtp.mot_de_passe == "s3cret" and "s3cret" not in repr(smtp)


def test_no_smtp_table_means_outbox(sample_settings):
    """Without [smtp], delivery goes to the outbox (settings.smtp is None)."""
    assert sample_settings.smtp is None


def test_unknown_key_suggests_the_closest(project):
    """A misspelled key gets « Vouliez-vous dire … », like a content file's."""
    message = _broken(project, "repondre_a =", "repondre_ua =")
    assert "Vouliez-vous dire « repondre_a » ?" in message


def test_keys_written_with_accents_are_recognized(project):
    """« expéditeur = … » (without TOML's quotes) and « [désabonnement] » are recognized."""
    text = project.config.read_text(encoding="utf-8")
    text = text.replace("expediteur =", "expéditeur =", 1).replace(
        "repondre_a =", "répondre_à =", 1).replace("[desabonnement]", "[désabonnement]", 1)
    project.config.write_text(text, encoding="utf-8")
    settings = load_settings(project.config)
    assert settings.identity.sender_address == "infolettre@example.org"
    assert settings.identity.repondre_a == "pivot@example.org"


def test_one_key_written_twice_with_and_without_accents_is_refused(project):
    """« expediteur » and « expéditeur » in one table: refused, naming the key."""
    message = _broken(project, "expediteur =", 'expéditeur = "a@example.org"\nexpediteur =')
    assert "expediteur" in message and "deux fois" in message


def test_accented_territory_slug_gets_the_slug_message(project):
    """A territory slug with accents is refused by its own rule, not a TOML syntax error."""
    message = _broken(project, 'lotbiniere = "Lotbinière"', 'lotbinière = "Lotbinière"')
    assert "sans accents" in message and "TOML" not in message


@pytest.mark.parametrize("old, new, expected", [
    ('nom = "Le Fil régional"', 'nom "Le Fil régional"', "il manque le signe « = »"),
    ('nom = "Le Fil régional"', 'nom = "Le Fil régional', "guillemet ouvert n'est jamais fermé"),
    ('nom = "Le Fil régional"', "nom = Le Fil", "un texte s'écrit entre guillemets"),
    ("[chemins]", "[infolettre]", "la table [infolettre] est déclarée deux fois"),
    ("[impression]", "[impression", "il manque le « ] »"),
])
def test_toml_syntax_errors_are_french_with_line(project, old, new, expected):
    """A TOML syntax error is a French sentence with its line; tomllib's text is a detail."""
    message = _broken(project, old, new)
    assert expected in message, message
    assert "ligne " in message and "détail technique : " in message
    assert not message.startswith(("Expected", "Invalid", "Unterminated", "Cannot"))
