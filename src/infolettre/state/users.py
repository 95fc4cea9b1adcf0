"""The accounts of the review app: who may sign in, with which role and territory.

Passwords are stored only as argon2id hashes (memory-hard: a stolen database does not give
them away cheaply), rehashed at sign-in when the parameters change. Failed sign-ins are
counted per account: after ``MAX_FAILURES`` in a row the account is refused for
``LOCK_MINUTES`` (a guessing robot is slowed down; the person waits a quarter of an hour).

Roles: a *pivot* does everything; a *relecteur* (a local delegate) sees and edits the items
of one territory and can approve them, but cannot sign off an issue nor send it.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from ..clock import SYSTEM_CLOCK, Clock
from ..errors import InfolettreError
from ..i18n import _
from .database import migrate

ROLES = ("pivot", "relecteur")
MIN_PASSWORD = 10
MAX_FAILURES = 5
LOCK_MINUTES = 15
MIGRATIONS = [
    """
    CREATE TABLE utilisateurs (
        courriel TEXT PRIMARY KEY,
        role TEXT NOT NULL CHECK (role IN ('pivot', 'relecteur')),
        territoire TEXT,
        empreinte TEXT NOT NULL,
        cree_le TEXT NOT NULL,
        echecs INTEGER NOT NULL DEFAULT 0,
        bloque_jusqu_a TEXT
    ) WITHOUT ROWID
    """,
]
_HASHER = PasswordHasher()  # argon2id, the library's recommended parameters


@dataclass(frozen=True)
class User:
    """A signed-in person, as the app knows them."""

    email: str
    role: str
    territoire: str | None = None

    @property
    def is_pivot(self) -> bool:
        return self.role == "pivot"


class AccountError(InfolettreError):
    """An account cannot be created, or a sign-in is refused for a reason to say."""


class UserStore:
    """The ``utilisateurs`` table of the state database."""

    def __init__(self, conn: sqlite3.Connection, *, clock: Clock = SYSTEM_CLOCK):
        self.conn = conn
        self.clock = clock
        migrate(conn, "utilisateurs", MIGRATIONS)

    def add(self, email: str, password: str, role: str = "pivot",
            territoire: str | None = None) -> User:
        """Create the account, or set a new password, role and territory if it exists."""
        email = _normalize(email)
        if role not in ROLES:
            raise AccountError(_("rôle inconnu : « {role} ».").format(role=role),
                               fix=_("Choisissez pivot ou relecteur."))
        if role == "relecteur" and not territoire:
            raise AccountError(_("un relecteur relit les nouvelles d'un territoire : lequel ?"),
                               fix=_("Ajoutez --territoire suivi de l'identifiant du "
                                     "territoire (voir [territoires] dans infolettre.toml)."))
        if len(password) < MIN_PASSWORD:
            raise AccountError(_("mot de passe trop court (au moins {n} caractères).").format(
                n=MIN_PASSWORD), fix=_("Choisissez une phrase de passe plus longue."))
        self.conn.execute(
            "INSERT INTO utilisateurs (courriel, role, territoire, empreinte, cree_le) "
            "VALUES (?, ?, ?, ?, ?) ON CONFLICT (courriel) DO UPDATE SET role = excluded.role, "
            "territoire = excluded.territoire, empreinte = excluded.empreinte, echecs = 0, "
            "bloque_jusqu_a = NULL",
            (email, role, territoire if role == "relecteur" else None, _HASHER.hash(password),
             self.clock.now().isoformat(timespec="seconds")))
        return User(email, role, territoire if role == "relecteur" else None)

    def remove(self, email: str) -> bool:
        """Delete the account; return False when there was none."""
        return self.conn.execute("DELETE FROM utilisateurs WHERE courriel = ?",
                                 (_normalize(email),)).rowcount == 1

    def all(self) -> list[User]:
        """Return every account, by address."""
        rows = self.conn.execute("SELECT courriel, role, territoire FROM utilisateurs "
                                 "ORDER BY courriel").fetchall()
        return [User(r[0], r[1], r[2]) for r in rows]

    def get(self, email: str) -> User | None:
        """Return the account of ``email`` (for the session), or None."""
        row = self.conn.execute("SELECT courriel, role, territoire FROM utilisateurs "
                                "WHERE courriel = ?", (_normalize(email),)).fetchone()
        return User(row[0], row[1], row[2]) if row else None

    def authenticate(self, email: str, password: str) -> User:
        """Return the account if the password is right; ``AccountError`` otherwise.

        The same refusal for an unknown address and a wrong password (nothing tells which
        addresses exist); a locked account says when to try again.
        """
        email = _normalize(email)
        row = self.conn.execute("SELECT * FROM utilisateurs WHERE courriel = ?",
                                (email,)).fetchone()
        now = self.clock.now()
        if row is not None and row["bloque_jusqu_a"] and \
                datetime.fromisoformat(row["bloque_jusqu_a"]) > now:
            raise AccountError(_("trop d'essais manqués pour ce compte : réessayez dans "
                                 "{n} minutes.").format(n=LOCK_MINUTES))
        if row is None or not _verify(row["empreinte"], password):
            if row is not None:
                self._failed(email, row["echecs"] + 1, now)
            raise AccountError(_("courriel ou mot de passe incorrect."))
        if _HASHER.check_needs_rehash(row["empreinte"]):
            self.conn.execute("UPDATE utilisateurs SET empreinte = ? WHERE courriel = ?",
                              (_HASHER.hash(password), email))
        self.conn.execute("UPDATE utilisateurs SET echecs = 0, bloque_jusqu_a = NULL "
                          "WHERE courriel = ?", (email,))
        return User(row["courriel"], row["role"], row["territoire"])

    def _failed(self, email: str, count: int, now: datetime) -> None:
        locked = (now + timedelta(minutes=LOCK_MINUTES)).isoformat(timespec="seconds") \
            if count >= MAX_FAILURES else None
        self.conn.execute("UPDATE utilisateurs SET echecs = ?, bloque_jusqu_a = ? "
                          "WHERE courriel = ?", (0 if locked else count, locked, email))


def _verify(stored: str, password: str) -> bool:
    try:
        return _HASHER.verify(stored, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def _normalize(email: str) -> str:
    email = (email or "").strip().lower()
    if "@" not in email or any(c.isspace() for c in email) or len(email) > 254:
        raise AccountError(_("adresse de courriel invalide : « {email} ».").format(
            email=email[:80]), fix=_("Écrivez l'adresse complète, par exemple "
                                     "pivot@example.org."))
    return email
