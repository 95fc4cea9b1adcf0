"""``[[flux]]`` and ``[veille]`` in infolettre.toml: checked at load, errors name the key."""

from __future__ import annotations

import pytest

from infolettre.errors import ConfigError
from infolettre.settings import load_settings

FEED = '''
[[flux]]
url = "https://www.example.org/actualites/feed/"
nom = "Table régionale en développement social"
territoire = "regional"
rubrique = "nouvelles"
confiance = "revue"
'''


def _with(project, text: str):
    project.config.write_text(project.config.read_text(encoding="utf-8") + text,
                              encoding="utf-8")
    return project


def _refused(project, text: str) -> str:
    with pytest.raises(ConfigError) as info:
        load_settings(_with(project, text).config)
    return str(info.value)


def test_feeds_and_watch_defaults(project):
    settings = load_settings(_with(project, FEED + FEED.replace("www.", "autre.")
                                   .replace('"revue"', '"auto"')).config)
    first, second = settings.feeds
    assert first.url == "https://www.example.org/actualites/feed/"
    assert first.organization == "Table régionale en développement social"
    assert (first.territoire, first.rubrique, first.confiance) == ("regional", "nouvelles",
                                                                   "revue")
    assert second.confiance == "auto"
    assert settings.watch.par_hote == 2 and settings.watch.alerte_apres == 3
    assert settings.watch.contact == settings.identity.repondre_a


def test_watch_values(project):
    settings = load_settings(_with(project, FEED + '\n[veille]\nsimultanes = 50\n'
                                   'delai_total_s = 30\ncontact = "web@example.org"\n').config)
    assert settings.watch.simultanes == 50
    assert settings.watch.delai_total_s == 30.0
    assert settings.watch.contact == "web@example.org"


@pytest.mark.parametrize(("change", "expected"), [
    (('rubrique = "nouvelles"', 'rubrique = "nouvelle"'), "flux[1].rubrique"),
    (('territoire = "regional"', 'territoire = "beauce"'), "flux[1].territoire"),
    (('confiance = "revue"', 'confiance = "oui"'), "flux[1].confiance"),
    (('url = "https://', 'url = "ftp://'), "flux[1].url"),
    (('nom = "Table', 'nomm = "Table'), "nomm"),
])
def test_bad_feed_entries_name_the_key(project, change, expected):
    assert expected in _refused(project, FEED.replace(*change))


def test_auto_feed_must_credit_a_registered_organization(project):
    message = _refused(project, FEED.replace('"revue"', '"auto"').replace(
        'nom = "Table régionale en développement social"', 'nom = "Inconnu"'))
    assert "flux[1].organisme" in message and "revue" in message


def test_same_feed_twice_is_refused(project):
    assert "flux[2].url" in _refused(project, FEED + FEED)


@pytest.mark.parametrize("line", ["simultanes = 0", "par_hote = -1", 'delai_total_s = "vite"',
                                  "taille_max_mo = true", "inconnue = 3",
                                  'images_reseau_local = "oui"'])
def test_bad_watch_values_are_refused(project, line):
    assert "veille" in _refused(project, f"\n[veille]\n{line}\n")
