"""What the feed watch remembers between runs, in the state database (SQLite).

Per feed: the validators of its last good answer (so an unchanged feed costs one 304), its
last success, its last error and how many runs in a row failed (so the pivot is warned
before a table's news silently stops arriving). Per entry: that it was seen, and what became
of it (an item, a duplicate of another one), so a run never proposes it twice. An item's
month, canonical link and normalized title are kept too: an email bringing the same news
later is recognised without reading every file of the month (``same_news``).

Validators are saved only once every new entry of the answer is written: a crash in between
means the next run fetches the whole feed again, and the seen entries keep it from doubling.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from ...clock import SYSTEM_CLOCK, Clock
from ...state import migrate
from .dedupe import canonical_url, normalized_title, titles_match
from .model import Validators

SCHEMA = ["""
CREATE TABLE flux_etat (
    url TEXT PRIMARY KEY,
    nom TEXT NOT NULL,
    etag TEXT,
    last_modified TEXT,
    derniere_tentative TEXT,      -- UTC, ISO 8601
    derniere_reussite TEXT,
    derniere_erreur TEXT,         -- the French message of the last failure
    erreur_le TEXT,
    echecs_consecutifs INTEGER NOT NULL DEFAULT 0,
    entrees INTEGER,              -- entries in the last answer read
    nouvelles INTEGER NOT NULL DEFAULT 0  -- items written from this feed, all runs
);
CREATE TABLE flux_entrees_vues (
    flux TEXT NOT NULL,           -- the feed's URL
    cle TEXT NOT NULL,            -- guid:…, lien:… or hash:…
    vu_le TEXT NOT NULL,
    resultat TEXT NOT NULL,       -- item | doublon
    chemin TEXT,                  -- the item file (written, or the one it duplicates)
    mois TEXT,                    -- the issue it was written for (items only)
    lien TEXT,                    -- its link, canonical form (dedupe.canonical_url)
    titre TEXT,                   -- its title, normalized (dedupe.normalized_title)
    PRIMARY KEY (flux, cle)
);
CREATE INDEX flux_entrees_mois ON flux_entrees_vues (mois);
CREATE INDEX flux_entrees_lien ON flux_entrees_vues (lien)
"""]


@dataclass(frozen=True)
class FeedStatus:
    """One feed's health, as ``infolettre feeds`` shows it."""

    url: str
    nom: str
    derniere_tentative: str | None = None
    derniere_reussite: str | None = None
    derniere_erreur: str | None = None
    erreur_le: str | None = None
    echecs_consecutifs: int = 0
    entrees: int | None = None
    nouvelles: int = 0


@dataclass(frozen=True)
class FeedItem:
    """An item a feed brought, found to be the same news as something else."""

    path: str
    feed: str  # the feed's name
    why: str  # « lien » | « titre »


class FeedStore:
    """The feed tables of the state database."""

    def __init__(self, conn: sqlite3.Connection, *, clock: Clock = SYSTEM_CLOCK):
        self.conn = conn
        self.clock = clock
        migrate(conn, "flux", SCHEMA)

    def _now(self) -> str:
        return self.clock.now().isoformat(timespec="seconds")

    def validators(self, url: str) -> Validators:
        """Return what makes the next request to ``url`` conditional (empty if none)."""
        row = self.conn.execute("SELECT etag, last_modified FROM flux_etat WHERE url = ?",
                                (url,)).fetchone()
        return Validators(row["etag"], row["last_modified"]) if row else Validators()

    def status(self, url: str, nom: str) -> FeedStatus:
        """Return a feed's recorded health (a fresh one when never fetched)."""
        row = self.conn.execute("SELECT * FROM flux_etat WHERE url = ?", (url,)).fetchone()
        if row is None:
            return FeedStatus(url, nom)
        return FeedStatus(url, nom, row["derniere_tentative"], row["derniere_reussite"],
                          row["derniere_erreur"], row["erreur_le"], row["echecs_consecutifs"],
                          row["entrees"], row["nouvelles"])

    def _ensure(self, url: str, nom: str) -> None:
        self.conn.execute("INSERT INTO flux_etat (url, nom) VALUES (?, ?) ON CONFLICT (url) "
                          "DO UPDATE SET nom = excluded.nom", (url, nom))

    def record_success(self, url: str, nom: str, *, validators: Validators | None,
                       entries: int | None, written: int) -> None:
        """A good answer, fully processed: reset the failures, keep the validators.

        ``validators=None`` keeps the stored ones (a 304) — or, with ``entries`` set, forgets
        them: the next run must fetch the whole feed again (entries were left for later).
        """
        now = self._now()
        with self.conn:
            self._ensure(url, nom)
            if validators is not None:
                self.conn.execute("UPDATE flux_etat SET etag = ?, last_modified = ? WHERE url = ?",
                                  (validators.etag, validators.last_modified, url))
            self.conn.execute(
                "UPDATE flux_etat SET derniere_tentative = ?, derniere_reussite = ?, "
                "echecs_consecutifs = 0, entrees = COALESCE(?, entrees), "
                "nouvelles = nouvelles + ? WHERE url = ?", (now, now, entries, written, url))

    def forget_validators(self, url: str) -> None:
        """Make the next request unconditional (entries of this answer wait for a later run)."""
        self.conn.execute("UPDATE flux_etat SET etag = NULL, last_modified = NULL WHERE url = ?",
                          (url,))

    def record_failure(self, url: str, nom: str, message: str) -> int:
        """Count one more failure in a row; return the count (the pivot is warned at N)."""
        now = self._now()
        with self.conn:
            self._ensure(url, nom)
            self.conn.execute(
                "UPDATE flux_etat SET derniere_tentative = ?, derniere_erreur = ?, erreur_le = ?, "
                "echecs_consecutifs = echecs_consecutifs + 1 WHERE url = ?",
                (now, message, now, url))
        return self.conn.execute("SELECT echecs_consecutifs FROM flux_etat WHERE url = ?",
                                 (url,)).fetchone()[0]

    def seen(self, url: str, key: str) -> bool:
        """Tell whether an entry of this feed was already taken (or recognised as a copy)."""
        return self.conn.execute("SELECT 1 FROM flux_entrees_vues WHERE flux = ? AND cle = ?",
                                 (url, key)).fetchone() is not None

    def remember(self, url: str, key: str, result: str, path: str | None, *,
                 month: str | None = None, lien: str | None = None,
                 titre: str | None = None) -> None:
        """Record an entry as seen, after its item (or its note on the original) is written.

        For an item, ``month``, ``lien`` and ``titre`` let ``same_news`` find it later.
        """
        self.conn.execute(
            "INSERT OR IGNORE INTO flux_entrees_vues (flux, cle, vu_le, resultat, chemin, mois, "
            "lien, titre) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (url, key, self._now(), result, path, month, canonical_url(lien),
             normalized_title(titre) if titre else None))

    def same_news(self, month: str, titre: str, lien: str | None,
                  previous: str | None = None) -> FeedItem | None:
        """Return the feed item of ``month`` that is the same news, if any.

        Same rules as a feed run (``dedupe``): the same canonical link (also among the items
        of ``previous``, the month before), else a near-identical title in ``month``.
        """
        key = canonical_url(lien)
        if key:
            row = self.conn.execute(
                "SELECT v.chemin, COALESCE(e.nom, v.flux) AS nom FROM flux_entrees_vues v "
                "LEFT JOIN flux_etat e ON e.url = v.flux WHERE v.resultat = 'item' "
                "AND v.lien = ? AND v.mois IN (?, ?) ORDER BY v.vu_le LIMIT 1",
                (key, month, previous or month)).fetchone()
            if row is not None:
                return FeedItem(row["chemin"], row["nom"], "lien")
        wanted = normalized_title(titre)
        for row in self.conn.execute(
                "SELECT v.chemin, v.titre, COALESCE(e.nom, v.flux) AS nom "
                "FROM flux_entrees_vues v LEFT JOIN flux_etat e ON e.url = v.flux "
                "WHERE v.resultat = 'item' AND v.mois = ? AND v.titre IS NOT NULL "
                "ORDER BY v.vu_le", (month,)):
            if titles_match(wanted, row["titre"]):
                return FeedItem(row["chemin"], row["nom"], "titre")
        return None
