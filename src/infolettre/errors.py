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

    @property
    def where(self) -> str:
        if self.path is None:
            return ""
        shown = _relative(self.path)
        return f"{shown}:{self.line}" if self.line else shown

    def __str__(self) -> str:
        head = f"{self.where} : {self.message}" if self.where else self.message
        return f"{head} {self.fix}" if self.fix else head


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
