"""Keys as people write them: with accents (« expéditeur »), which TOML only takes quoted.

``quote_accented_keys`` quotes them before TOML parses the text (line numbers unchanged);
``plain_keys`` then takes the accents off every key of a setting, so « expéditeur » is
« expediteur », and refuses a key written twice that way.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from ..errors import ConfigError
from ..i18n import _

#: Tables whose keys are the network's own identifiers (slugs), not names of settings.
DATA_TABLES = ("territoires", "rubriques")
_KEY_PART = r"(?:[\w-]+|\"[^\"\n]*\"|'[^'\n]*')"
_KEY_LINE = re.compile(rf"^(\s*(?:\[\[?\s*)?)({_KEY_PART}(?:\s*\.\s*{_KEY_PART})*)"
                       r"(?=\s*(?:=|\]))")


def plain(key: str) -> str:
    """Return ``key`` without its accents (« expéditeur » → « expediteur »)."""
    return "".join(c for c in unicodedata.normalize("NFKD", key) if not unicodedata.combining(c))


def quote_accented_keys(text: str) -> str:
    """Put TOML's quotes around a key written with accents (``expéditeur = …``).

    TOML only allows ASCII letters in a bare key: without quotes, ``expéditeur`` is a syntax
    error (« Expected '=' »), though it is what a French speaker writes. Lines inside a
    multi-line string are left alone; line numbers do not change.
    """
    lines, inside = text.split("\n"), None
    for n, line in enumerate(lines):
        if inside is None:
            lines[n] = _KEY_LINE.sub(lambda m: m.group(1) + _quote_parts(m.group(2)), line)
        for quote in re.findall(r'"""|\'\'\'', lines[n]):
            inside = quote if inside is None else (None if quote == inside else inside)
    return "\n".join(lines)


def _quote_parts(path: str) -> str:
    """Quote each bare, non-ASCII part of a dotted key (``a.é`` → ``a."é"``)."""
    return re.sub(_KEY_PART, lambda m: m.group(0) if m.group(0).isascii() or
                  m.group(0)[0] in "\"'" else f'"{m.group(0)}"', path)


def plain_keys(raw: Any, where: str, table: str = "") -> Any:
    """Accept the keys of settings written with accents: ``expéditeur`` is ``expediteur``.

    The keys of ``DATA_TABLES`` are the network's identifiers and are left as written (their
    own check refuses accents). Two spellings of one key in a table are refused.
    """
    if isinstance(raw, list):
        return [plain_keys(v, where, table) for v in raw]
    if not isinstance(raw, dict) or table in DATA_TABLES:
        return raw
    result: dict[str, Any] = {}
    for key, value in raw.items():
        name = plain(key)
        if name in result:
            raise ConfigError(
                _("la clé « {key} » est écrite deux fois dans {table} (aussi sans accents ou "
                  "avec d'autres accents).").format(key=name, table=f"[{table}]" if table
                                                    else _("le fichier")),
                where=where, fix=_("Gardez une seule ligne « {key} = … ».").format(key=name))
        result[name] = plain_keys(value, where, table or name)
    return result
