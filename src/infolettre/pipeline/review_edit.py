"""Editing one item from the review app's form: its front matter and its Markdown body.

The form shows each key of ``models.FRONT_MATTER_KEYS`` (``form_values``); saving
(``edit_item``) rebuilds the file — the pivot's notes (YAML comments) kept at the top —
checks it with the store's own validators (nothing written while a field is wrong) and
replaces it only if the file is still the one the form was made from (``content.edit``).
``preview_body`` renders a body as the email does, without saving anything.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from ..clock import SYSTEM_CLOCK, Clock
from ..content import to_datetime, validate
from ..content.edit import replace_item
from ..content.frontmatter_write import item_file_text
from ..content.frontmatter import RawDocument, split
from ..errors import ContentError, Severity
from ..i18n import _
from ..models import FRONT_MATTER_KEYS, Month
from ..render.markdown import markdown_to_html
from ..settings import Settings
from .review import _path, read_entry, reviewing

#: The parts of ``evenement`` the form shows as fields of their own.
EVENT_FIELDS = ("evenement_debut", "evenement_fin", "evenement_lieu")


class InvalidItem(ContentError):
    """The edited front matter does not validate: nothing written; ``errors`` by field."""

    def __init__(self, errors: dict[str, list[str]]):
        super().__init__(_("la nouvelle n'a pas été enregistrée : corrigez les champs "
                           "signalés."))
        self.errors = errors


@dataclass(frozen=True)
class Edited:
    """What a save changed: the names of the fields (and « corps » for the body)."""

    changed: tuple[str, ...]
    hash: str


def preview_body(body: str) -> str:
    """Render a Markdown body to the sanitized HTML the email shows (nothing saved)."""
    return markdown_to_html(body)


def form_values(settings: Settings, values: dict[str, Any]) -> dict[str, str]:
    """Turn front-matter values into the form's strings (dates for the native pickers)."""
    tz = settings.identity.timezone
    form = {key: _text(values.get(key)) for key in FRONT_MATTER_KEYS if key != "evenement"}
    event = values.get("evenement") if isinstance(values.get("evenement"), dict) else {}
    for part in ("debut", "fin"):
        when = to_datetime(event.get(part), tz) if event.get(part) is not None else None
        form[f"evenement_{part}"] = when.strftime("%Y-%m-%dT%H:%M") if when else \
            _text(event.get(part))
    form["evenement_lieu"] = _text(event.get("lieu"))
    return form


def _text(value: Any) -> str:
    if value is None:
        return ""
    return value.isoformat() if isinstance(value, date) else str(value)


def item_text(header_notes: str, fields: dict[str, str], body: str,
              extra: dict[str, Any]) -> str:
    """Write the item file's text from the form: notes, keys in the one order, body."""
    front: dict[str, Any] = {}
    for key in FRONT_MATTER_KEYS:
        if key == "evenement":
            event = {part: fields.get(f"evenement_{part}", "").strip()
                     for part in ("debut", "fin", "lieu")}
            for part in ("debut", "fin"):  # the date picker's « 2026-12-05T10:00 »; never
                event[part] = re.sub(r"^(\d{4}-\d{2}-\d{2})T", r"\1 ", event[part])  # lieu
            if event["debut"] or event["fin"] or event["lieu"]:
                front[key] = {k: v for k, v in event.items() if v}
            continue
        value = re.sub(r"[\r\n]+", " ", str(fields.get(key) or "")).strip()
        if value:
            front[key] = _typed(key, value)
    front.update({k: v for k, v in extra.items() if k not in front})
    body = body.replace("\r\n", "\n").strip("\n")
    return item_file_text(front, body, header_notes)


def _typed(key: str, value: str) -> Any:
    """Keep dates as dates (written unquoted, as people write them); the rest as text."""
    if key in ("date", "echeance"):
        try:
            return date.fromisoformat(value)
        except ValueError:
            return value
    return value


def edit_item(settings: Settings, month: str, slug: str, fields: dict[str, str], body: str,
              expected_hash: str, by: str, *, clock: Clock = SYSTEM_CLOCK) -> Edited:
    """Save the form over the item if it still is what the form was made from.

    ``InvalidItem`` when a field is wrong, ``content.edit.StaleItem`` when the file changed
    since: nothing is written in either case. The journal records the fields changed.
    """
    month = Month(month)
    path = _path(settings, month, slug)
    with reviewing(settings, month, clock) as log:
        entry = read_entry(settings, month, slug)
        raw = path.read_text(encoding="utf-8", errors="replace")
        notes = "".join(line + "\n" for line in _header_lines(raw) if line.startswith("#"))
        extra = {k: v for k, v in entry.values.items() if k not in FRONT_MATTER_KEYS}
        text = item_text(notes, fields, body, extra)
        doc = RawDocument(path)
        split(text, doc)
        validate(doc, settings, month)
        errors: dict[str, list[str]] = {}
        for problem in doc.problems:
            if problem.severity is Severity.ERROR:
                key = next((k for k, line in doc.lines.items() if line == problem.line), "")
                errors.setdefault(key, []).append(
                    problem.message + (" " + problem.fix if problem.fix else ""))
        if errors:
            raise InvalidItem(errors)
        changed = _changed(settings, entry.values, doc.values, entry.body, doc.body)
        new_hash = replace_item(path, text, expected_hash)
        if changed:
            log.record(by, month, slug, "modifie", {"champs": list(changed)})
    return Edited(changed, new_hash)


def _header_lines(text: str) -> list[str]:
    """The header's lines, YAML (``---``) or TOML (``+++``): their « # » notes are kept (a
    TOML item is written back in YAML, the one format the store writes)."""
    match = re.match(r"\A\ufeff?(-{3,}|\+{3,})[ \t]*\r?\n(.*?)^\1", text, re.S | re.M)
    return match.group(2).splitlines() if match else []


def _changed(settings: Settings, before: dict[str, Any], after: dict[str, Any],
             body_before: str, body_after: str) -> tuple[str, ...]:
    old, new = form_values(settings, before), form_values(settings, after)
    changed = [k for k in FRONT_MATTER_KEYS if k != "evenement" and old.get(k) != new.get(k)]
    if any(old.get(k) != new.get(k) for k in EVENT_FIELDS):
        changed.insert(FRONT_MATTER_KEYS.index("evenement"), "evenement")
    if body_before.strip() != body_after.strip():
        changed.append("corps")
    return tuple(changed)
