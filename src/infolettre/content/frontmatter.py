"""Split a content file into front matter and body, keeping the line of every key.

python-frontmatter finds and splits the header (its handlers' ``detect`` and ``split``:
``---`` YAML, and ``+++`` TOML as Hugo writes it), but its ``load`` loses line numbers and
the pivot needs « fichier.md:7 : date impossible ». So this reader decodes the bytes (UTF-8,
BOM, CRLF; Windows-1252 with a warning), lets python-frontmatter split, then constructs each
value of the split text on its own so an error points at its line (TOML:
``frontmatter_toml``). It never raises on bad input: it reports Problems.

YAML anchors and aliases (``&a`` / ``*a``) are refused: front matter never needs them, and a
few lines of nested aliases expand to billions of values (the "billion laughs"), which would
hang ``check`` or print megabytes of error. Values quoted in errors are cut (``errors.cut``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from frontmatter.default_handlers import BaseHandler, YAMLHandler

from ..errors import Problem, Severity, cut
from ..i18n import _
from ..parse_errors import value_problem, yaml_problem
from .frontmatter_toml import TomlSplitter, parse_toml

#: python-frontmatter's handlers, asked in this order which one the file's first line opens.
HANDLERS: tuple[BaseHandler, ...] = (YAMLHandler(), TomlSplitter())
SCANNING_ALIAS = ("while scanning an alias", "while scanning an anchor")
EXAMPLE = "---\ntitre: …\norganisme: …\nrubrique: nouvelles\ndate: 2026-11-18\n---"


class AliasRefused(yaml.YAMLError):
    """An anchor or alias in front matter: refused before anything is expanded."""

    def __init__(self, mark: yaml.Mark, text: str):
        super().__init__(text)
        self.problem_mark = mark
        self.text = text


class _NoAliasLoader(yaml.SafeLoader):
    """A SafeLoader that stops at the first anchor (``&a``) or alias (``*a``)."""

    def compose_node(self, parent, index):  # noqa: ANN001 - PyYAML's signature
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent):
            raise AliasRefused(event.start_mark, f"*{event.anchor}")
        if getattr(event, "anchor", None) is not None:
            raise AliasRefused(event.start_mark, f"&{event.anchor}")
        return super().compose_node(parent, index)


@dataclass
class RawDocument:
    """Front-matter values with their line numbers, the body, and what went wrong."""

    path: Path
    values: dict[str, Any] = field(default_factory=dict)
    lines: dict[str, int] = field(default_factory=dict)
    body: str = ""
    body_line: int = 1
    problems: list[Problem] = field(default_factory=list)

    def error(self, message: str, *, key: str | None = None, line: int | None = None,
              fix: str | None = None) -> None:
        self.problems.append(Problem(Severity.ERROR, message, self.path,
                                     line or self.lines.get(key or ""), fix))

    def warn(self, message: str, *, key: str | None = None, line: int | None = None,
             fix: str | None = None) -> None:
        self.problems.append(Problem(Severity.WARNING, message, self.path,
                                     line or self.lines.get(key or ""), fix))

    @property
    def ok(self) -> bool:
        return not any(p.severity is Severity.ERROR for p in self.problems)


def decode(raw: bytes, doc: RawDocument) -> str | None:
    """Decode file bytes to text with LF line endings; UTF-8 expected."""
    if b"\x00" in raw:
        doc.error(_("ce fichier n'est pas un texte (il contient des octets nuls)."),
                  fix=_("Retirez-le du dossier content/ ou enregistrez-le en texte UTF-8."))
        return None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("cp1252", errors="replace")
        if "\ufffd" in text:
            text = raw.decode("latin-1")
        doc.warn(_("le fichier n'est pas en UTF-8 ; il a été lu comme du Windows-1252 (Latin-1)."),
                 fix=_("Enregistrez-le en UTF-8 dans votre éditeur pour éviter les accents "
                       "mal lus."))
    return text.replace("\r\n", "\n").replace("\r", "\n")


def read_document(path: Path) -> RawDocument:
    """Read ``path`` into a RawDocument; problems are collected, never raised."""
    doc = RawDocument(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        doc.error(_("lecture impossible ({reason}).").format(reason=exc.strerror or exc),
                  fix=_("Vérifiez que le fichier existe et qu'il est lisible."))
        return doc
    text = decode(raw, doc)
    if text is not None:
        split(text, doc)
    return doc


def split(text: str, doc: RawDocument) -> None:
    """Separate the header from the body (python-frontmatter) and parse it key by key."""
    if text.lstrip().startswith("{"):
        doc.error(_("l'en-tête est en JSON ; infolettre lit l'en-tête YAML (ou TOML)."),
                  line=1, fix=_("Réécrivez l'en-tête entre deux lignes « --- » :\n{ex}")
                  .format(ex=EXAMPLE))
        return
    handler = next((h for h in HANDLERS if h.detect(text)), None)
    bounds = header_bounds(handler, text) if handler is not None else None
    if bounds is None and isinstance(handler, TomlSplitter):
        doc.error(_("en-tête TOML non fermé."), line=1,
                  fix=_("Fermez l'en-tête par une ligne « +++ », avant le texte."))
        return
    if bounds is None:
        doc.error(_("en-tête YAML absent ou non fermé."), line=1,
                  fix=_("Le fichier doit commencer par une ligne « --- », suivie des champs, "
                        "puis d'une autre ligne « --- » :\n{ex}").format(ex=EXAMPLE))
        return
    start, end = bounds
    closed = text.find("\n", end)  # the end of the closing delimiter's line
    closed = len(text) if closed < 0 else closed
    doc.body = text[closed:].lstrip("\n")
    doc.body_line = text.count("\n", 0, closed) + 2
    if isinstance(handler, TomlSplitter):
        parse_toml(text[start:end], doc, first_line=2)
    else:
        parse_header(text[start:end], doc, first_line=2)


def header_bounds(handler: BaseHandler, text: str) -> tuple[int, int] | None:
    """Return where the header's text starts (the line after the opening delimiter) and
    ends (the closing delimiter), as ``handler.split`` cut it; None when it is not closed.

    The handler's boundary may swallow blank lines after the opening delimiter; the header
    still starts on line 2, so every key keeps the line it has in the file.
    """
    opening = handler.FM_BOUNDARY.match(text)
    try:
        header, _content = handler.split(text)
    except ValueError:  # no closing delimiter
        return None
    start, end = text.find("\n") + 1, opening.end() + len(header)
    return (start, end) if 0 < start <= end else None


def parse_header(header: str, doc: RawDocument, *, first_line: int) -> None:
    """Construct each top-level value separately so an error names its own line."""
    loader = _NoAliasLoader(header)
    try:
        node = loader.get_single_node()
    except (AliasRefused, yaml.scanner.ScannerError) as exc:
        if not isinstance(exc, AliasRefused) and exc.context not in SCANNING_ALIAS:
            _invalid(doc, exc, first_line)
            return
        text = exc.text if isinstance(exc, AliasRefused) else \
            header.splitlines()[exc.context_mark.line][exc.context_mark.column:]
        doc.error(_("« {text} » : les ancres et alias YAML (« &nom », « *nom ») ne sont pas "
                    "acceptés dans l'en-tête.").format(text=cut(text, 40)),
                  line=first_line + (exc.problem_mark or exc.context_mark).line,
                  fix=_("Écrivez chaque valeur en toutes lettres. Un texte qui commence par "
                        "« * » ou « & » (ex. *Nouveau*) se met entre guillemets : "
                        "titre: \"*Nouveau* programme\"."))
        return
    except yaml.YAMLError as exc:
        _invalid(doc, exc, first_line)
        return
    finally:
        loader.dispose()
    if node is None:  # an empty header: no values, which validation then reports
        return
    if not isinstance(node, yaml.MappingNode):
        doc.error(_("l'en-tête doit être une liste de champs « clé: valeur »."), line=first_line,
                  fix=EXAMPLE)
        return
    for key_node, value_node in node.value:
        add_value(loader, key_node, value_node, doc, first_line)


def _invalid(doc: RawDocument, exc: yaml.YAMLError, first_line: int) -> None:
    """Report YAML that does not parse, at its line."""
    mark = getattr(exc, "problem_mark", None)
    line = first_line + mark.line if mark else None
    doc.error(_("en-tête YAML invalide : {problem}.").format(
                  problem=cut(yaml_problem(exc, first_line), 300)),
              line=line, fix=_("Vérifiez les deux-points, l'indentation et les guillemets "
                               "à cette ligne (mettez entre guillemets un texte qui "
                               "contient « : » ou « # »)."))


def add_value(loader: yaml.SafeLoader, key_node: yaml.Node, value_node: yaml.Node,
              doc: RawDocument, first_line: int) -> None:
    """Construct one ``key: value`` pair, reporting duplicates and impossible values."""
    key = str(key_node.value)
    line = first_line + key_node.start_mark.line
    if key in doc.values:
        doc.error(_("le champ « {key} » apparaît deux fois (aussi à la ligne {other}).")
                  .format(key=cut(key), other=doc.lines[key]), line=line,
                  fix=_("Gardez une seule ligne « {key}: ».").format(key=cut(key)))
        return
    doc.lines[key] = line
    try:
        doc.values[key] = loader.construct_object(value_node, deep=True)
    except (ValueError, TypeError, yaml.YAMLError) as exc:
        doc.error(_("valeur impossible pour « {key} » : {detail}.").format(
                      key=cut(key), detail=cut(value_problem(exc), 300)),
                  line=line, fix=_("Une date s'écrit AAAA-MM-JJ et doit exister "
                                   "(ex. 2026-12-05)."))
