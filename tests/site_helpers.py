"""A published copy of the sample project, and what the site tests read in its pages."""

from __future__ import annotations

import dataclasses
import shutil
from datetime import datetime
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit
from zoneinfo import ZoneInfo

from infolettre import pipeline
from infolettre.clock import FixedClock
from infolettre.settings import Settings, load_settings

from .conftest import REPO

NOW = datetime(2026, 12, 2, 9, 0, tzinfo=ZoneInfo("America/Toronto"))
MONTHS = ("2026-11", "2026-12")
#: A document attached to a sample item, as the store writes it for an emailed PDF.
DOCUMENT = "rapport annuel.pdf"
DOCUMENT_ITEM = "popote-roulante-10000-repas.md"


def sample_copy(root: Path, *, site: str | None = "https://infolettre.example.org") -> Settings:
    """Copy the sample content into ``root`` (with a document attached to one item) and
    return its settings, every folder in ``root``."""
    settings = load_settings(REPO / "infolettre.toml")
    shutil.copytree(settings.paths.contenu, root / "content")
    item = root / "content" / "2026-12" / DOCUMENT_ITEM
    (item.parent / DOCUMENT).write_bytes(b"%PDF-1.4 rapport\n")
    item.write_text(item.read_text(encoding="utf-8").rstrip("\n")
                    + "\n\nPièce jointe : [rapport annuel.pdf](rapport%20annuel.pdf)\n",
                    encoding="utf-8")
    paths = dataclasses.replace(settings.paths, contenu=root / "content",
                                sortie=root / "build", boite_envoi=root / "outbox",
                                donnees=root / "data", site=root / "site")
    identity = dataclasses.replace(settings.identity, site=site)
    return dataclasses.replace(settings, paths=paths, identity=identity)


def publish_sample(root: Path, clock: FixedClock | None = None) -> tuple[Settings, FixedClock]:
    """Approve and publish both sample issues; return the settings and the clock."""
    clock = clock or FixedClock(NOW)
    settings = sample_copy(root)
    for month in MONTHS:
        pipeline.approve(settings, month, "Julie Roy", clock=clock)
        pipeline.publish(settings, month, clock=clock)
    return settings, clock


class Page(HTMLParser):
    """The links, sources, ids and headings of one HTML page."""

    def __init__(self, text: str):
        super().__init__(convert_charrefs=True)
        self.links: list[tuple[str, str]] = []  # (tag, address)
        self.ids: list[str] = []
        self.headings: list[int] = []
        self.lang = None
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        values = dict(attrs)
        if tag == "html":
            self.lang = values.get("lang")
        for name in ("href", "src"):
            if values.get(name) is not None:
                self.links.append((tag, values[name]))
        if values.get("id"):
            self.ids.append(values["id"])
        if len(tag) == 2 and tag[0] == "h" and tag[1].isdigit():
            self.headings.append(int(tag[1]))


def withdraw_and_republish(settings: Settings, clock: FixedClock, slug: str,
                           month: str = "2026-12"):
    """Remove an item from a published issue, a day later approve and publish it again."""
    (settings.paths.contenu / month / f"{slug}.md").unlink()
    clock.advance(days=1)
    pipeline.approve(settings, month, "Julie Roy", clock=clock)
    return pipeline.publish(settings, month, clock=clock)


def pages(site: Path) -> dict[str, Page]:
    """Every HTML page of the site, by path relative to its root."""
    return {p.relative_to(site).as_posix(): Page(p.read_text(encoding="utf-8"))
            for p in sorted(site.rglob("*.html"))}


def broken_links(site: Path) -> list[str]:
    """Every relative href or src of the site that names no file (or no id) of the site."""
    found, parsed = [], pages(site)
    for path, page in parsed.items():
        for tag, address in page.links:
            parts = urlsplit(address)
            if parts.scheme or address.startswith("//"):
                continue
            target = path if not parts.path else (
                Path(path).parent / unquote(parts.path)).as_posix()
            resolved = (site / target).resolve()
            if not resolved.is_file() or site.resolve() not in resolved.parents:
                found.append(f"{path}: {tag} {address}")
                continue
            key = resolved.relative_to(site.resolve()).as_posix()
            if parts.fragment and parts.fragment not in parsed.get(key, Page("")).ids:
                found.append(f"{path}: {tag} {address} (ancre absente)")
    return found
