"""French sentences for the English of the parsers: PyYAML, tomllib and dates.

The pivot reads « un guillemet ouvert n'est jamais fermé », not « found unexpected end of
stream ». Each function turns a parser's exception into one French sentence and appends the
parser's own text as « détail technique » (what a maintainer searches for). A message that
is not known here still gets a French sentence, with the same detail.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import yaml

from .i18n import _


def detailed(sentence: str, original: object) -> str:
    """Join a French sentence and the library's own text, given as a technical detail."""
    return _("{sentence} (détail technique : {original})").format(sentence=sentence,
                                                                   original=original)




def _yaml_sentences() -> list[tuple[re.Pattern[str], str]]:
    """Return PyYAML's problems (regular expressions) with their French sentence."""
    table = [
        (r"mapping values are not allowed here",
         _("deux-points « : » inattendu ; un texte qui contient « : » doit être entre "
           "guillemets")),
        (r"could not find expected ':'",
         _("il manque le deux-points « : » après le nom du champ")),
        (r"found character '\\t' that cannot start any token",
         _("une tabulation au début d'une ligne ou d'une valeur : remplacez-la par des "
           "espaces")),
        (r"found character (?P<c>.+) that cannot start any token",
         _("le caractère {c} ne peut pas commencer une valeur ; mettez la valeur entre "
           "guillemets")),
        (r"found unexpected end of stream",
         _("un guillemet ouvert à la ligne {opened} n'est jamais fermé")),
        (r"found unknown escape character (?P<c>.+)",
         _("la barre oblique inverse « \\ » ne peut pas être suivie de {c} entre guillemets "
           "doubles ; écrivez « \\\\ » ou utilisez des guillemets simples")),
        (r"expected <block end>, but found",
         _("ligne mal alignée, ou texte en trop après une valeur entre guillemets ; chaque "
           "champ commence au début de sa ligne")),
        (r"expected ',' or '\}', but got",
         _("dans une valeur entre accolades {{ }}, il manque une virgule ou l'accolade "
           "fermante")),
        (r"expected ',' or '\]', but got",
         _("dans une liste entre crochets [ ], il manque une virgule ou le crochet fermant")),
        (r"invalid indentation or unclosed '\[' or '\{'",
         _("indentation invalide, ou crochet « [ » ou accolade « {{ » jamais fermé")),
        (r"sequence entries are not allowed here",
         _("tiret « - » de liste inattendu à cet endroit")),
        (r"mapping keys are not allowed here",
         _("point d'interrogation « ? » inattendu en début de valeur")),
        (r"expected a comment or a line break, but found",
         _("texte inattendu en fin de ligne")),
        (r"expected the node content, but found",
         _("valeur manquante ou mal placée")),
        (r"found undefined alias",
         _("une valeur qui commence par « * » doit être entre guillemets")),
        (r"expected alphabetic or numeric character, but found",
         _("une valeur qui commence par « & » ou « * » doit être entre guillemets")),
        (r"could not determine a constructor for the tag",
         _("une valeur qui commence par « ! » doit être entre guillemets")),
        (r"found unexpected document separator|expected a single document|"
         r"but found another document",
         _("une ligne « --- » de trop dans l'en-tête")),
        (r"found duplicate anchor",
         _("le même nom « & » est utilisé deux fois")),
    ]
    return [(re.compile(pattern), sentence) for pattern, sentence in table]


def yaml_problem(exc: yaml.YAMLError, first_line: int = 1) -> str:
    """Say in French what PyYAML found wrong (the caller gives the line of the problem).

    ``first_line`` is the file's line of the text's first line, to name where a quote that
    is never closed was opened.
    """
    problem = getattr(exc, "problem", None) or str(exc)
    context = getattr(exc, "context_mark", None)
    opened = first_line + context.line if context is not None else "?"
    for pattern, sentence in _yaml_sentences():
        found = pattern.search(problem)
        if found:
            char = "« {c} »".format(c=(found.groupdict().get("c") or "").strip("'\""))
            return detailed(sentence.format(c=char, opened=opened), problem)
    return detailed(_("syntaxe YAML incorrecte"), problem)


def _date_sentences() -> list[tuple[re.Pattern[str], str]]:
    """Return the date and time constructors' complaints with their French sentence."""
    table = [
        (r"month must be in 1\.\.12", _("le mois doit aller de 1 à 12")),
        (r"day is out of range for month|day \d+ must be in range",
         _("ce jour n'existe pas dans ce mois")),
        (r"year -?\d+ is out of range", _("année impossible")),
        (r"hour must be in 0\.\.23", _("l'heure doit aller de 0 à 23")),
        (r"minute must be in 0\.\.59", _("les minutes doivent aller de 0 à 59")),
        (r"second must be in 0\.\.59", _("les secondes doivent aller de 0 à 59")),
    ]
    return [(re.compile(pattern), sentence) for pattern, sentence in table]


def value_problem(exc: Exception) -> str:
    """Say in French why a value could not be built (an impossible date, most often)."""
    if isinstance(exc, yaml.YAMLError):
        return yaml_problem(exc)
    for pattern, sentence in _date_sentences():
        if pattern.search(str(exc)):
            return detailed(sentence, exc)
    return detailed(_("valeur impossible à lire"), exc)


@dataclass(frozen=True)
class TomlProblem:
    """A TOML syntax error, in French, with where it is (None: at the end of the file)."""

    message: str
    line: int | None
    column: int | None


_TOML_WHERE = re.compile(r"\s*\(at (?:line (\d+), column (\d+)|end of document)\)\s*$")


def _toml_sentences() -> list[tuple[re.Pattern[str], str]]:
    """Return tomllib's messages (regular expressions) with their French sentence."""
    table = [
        (r"Expected '=' after a key",
         _("il manque le signe « = » après le nom de la clé (un nom de clé s'écrit sans "
           "espace, ou entre guillemets)")),
        (r"Invalid statement",
         _("ligne incompréhensible : attendu « clé = valeur » ou « [table] »")),
        (r"Expected newline or end of document after a statement",
         _("texte en trop après la valeur : une seule « clé = valeur » par ligne, et un "
           "commentaire commence par #")),
        (r"Expected '\]' at the end of a table declaration",
         _("il manque le « ] » qui ferme le nom de la table")),
        (r"Expected '\]\]' at the end of an array declaration",
         _("il manque le « ]] » qui ferme le nom de la table")),
        (r"Cannot declare \((?P<name>.*)\) twice",
         _("la table [{name}] est déclarée deux fois")),
        (r"Cannot overwrite a value",
         _("une clé reçoit une deuxième valeur : gardez une seule ligne par clé")),
        (r"Cannot (?:mutate immutable|redefine) namespace (?P<name>.*)",
         _("la table « {name} » est déjà définie")),
        (r"Duplicate inline table key (?P<name>.*)",
         _("la clé « {name} » apparaît deux fois entre accolades")),
        (r"Invalid initial character for a key part",
         _("caractère invalide au début d'un nom de clé")),
        (r"Unterminated string", _("un guillemet ouvert n'est jamais fermé")),
        (r"Unclosed array", _("il manque le « ] » qui ferme la liste")),
        (r"Unclosed inline table", _("il manque l'accolade « }} » qui ferme la table")),
        (r"Unescaped '\\' in a string",
         _("barre oblique inverse « \\ » seule entre guillemets doubles : écrivez « \\\\ », "
           "ou utilisez des guillemets simples")),
        (r"Invalid hex value|not a Unicode scalar value",
         _("code de caractère \\u invalide")),
        (r"Illegal character '\\n'",
         _("un guillemet ouvert n'est jamais fermé sur cette ligne")),
        (r"Illegal character (?P<name>.*)",
         _("caractère interdit dans un texte : {name}")),
        (r"Invalid date or datetime",
         _("date impossible : écrivez AAAA-MM-JJ, avec un mois de 1 à 12 et un jour qui "
           "existe")),
        (r"Invalid value",
         _("valeur invalide : un texte s'écrit entre guillemets, un nombre sans guillemets, "
           "oui et non s'écrivent true et false")),
        (r"Found invalid character (?P<name>.*)", _("caractère invalide : {name}")),
        (r"Expected (?P<name>'.*')", _("{name} attendu")),
    ]
    return [(re.compile(pattern), sentence) for pattern, sentence in table]


def _toml_name(found: str) -> str:
    """Turn tomllib's ``('a', 'b')`` or ``'a'`` into ``a.b`` or ``a``."""
    parts = re.findall(r"'([^']*)'|\"([^\"]*)\"", found)
    return ".".join(a or b for a, b in parts) if parts else found


def toml_problem(exc: Exception) -> TomlProblem:
    """Say in French what tomllib found wrong, and where (line and column, 1-based)."""
    text = str(exc)
    where = _TOML_WHERE.search(text)
    problem = text[:where.start()] if where else text
    line = int(where.group(1)) if where and where.group(1) else None
    column = int(where.group(2)) if where and where.group(2) else None
    for pattern, sentence in _toml_sentences():
        found = pattern.search(problem)
        if found:
            name = _toml_name(found.groupdict().get("name") or "")
            return TomlProblem(detailed(sentence.format(name=name), text), line, column)
    return TomlProblem(detailed(_("syntaxe TOML incorrecte"), text), line, column)
