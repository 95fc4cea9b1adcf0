"""``[[organismes]]``: the register of member organizations and tables allowed to publish.

Each entry says who may submit (``courriels``: private, never published), where the
organization belongs (``territoire``, ``table``), whether it wants the friendly reminder
when it has been silent (``relance``: opt-in, off by default, as Law 25 and good manners
ask), and what it agrees to show in the public directory of the site (``site_web``,
``courriel_public``, ``telephone_public``, ``description``): only those keys are ever
published, so a personal address in ``courriels`` never reaches the web.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from ..i18n import _
from ..models import REGIONAL
from .schema import Organization

_Reader = Any  # settings.reader._Reader (imported by it: not imported back)

KEYS = {"nom", "courriels", "territoire", "table", "relance", "site_web", "courriel_public",
        "telephone_public", "description"}
#: A directory description is a line or two, not an article.
DESCRIPTION_MAX = 400


def read_organizations(reader: _Reader, territories: dict[str, str]) -> tuple[Organization, ...]:
    """Return the register, every key checked; raise ``ConfigError`` naming the entry."""
    entries = reader.raw.get("organismes", [])
    if not isinstance(entries, list):
        raise reader.fail("[[organismes]]", entries, _("une liste de tables [[organismes]]"))
    seen: set[str] = set()
    result = []
    for i, t in enumerate(entries, start=1):
        w = f"organismes[{i}]"
        reader.check_keys(f"[[organismes]] n° {i}", t, KEYS)
        nom = reader.text(w, t, "nom")
        if nom.casefold() in seen:
            raise reader.fail(f"{w}.nom", nom, _("un nom qui n'apparaît qu'une fois"))
        seen.add(nom.casefold())
        courriels = t.get("courriels", [])
        if not isinstance(courriels, list):
            raise reader.fail(f"{w}.courriels", courriels, _("une liste d'adresses"))
        territoire = reader.text(w, t, "territoire")
        if territoire != REGIONAL and territoire not in territories:
            raise reader.fail(f"{w}.territoire", territoire,
                              _("« regional » ou l'un de : {choices}").format(
                                  choices=", ".join(territories)))
        relance = t.get("relance", False)
        if not isinstance(relance, bool):
            raise reader.fail(f"{w}.relance", relance, _("true ou false"))
        result.append(Organization(
            nom=nom,
            courriels=tuple(reader.address(f"{w}.courriels", c).lower() for c in courriels),
            territoire=territoire,
            table=reader.text(w, t, "table", required=False),
            relance=relance,
            site_web=_web_address(reader, w, t),
            courriel_public=_public_address(reader, w, t),
            telephone_public=_one_line(reader, w, t, "telephone_public", 40),
            description=_one_line(reader, w, t, "description", DESCRIPTION_MAX)))
    return tuple(result)


def _one_line(reader: _Reader, where: str, table: dict[str, Any], key: str,
              limit: int) -> str | None:
    """The key's text on one line (a description may be a TOML multi-line string)."""
    value = reader.text(where, table, key, required=False, lines=key == "description")
    if value is None:
        return None
    value = " ".join(value.split())
    if len(value) > limit:
        raise reader.fail(f"{where}.{key}", value,
                          _("au plus {n} caractères").format(n=limit))
    return value


def _web_address(reader: _Reader, where: str, table: dict[str, Any]) -> str | None:
    value = _one_line(reader, where, table, "site_web", 300)
    if value is None:
        return None
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise reader.fail(f"{where}.site_web", value,
                          _("une adresse web complète, qui commence par https://"))
    return value


def _public_address(reader: _Reader, where: str, table: dict[str, Any]) -> str | None:
    value = _one_line(reader, where, table, "courriel_public", 254)
    return None if value is None else reader.address(f"{where}.courriel_public", value)
