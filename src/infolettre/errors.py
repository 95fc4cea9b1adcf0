"""One error hierarchy, so the CLI can catch everything in one place and speak French.

Every error carries *what* is wrong, *where* (file and line, key, sender, feed) and *how to
fix it*: the people who read them are community workers, not programmers.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from pathlib import Path


class InfolettreError(Exception):
    """Base of every error infolettre reports to a person."""

    def __init__(self, message: str, *, where: str | None = None, fix: str | None = None):
        super().__init__(message)
        self.message = message
        self.where = where
        self.fix = fix

    def __str__(self) -> str:
        parts = [f"{self.where} : {self.message}" if self.where else self.message]
        if self.fix:
            parts.append(self.fix)
        return "\n".join(parts)


class ConfigError(InfolettreError):
    """The configuration file is missing, unreadable or holds a bad value."""


class ContentError(InfolettreError):
    """Content could not be read at all (not a single bad item: those are Problems)."""


class BuildError(InfolettreError):
    """An issue could not be rendered (template error, edition too heavy, ...)."""


class DeliveryError(InfolettreError):
    """Messages could not be written or sent."""


class Severity(str, Enum):
    ERROR = "erreur"
    WARNING = "avertissement"
    NOTICE = "note"


@dataclass(frozen=True)
class Problem:
    """One thing wrong with one input, collected so a bad file never stops the others."""

    severity: Severity
    message: str
    path: Path | None = None
    line: int | None = None
    fix: str | None = None
    kind: str = ""  # a family pages may show apart (« conflit »: see organize.same_day_events)

    @property
    def where(self) -> str:
        if self.path is None:
            return ""
        shown = _relative(self.path)
        return f"{shown}:{self.line}" if self.line else shown

    def __str__(self) -> str:
        head = f"{self.where} : {self.message}" if self.where else self.message
        return f"{head} {self.fix}" if self.fix else head


#: How much of a value from outside an error message quotes (a title, a date, a key).
QUOTE_LIMIT = 80


def cut(value: object, limit: int = QUOTE_LIMIT) -> str:
    """Return ``value`` as one line of at most ``limit`` characters (« … » marks a cut).

    Error messages quote what a person wrote so they can find it; a value of megabytes
    (a pasted document, a nested list) must not become megabytes of error text.
    """
    text = str(value)
    if len(text) > limit * 4:  # never split a huge value on whitespace
        text = text[:limit * 4]
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit - 1].rstrip() + "…"


def _relative(path: Path) -> str:
    """Show a path relative to the working folder when it is inside it (shorter to read)."""
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def cause_of_kind(exc: BaseException, kind: type[BaseException]) -> BaseException | None:
    """Return ``exc`` or the first of its causes / contexts that is a ``kind``, else None.

    Network libraries wrap the OS's error (a refused connection, a bad certificate) in
    their own: the message for a person depends on the one underneath.
    """
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, kind):
            return current
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return None
