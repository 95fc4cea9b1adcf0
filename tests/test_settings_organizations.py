"""``[[organismes]]``: the opt-in reminder and the public keys of the directory, checked."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from infolettre.errors import ConfigError
from infolettre.settings import load_settings

from .conftest import REPO


def _config(tmp_path: Path, extra: str) -> Path:
    config = tmp_path / "infolettre.toml"
    shutil.copy(REPO / "infolettre.toml", config)
    text = config.read_text(encoding="utf-8")
    anchor = 'nom = "Comptoir alimentaire de Montmagny"\n'
    assert anchor in text
    config.write_text(text.replace(anchor, anchor + extra), encoding="utf-8")
    return config


def _comptoir(settings):
    return next(o for o in settings.organizations if o.nom == "Comptoir alimentaire de Montmagny")


def test_the_sample_register_has_public_keys_and_opt_ins():
    settings = load_settings(REPO / "infolettre.toml")
    cdc = next(o for o in settings.organizations if o.nom == "CDC de Bellechasse")
    assert cdc.relance is True
    assert cdc.site_web == "https://cdc-bellechasse.example.org"
    assert cdc.telephone_public == "418 555-0142"
    assert cdc.description and cdc.description.startswith("Corporation")
    quiet = next(o for o in settings.organizations if o.nom == "CDC de Lotbinière")
    assert (quiet.relance, quiet.site_web, quiet.courriel_public, quiet.telephone_public,
            quiet.description) == (False, None, None, None, None)


def test_public_keys_are_read_and_spaces_folded(tmp_path: Path):
    settings = load_settings(_config(tmp_path, (
        'relance = true\nsite_web = "https://comptoir.example.org/"\n'
        'courriel_public = "Accueil@Comptoir.example.org"\n'
        'description = "Aide  alimentaire\\n d\'urgence."\n')))
    org = _comptoir(settings)
    assert org.relance is True and org.site_web == "https://comptoir.example.org/"
    assert org.courriel_public == "Accueil@Comptoir.example.org"   # shown as written
    assert org.description == "Aide alimentaire d'urgence."


@pytest.mark.parametrize("extra, key", [
    ('relance = "oui"\n', "relance"),
    ('site_web = "javascript:alert(1)"\n', "site_web"),
    ('site_web = "comptoir.example.org"\n', "site_web"),
    ('courriel_public = "pas une adresse"\n', "courriel_public"),
    ('description = "' + "x" * 401 + '"\n', "description"),
    ('telephon_public = "418"\n', "telephon_public"),
])
def test_a_wrong_value_names_the_entry_and_the_key(tmp_path: Path, extra: str, key: str):
    with pytest.raises(ConfigError) as refused:
        load_settings(_config(tmp_path, extra))
    message = f"{refused.value} {refused.value.where or ''}"
    assert key in message
