"""Read a PDF back as a reader sees it: the lines of each page and where they sit.

``pdftotext -bbox-layout`` (poppler-utils) gives every line and word with its box in points
(origin at the top left). The print and label tests check positions with it, and write
PNG pages (``pdftoppm``) into tests/browser/captures/ for a person to look at.
"""

from __future__ import annotations

import html
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

CAPTURES = Path(os.environ.get("INFOLETTRE_CAPTURES",
                               Path(__file__).parent / "browser" / "captures"))

_PAGE = re.compile(r'<page width="([\d.]+)" height="([\d.]+)">(.*?)</page>', re.S)
_LINE = re.compile(r'<line xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">'
                   r"(.*?)</line>", re.S)
_WORD = re.compile(r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">'
                   r"(.*?)</word>", re.S)


@dataclass(frozen=True)
class Box:
    """A line or a word of a page, with its box in points."""

    text: str
    x0: float
    y0: float
    x1: float
    y1: float

    @property
    def height(self) -> float:
        return self.y1 - self.y0


@dataclass(frozen=True)
class Page:
    width: float
    height: float
    lines: list[Box]
    words: list[Box]

    def between(self, top: float, bottom: float) -> list[Box]:
        """The lines that sit wholly between two heights (points from the top)."""
        return [line for line in self.lines if line.y0 >= top and line.y1 <= bottom]


def need(tool: str) -> None:
    if shutil.which(tool) is None:
        pytest.skip(f"{tool} (paquet Debian poppler-utils) n'est pas installé : "
                    "PDF non vérifié.")


def read_pages(pdf: Path) -> list[Page]:
    """Every page of ``pdf`` with its lines and words."""
    need("pdftotext")
    xml = subprocess.run(["pdftotext", "-enc", "UTF-8", "-bbox-layout", str(pdf), "-"],
                         check=True, capture_output=True, text=True).stdout
    pages = []
    for match in _PAGE.finditer(xml):
        lines = []
        for line in _LINE.finditer(match.group(3)):
            words = [html.unescape(w.group(5)) for w in _WORD.finditer(line.group(5))]
            lines.append(Box(" ".join(words), *map(float, line.groups()[:4])))
        words = [Box(html.unescape(w.group(5)), *map(float, w.groups()[:4]))
                 for w in _WORD.finditer(match.group(3))]
        pages.append(Page(float(match.group(1)), float(match.group(2)), lines, words))
    return pages


def page_texts(pdf: Path) -> list[str]:
    """The text of each page, white space collapsed."""
    need("pdftotext")
    text = subprocess.run(["pdftotext", "-enc", "UTF-8", str(pdf), "-"], check=True,
                          capture_output=True, text=True).stdout
    return [" ".join(page.split()) for page in text.split("\f")][:-1]


def capture(pdf: Path, name: str, dpi: int = 50) -> list[Path]:
    """Write each page of ``pdf`` as tests/browser/captures/NAME-N.png; return the files."""
    need("pdftoppm")
    CAPTURES.mkdir(parents=True, exist_ok=True)
    for old in CAPTURES.glob(f"{name}-*.png"):
        old.unlink()
    subprocess.run(["pdftoppm", "-r", str(dpi), "-png", str(pdf), str(CAPTURES / name)],
                   check=True)
    return sorted(CAPTURES.glob(f"{name}-*.png"))
