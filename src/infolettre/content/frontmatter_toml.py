"""TOML front matter (``+++``, as Hugo writes it), read key by key with its line numbers.

Hugo users bring items whose header sits between two ``+++`` lines. python-frontmatter
finds and splits that block (its ``+++`` boundary, ``TomlSplitter``), but its own
``TOMLHandler`` needs the third-party ``toml`` package, which the project does not install:
Python's ``tomllib`` parses the split text instead. tomllib gives no line numbers, so each
top-level key's line is found by reading the lines again (``key = …``, ``[table]``,
``key.part = …``): an error then names « fichier.md:4 » as it does for YAML.
"""

from __future__ import annotations

import re
import tomllib
from typing import Any

from frontmatter import default_handlers

from ..errors import cut
from ..i18n import _
from ..parse_errors import toml_problem

#: python-frontmatter's own ``+++`` boundary when its TOMLHandler exists (``toml`` installed).
_BOUNDARY = getattr(default_handlers.TOMLHandler, "FM_BOUNDARY", None) or \
    re.compile(r"^\+{3,}\s*$", re.MULTILINE)
_NAME = r"""(?:"((?:[^"\\]|\\.)*)"|'([^']*)'|([A-Za-z0-9_-]+))"""
_KEY = re.compile(rf"^[ \t]*{_NAME}[ \t]*[.=]")
_TABLE = re.compile(rf"^[ \t]*\[\[?[ \t]*{_NAME}")
EXAMPLE = "+++\ntitre = \"…\"\norganisme = \"…\"\nrubrique = \"nouvelles\"\ndate = 2026-11-18\n+++"


class TomlSplitter(default_handlers.BaseHandler):
    """python-frontmatter's handler interface for ``+++`` blocks, loading with ``tomllib``."""

    FM_BOUNDARY = _BOUNDARY
    START_DELIMITER = END_DELIMITER = "+++"

    def load(self, fm: str, **kwargs: object) -> Any:
        return tomllib.loads(fm)

    def export(self, metadata: dict[str, object], **kwargs: object) -> str:
        raise NotImplementedError("infolettre writes YAML front matter only")


def parse_toml(header: str, doc: Any, *, first_line: int) -> None:
    """Parse a TOML header into ``doc`` (a ``RawDocument``) with each top-level key's line.

    ``doc`` is not typed by name: ``frontmatter`` imports this module, not the reverse.
    """
    try:  # blank lines first: tomllib's own « at line N » is then the file's line
        values = tomllib.loads("\n" * (first_line - 1) + header)
    except tomllib.TOMLDecodeError as exc:
        problem = toml_problem(exc)
        line = problem.line or first_line + header.count("\n")
        doc.error(_("en-tête TOML invalide : {problem}.").format(
                      problem=cut(problem.message, 300)),
                  line=line, fix=_("Vérifiez le signe « = », les guillemets et les crochets à "
                                   "cette ligne ; un texte s'écrit entre guillemets :\n{ex}")
                  .format(ex=EXAMPLE))
        return
    lines = key_lines(header, first_line)
    for key, value in values.items():
        doc.values[key] = value
        doc.lines[key] = lines.get(key, first_line)


def key_lines(header: str, first_line: int) -> dict[str, int]:
    """Return the line of each top-level key: ``key = …``, ``key.part = …`` or ``[key]``.

    Keys before the first table header are top-level; a table's own keys are not.
    """
    lines: dict[str, int] = {}
    in_table = False
    for number, text in enumerate(header.split("\n"), start=first_line):
        table = _TABLE.match(text)
        if table:
            in_table = True
            lines.setdefault(_name(table), number)
            continue
        key = _KEY.match(text)
        if key and not in_table:
            lines.setdefault(_name(key), number)
    return lines


def _name(match: re.Match[str]) -> str:
    basic, literal, bare = match.groups()
    if basic is not None:
        try:
            return tomllib.loads(f'k = "{basic}"')["k"]
        except tomllib.TOMLDecodeError:
            return basic
    return literal if literal is not None else bare
