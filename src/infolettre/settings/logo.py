"""``[infolettre] logo``: the bulletin's logo, a PNG, JPEG or GIF file beside the configuration.

Checked once at load, so a send never discovers a missing or unreadable logo: the path is
relative to the configuration's folder, the file must exist and be one of the three formats
every email client shows (told by its first bytes, not its name: a renamed WebP or SVG would
show as a broken image in Outlook). The emails load it from the site (``permalinks.logo``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..errors import ConfigError
from ..i18n import _

_Reader = Any  # settings.reader._Reader (imported by it: not imported back)

#: The first bytes of each accepted format.
SIGNATURES = {b"\x89PNG\r\n\x1a\n": "PNG", b"\xff\xd8\xff": "JPEG", b"GIF87a": "GIF",
              b"GIF89a": "GIF"}


def read_logo(reader: _Reader, table: dict[str, Any]) -> Path | None:
    """Return the absolute path of ``[infolettre] logo``, checked; None when not set."""
    name = reader.text("infolettre", table, "logo", required=False)
    if name is None:
        return None
    path = reader.base / name
    try:
        with path.open("rb") as handle:
            head = handle.read(8)
    except OSError:
        raise ConfigError(_("le logo « {name} » est introuvable ou illisible ({path}).").format(
                              name=name, path=path),
                          where=f"{reader.path} : [infolettre] logo",
                          fix=_("Placez le fichier du logo à côté de infolettre.toml (ou "
                                "corrigez son chemin, relatif à ce fichier), ou retirez la "
                                "clé logo.")) from None
    if not any(head.startswith(magic) for magic in SIGNATURES):
        raise ConfigError(_("le logo « {name} » n'est pas une image PNG, JPEG ou GIF.").format(
                              name=name),
                          where=f"{reader.path} : [infolettre] logo",
                          fix=_("Enregistrez le logo en PNG (le meilleur choix pour un "
                                "logo), JPEG ou GIF : les logiciels de courriel n'affichent "
                                "pas les autres formats (SVG, WebP)."))
    return path
