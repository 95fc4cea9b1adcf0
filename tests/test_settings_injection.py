"""Header injection from the configuration: CR, LF and control characters refused at load.

``nom = "Le Fil\\r\\nBcc: …"`` went straight into List-Id (and ``expediteur`` into From): every
message of an issue would have carried a header nobody wrote. Now the value is refused when
the file is read, and the error names the key.
"""

from __future__ import annotations

import pytest

from infolettre.errors import ConfigError
from infolettre.settings import load_settings

INJECTED = r"\r\nBcc: espion@evil.example"


def _load(project, old: str, new: str, *, extra: str = ""):
    text = project.config.read_text(encoding="utf-8")
    assert old in text
    project.config.write_text(text.replace(old, new, 1) + extra, encoding="utf-8")
    return load_settings(project.config)


@pytest.mark.parametrize(("old", "new", "key"), [
    ('nom = "Le Fil régional"', f'nom = "Le Fil régional{INJECTED}"', "infolettre.nom"),
    ('expediteur = "Le Fil régional <infolettre@example.org>"',
     f'expediteur = "Le Fil régional{INJECTED} <infolettre@example.org>"',
     "infolettre.expediteur"),
    ('repondre_a = "pivot@example.org"', f'repondre_a = "pivot@example.org{INJECTED}"',
     "infolettre.repondre_a"),
    ('region = "Chaudière-Appalaches"', 'region = "Chaudière\\u0000Appalaches"',
     "infolettre.region"),
    ('bellechasse = "Bellechasse"', f'bellechasse = "Bellechasse{INJECTED}"',
     "territoires.bellechasse"),
    ('nom = "CDC des Etchemins"', f'nom = "CDC des Etchemins{INJECTED}"', "organismes[9].nom"),
    ('courriel = "desabonnement@example.org"',
     f'courriel = "desabonnement@example.org{INJECTED}"', "desabonnement.courriel"),
    ('adresse_postale = "5700', 'adresse_postale = "57\\r00', "infolettre.adresse_postale"),
])
def test_control_characters_in_a_setting_are_refused_naming_the_key(project, old, new, key):
    """A CR, LF or other control character in a value that can reach a header is refused."""
    with pytest.raises(ConfigError) as caught:
        _load(project, old, new)
    assert f"« {key} »" in caught.value.message and caught.value.fix


def test_control_characters_in_mail_intake_and_dkim_are_refused(project):
    """IMAP folders (IMAP commands) and the DKIM selector (a header) are checked too."""
    with pytest.raises(ConfigError, match="courriel_entrant.imap_dossier"):
        _load(project, "[impression]", "[impression]",
              extra=f'\n[courriel_entrant]\nimap_dossier = "INBOX{INJECTED}"\n')
    with pytest.raises(ConfigError, match="dkim.selecteur"):
        _load(project, "[impression]", "[impression]",
              extra=f'\n[dkim]\nselecteur = "s1{INJECTED}"\ncle = "dkim.pem"\n')


def test_a_postal_address_may_span_lines(project):
    """The postal address (never in a header) may be written on several lines."""
    settings = _load(project, 'adresse_postale = "5700, boulevard Guillaume-Couture, ',
                     'adresse_postale = "5700, boulevard Guillaume-Couture,\\n')
    assert "\n" in settings.identity.adresse_postale
