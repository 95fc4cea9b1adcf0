"""Adding an address to an organization of infolettre.toml by a minimal text edit: only the
one ``courriels`` array changes, the file still loads, anything unusual is refused."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from infolettre.errors import ConfigError
from infolettre.settings import load_settings
from infolettre.settings.registry import add_address, with_address

from .conftest import REPO

BLOCKS = '''# Le registre
[[organismes]]
nom = "Alpha"   # commentaire gardé
courriels = ["a@alpha.example.org"]  # lui aussi
territoire = "regional"

[[organismes]]
nom = "Bêta \\u0026 cie"
courriels = [
    "b@beta.example.org",
    "c@beta.example.org"
]
territoire = "regional"

[[organismes]]
nom = "Gamma"
courriels = []

[autre]
courriels = ["x@y.example.org"]
'''


def test_a_one_line_array_gets_the_address_and_keeps_its_comments():
    text = with_address(BLOCKS, "alpha", "n@new.example.org")
    assert 'courriels = ["a@alpha.example.org", "n@new.example.org"]  # lui aussi' in text
    assert text.replace(', "n@new.example.org"', "") == BLOCKS


def test_a_multi_line_array_gets_a_line_like_the_others():
    """The block is found by its name as TOML reads it (an escape in the name)."""
    text = with_address(BLOCKS, "Bêta & cie", "n@new.example.org")
    assert '    "c@beta.example.org",\n    "n@new.example.org",\n]' in text


def test_an_empty_array_and_only_the_named_block():
    text = with_address(BLOCKS, "Gamma", "n@new.example.org")
    assert 'courriels = ["n@new.example.org"]\n\n[autre]\ncourriels = ["x@y.example.org"]' \
        in text


@pytest.mark.parametrize("organization, address", [
    ("Inconnu", "n@new.example.org"),        # no such block
    ("Alpha", 'n"]\nevil = "x@y.example.org'),  # not a plain address: never written raw
    ("Alpha", "pas-une-adresse"),
])
def test_what_cannot_be_edited_safely_is_refused(organization, address):
    with pytest.raises(ConfigError):
        with_address(BLOCKS, organization, address)


def test_a_comment_inside_the_brackets_is_refused_with_the_line_to_write():
    text = BLOCKS.replace('"c@beta.example.org"\n]', '"c@beta.example.org" # direction\n]')
    with pytest.raises(ConfigError) as refused:
        with_address(text, "Bêta & cie", "n@new.example.org")
    assert 'Ajoutez "n@new.example.org" à courriels' in refused.value.fix


def test_the_sample_config_still_loads_with_the_address_and_keeps_its_mode(tmp_path: Path):
    config = tmp_path / "infolettre.toml"
    shutil.copy(REPO / "infolettre.toml", config)
    config.chmod(0o600)
    before = config.read_text(encoding="utf-8")
    add_address(config, "CDC de Bellechasse", "Nouveau@CDC-Bellechasse.example.org")
    after = config.read_text(encoding="utf-8")
    assert len(after.splitlines()) == len(before.splitlines())
    org = load_settings(config).organization("CDC de Bellechasse")
    assert "nouveau@cdc-bellechasse.example.org" in org.courriels
    assert config.stat().st_mode & 0o777 == 0o600
    assert not [p for p in tmp_path.iterdir() if p.name != "infolettre.toml"]
