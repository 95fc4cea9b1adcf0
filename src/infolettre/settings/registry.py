"""Add an address to an organization of the registry (``[[organismes]]``), in the file itself.

The configuration is a file people edit by hand, with comments and their own layout: it is
never rewritten from the parsed values. Only the ``courriels = [...]`` array of the one
organization changes, by a minimal text edit, when that array is in a form this code can
edit safely (quoted addresses, commas, spaces, no comment inside the brackets); otherwise
it refuses and says which line to write by hand. The new text is loaded with the settings
loader before it replaces the file (durably: ``fsutil``), so a file that would not load is
never written.
"""

from __future__ import annotations

import os
import re
import tempfile
import tomllib
from pathlib import Path

from ..errors import ConfigError
from ..fsutil import write_durably
from ..i18n import _
from .reader import load_settings

_TABLE = re.compile(r"^[ \t]*\[\[?[^\]\n]+\]\]?[ \t]*(?:#.*)?$", re.M)
_ORGS = re.compile(r"^[ \t]*\[\[[ \t]*organismes[ \t]*\]\][ \t]*(?:#.*)?$", re.M)
_NOM = re.compile(r"^[ \t]*nom[ \t]*=.*$", re.M)
_ARRAY = re.compile(r"^([ \t]*courriels[ \t]*=[ \t]*\[)([^\]#]*)(\])", re.M)
_STRINGS = re.compile(r'\s*(?:"[^"\\\n]*"\s*,\s*)*(?:"[^"\\\n]*"\s*,?\s*)?')
#: An address the file can hold as a plain TOML string, without any escape.
ADDRESS = re.compile(r"[^\s\"\\@<>(),;:\[\]]+@[^\s\"\\@<>(),;:\[\]]+\.[^\s\"\\@<>(),;:\[\]]+")


def manual_line(address: str, organization: str) -> str:
    """Say, in French, what to write by hand when the file cannot be edited here."""
    return _("Ajoutez \"{address}\" à courriels dans le bloc [[organismes]] nom = \"{nom}\" "
             "de infolettre.toml.").format(address=address, nom=organization)


def with_address(text: str, organization: str, address: str) -> str:
    """Return the configuration ``text`` with ``address`` added to ``organization``'s
    ``courriels``; everything else (comments, spacing, order) unchanged.

    ``ConfigError`` when the block or its array is not found in a form safe to edit.
    """
    if not ADDRESS.fullmatch(address):
        raise ConfigError(_("« {address} » n'est pas une adresse courriel que l'on peut "
                            "ajouter au registre.").format(address=address[:120]))
    start, end = _block(text, organization)
    found = list(_ARRAY.finditer(text, start, end))
    if len(found) != 1 or not _STRINGS.fullmatch(found[0].group(2)):
        raise ConfigError(_("la liste « courriels » de l'organisme « {nom} » n'a pas une forme "
                            "que l'application sait modifier sans risque.").format(
                                nom=organization),
                          fix=manual_line(address, organization))
    array = found[0]
    inner = array.group(2)
    if not inner.strip():
        new_inner = f'"{address}"'
    elif "\n" in inner:  # one address a line: a new line like the last one
        body = inner.rstrip()
        indent = re.search(r"\n([ \t]*)\"[^\n]*$", body)
        comma = "" if body.endswith(",") else ","
        new_inner = f'{body}{comma}\n{indent.group(1) if indent else "    "}"{address}",' \
                    f'{inner[len(body):]}'
    else:
        body = inner.rstrip()
        tail = inner[len(body):]
        new_inner = f'{body.rstrip(",")}, "{address}"{tail}'
    return text[:array.start(2)] + new_inner + text[array.end(2):]


def _block(text: str, organization: str) -> tuple[int, int]:
    """Return where the ``[[organismes]]`` block named ``organization`` starts and ends."""
    for header in _ORGS.finditer(text):
        following = _TABLE.search(text, header.end())
        end = following.start() if following else len(text)
        for line in _NOM.finditer(text, header.end(), end):
            try:
                name = tomllib.loads(line.group(0).strip()).get("nom")
            except tomllib.TOMLDecodeError:
                continue
            if isinstance(name, str) and name.strip().casefold() == \
                    organization.strip().casefold():
                return header.end(), end
    raise ConfigError(_("l'organisme « {nom} » est introuvable dans le fichier de "
                        "configuration.").format(nom=organization),
                      fix=manual_line("…", organization))


def prepared_address(path: Path, organization: str,
                     address: str) -> tuple[Path, str] | None:
    """Return the configuration file (links followed) and its text with ``address`` added
    to ``organization``'s ``courriels``, checked but not written (``write_config``); None
    when the file already gives it that address. ``ConfigError`` when another has it.

    The new text is loaded by the settings loader (from a temporary copy beside the file:
    relative paths resolve the same); it must load and give that organization the address,
    else ``ConfigError``.
    """
    address = address.strip().lower()
    path = path.resolve()  # a link to the file: the file is edited, the link kept
    owner = next((o for o in load_settings(path).organizations if address in o.courriels),
                 None)  # the file as it is now (the app's copy may predate an edit)
    if owner is not None and owner.nom.casefold() == organization.strip().casefold():
        return None
    if owner is not None:
        raise ConfigError(_("l'adresse {address} est déjà inscrite pour l'organisme "
                            "« {nom} ».").format(address=address, nom=owner.nom),
                          where=str(path))
    updated = with_address(path.read_text(encoding="utf-8"), organization, address)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".verif", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(updated)
        loaded = load_settings(Path(tmp))
    finally:
        os.unlink(tmp)
    org = next((o for o in loaded.organizations
                if o.nom.casefold() == organization.strip().casefold()), None)
    if org is None or address not in org.courriels:
        raise ConfigError(_("l'adresse n'a pas pu être ajoutée au registre."), where=str(path),
                          fix=manual_line(address, organization))
    return path, updated


def write_config(path: Path, text: str) -> None:
    """Replace the configuration file durably, keeping its permissions (it may hold secrets)."""
    data = text.encode("utf-8")
    write_durably(path, lambda handle: handle.write(data), mode=path.stat().st_mode & 0o777)


def add_address(path: Path, organization: str, address: str) -> None:
    """Add ``address`` to ``organization``'s ``courriels`` in the file at ``path``."""
    prepared = prepared_address(path, organization, address)
    if prepared is not None:
        write_config(*prepared)
