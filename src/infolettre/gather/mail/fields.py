"""Front-matter fields a delegate writes in the mail itself: subject tags and « Clé : valeur ».

A « [Agenda] » tag in the subject picks the rubrique; leading lines such as « Lieu : … » or
« Date limite : … » fill the matching fields and leave the body. A line that cannot be read
stays in the text with a note, so nothing the delegate wrote is lost.
"""

from __future__ import annotations

import re
from typing import Any

from ...models import REGIONAL, safe_link
from ...settings import Settings
from .text import fold, parse_when

MAX_TITLE = 200
PREFIX = re.compile(r"^\s*(?:(?:re|fwd?|tr|aw|wg|sv|vs|rif|antw|r[ée]f\s*\.?)\s*(?:\[\d+\])?\s*:"
                    r"|\[([^\]]{0,60})\])\s*", re.I)
KEY_LINE = re.compile(r"^\s*([A-Za-zÀ-ÿ' ]{2,30}?)\s*:\s*(.*\S)\s*$")
FIELD_KEYS = {"rubrique": "rubrique", "territoire": "territoire", "date": "date",
              "lieu": "lieu", "lien": "lien", "echeance": "echeance", "date limite": "echeance",
              "debut": "debut", "fin": "fin", "texte alternatif": "image_alt",
              "description de l'image": "image_alt"}


def title_from_subject(subject: str, settings: Settings,
                       notes: list[str]) -> tuple[str, str | None]:
    """Strip reply/forward prefixes and [tags]; return the title and the rubrique a tag picks."""
    text, rubrique = subject, None
    while (found := PREFIX.match(text)) and found.end() > 0:
        tag = found.group(1)
        if tag is not None and rubrique is None:
            rubrique = match_rubrique(tag, settings)
        text = text[found.end():]
    text = text.strip(" -:")
    if len(text) > MAX_TITLE:
        text = shorten(text, MAX_TITLE)
        notes.append("objet très long : titre raccourci, à relire.")
    return text, rubrique


def title_from_body(corps: str, notes: list[str]) -> str:
    """Take a title from the first line of the body when the subject is empty."""
    first = next((line for line in corps.split("\n") if line.strip()), "")
    first = " ".join(re.sub(r"[\\*_#>`\[\]]", "", first).split())
    if first:
        notes.append("objet vide : titre tiré de la première ligne du texte, à relire.")
    return shorten(first, 80)


def match_rubrique(value: str, settings: Settings) -> str | None:
    """Find the rubrique a delegate named, by slug or label, singular or plural."""
    wanted = _singular(fold(value).replace(" ", "-"))
    for slug, label in settings.rubriques.items():
        if wanted in (_singular(slug), _singular(fold(label).replace(" ", "-"))):
            return slug
    return None


def match_territory(value: str, settings: Settings) -> str | None:
    """Find the territory a delegate named, by slug or label (« région » for all of them)."""
    wanted = fold(value).replace(" ", "-")
    if wanted in (REGIONAL, "region", "toute-la-region"):
        return REGIONAL
    for slug, label in settings.territories.items():
        if wanted in (slug, fold(label).replace(" ", "-")):
            return slug
    return None


class KeyLines:
    """Read the leading « Clé : valeur » lines of a body into front-matter and event values."""

    def __init__(self, settings: Settings, notes: list[str]):
        self.settings, self.notes = settings, notes
        self.front: dict[str, Any] = {}
        self.event: dict[str, str] = {}

    def read(self, corps: str) -> str:
        """Take the leading key lines out of the body; keep those not understood."""
        lines = corps.split("\n")
        kept: list[str] = []
        i = 0
        while i < len(lines):
            plain = lines[i].replace("*", "").replace("\\", "")
            found = KEY_LINE.match(plain) if len(plain) < 500 else None
            if not found:
                break
            key = FIELD_KEYS.get(fold(found.group(1)))
            if key is None or not self.apply(key, found.group(2).strip()):
                kept.append(lines[i])
            i += 1
        return "\n".join(kept + lines[i:]).strip()

    def apply(self, key: str, value: str) -> bool:
        """Set one value from a key line; False (with a note) if it cannot be read."""
        result = self.value(key, value)
        if result is None:
            self.notes.append(f"ligne « {key} : {value} » non comprise : laissée dans le texte.")
            return False
        if key in ("debut", "fin", "lieu"):
            self.event[key] = result
        else:
            self.front[key] = result
        return True

    def value(self, key: str, value: str) -> Any:
        """Read a key line's value as its field expects it (slug, date, link), or None."""
        if key == "rubrique":
            return match_rubrique(value, self.settings)
        if key == "territoire":
            return match_territory(value, self.settings)
        if key in ("date", "echeance"):
            when = parse_when(value)
            if when and when[1] and key == "date":  # a time makes it the event's start too
                self.event.setdefault("date", f"{when[0].isoformat()} {when[1]}")
            return when[0] if when else None
        if key in ("debut", "fin"):
            when = parse_when(value)
            return f"{when[0].isoformat()} {when[1]}" if when and when[1] else (
                when[0].isoformat() if when else None)
        if key == "lien":
            found = re.search(r"(?:https?://|mailto:)[^\s<>()\[\]]+", value)
            return safe_link(found.group(0)) if found else None
        return value  # lieu, image_alt


def shorten(text: str, limit: int) -> str:
    """Cut a title at a word boundary with « … », so it still reads as a title."""
    if len(text) <= limit:
        return text
    return text[:limit - 1].rsplit(" ", 1)[0].rstrip(" ,;:") + "…"


def _singular(slug: str) -> str:
    """Drop plural « s » from each word, so « [Nouvelle] » matches the rubrique « nouvelles »."""
    return "-".join(w[:-1] if w.endswith("s") and len(w) > 3 else w for w in slug.split("-"))
