"""Mailing labels: the postal list printed on Avery 5160 sheets, beside its CSV.

The CSV (``deliver.postal``) suits a mail merge in Word; many pivots only want to put a sheet
of labels in the printer. So ``infolettre postal`` also writes, from the same rows, a PDF laid
out for Avery 5160 (and its equivalents: 8160, 5960, 18160…): US Letter, 3 columns × 10
rows, labels of 2⅝ × 1 in, 0.5 in from the top, 3/16 in from the sides, 2.75 in from one
column to the next, no gap between rows. Print it at « taille réelle » (100 %), never « ajuster
à la page »: any scaling moves every label off its place.

A label holds the name, the organisation and the address lines. A single-line address is
cut before the municipality (« 845, avenue Champlain » / « Disraeli (Québec) G0N 1E0 »), as
Canada Post asks. Text never leaves its label: each label's font size is the largest (10 pt
down to 7 pt) at which WeasyPrint's own layout fits it in the label; long lines wrap. What
still does not fit at 7 pt is cut at the label's edge and reported, as is a person without
a postal address, who gets no label at all (an empty label is a wasted stamp).
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from ..errors import DeliveryError, Problem, Severity
from ..errors import cut as cut_text
from ..fsutil import write_durably
from ..i18n import _
from ..render.paging import boxes, classes
from ..render.print import font_config, load_weasyprint, local_fetcher
from .postal import PostalRow

# Avery 5160, in inches.
COLUMNS, ROWS = 3, 10
PER_SHEET = COLUMNS * ROWS
LABEL_WIDTH, LABEL_HEIGHT = 2.625, 1.0
TOP_MARGIN, SIDE_MARGIN = 0.5, 0.1875
PITCH_X, PITCH_Y = 2.75, 1.0
#: White kept inside each label: printers drift, and label edges are die-cut.
PADDING_X, PADDING_Y = 0.14, 0.07
#: Font sizes tried, largest first (points).
FONT_SIZES = (10.0, 9.5, 9.0, 8.5, 8.0, 7.5, 7.0)
LINE_HEIGHT = 1.15
#: DejaVu Sans is wide: an average character takes about this much of the font size.
CHAR_WIDTH = 0.6
CSS_PX_PER_INCH = 96

_POSTAL_CODE = re.compile(r"[A-Za-z]\d[A-Za-z] ?\d[A-Za-z]\d\s*$")
#: « (Québec) G0M 1R0 » at the end of a line: wrapped as one piece, never « G0M » / « 1R0 ».
_PROVINCE_AND_CODE = re.compile(r"(\([^()]*\) +)?[A-Za-z]\d[A-Za-z] ?\d[A-Za-z]\d\s*$")


@dataclass(frozen=True)
class Label:
    """One label: who it is for (to name them in a report) and its lines of text."""

    who: str
    lines: tuple[str, ...]


@dataclass(frozen=True)
class LabelsResult:
    """What ``write_labels_pdf`` did: the file (None when no label), labels, problems."""

    path: Path | None
    count: int
    problems: list[Problem]


def labels_path(csv_path: Path) -> Path:
    """The labels beside the CSV: « envoi-postal.csv » → « envoi-postal-etiquettes.pdf »."""
    return csv_path.with_name(f"{csv_path.stem}-etiquettes.pdf")


def address_lines(address: str) -> list[str]:
    """Split a postal address into label lines (one-line addresses: before the municipality)."""
    lines = [" ".join(line.split()) for line in address.splitlines() if line.strip()]
    if len(lines) == 1 and _POSTAL_CODE.search(lines[0]) and ", " in lines[0]:
        street, _sep, city = lines[0].rpartition(", ")
        return [street, city]
    return lines


def label_for(row: PostalRow) -> Label:
    """The label of one postal row: name, organisation (unless the same), address lines."""
    lines = [row.nom] if row.nom else []
    if row.organisme and row.organisme != row.nom:
        lines.append(row.organisme)
    return Label(row.nom or row.organisme, tuple(lines + address_lines(row.adresse_postale)))


def position(index: int) -> tuple[int, float, float]:
    """Return (sheet, left, top) in inches of the label number ``index`` (from 0)."""
    sheet, cell = divmod(index, PER_SHEET)
    row, column = divmod(cell, COLUMNS)
    return sheet, SIDE_MARGIN + column * PITCH_X, TOP_MARGIN + row * PITCH_Y


def first_guess(label: Label) -> float:
    """The largest font size at which the lines, wrapped, should fit (WeasyPrint checks)."""
    width_pt = (LABEL_WIDTH - 2 * PADDING_X) * 72
    height_pt = (LABEL_HEIGHT - 2 * PADDING_Y) * 72
    for size in FONT_SIZES:
        per_line = max(1, int(width_pt / (CHAR_WIDTH * size)))
        count = sum(max(1, math.ceil(len(line) / per_line)) for line in label.lines)
        if count * size * LINE_HEIGHT <= height_pt:
            return size
    return FONT_SIZES[-1]


# --- HTML --------------------------------------------------------------------------------

_CSS = f"""
@page {{ size: letter; margin: 0; }}
html {{ font-family: "DejaVu Sans", "Liberation Sans", Arial, sans-serif; color: #000; }}
body {{ margin: 0; }}
.sheet {{ position: relative; width: 8.5in; height: 11in; overflow: hidden; }}
.sheet + .sheet {{ break-before: page; }}
.label {{
  position: absolute; box-sizing: border-box; overflow: hidden;
  width: {LABEL_WIDTH}in; height: {LABEL_HEIGHT}in; padding: {PADDING_Y}in {PADDING_X}in;
  display: flex; flex-direction: column; justify-content: center;
  line-height: {LINE_HEIGHT};
}}
/* A label cut at the bottom keeps its first lines (the name) rather than losing both ends. */
.label.coupee {{ justify-content: flex-start; }}
.label p {{ margin: 0; flex: none; overflow-wrap: anywhere; }}
.label .nom {{ font-weight: bold; }}
"""


def _keep_together(line: str) -> str:
    return _PROVINCE_AND_CODE.sub(lambda match: match.group(0).replace(" ", "\u00a0"), line)


def labels_html(labels: list[Label], sizes: list[float], cut: Iterable[int] = ()) -> str:
    """Lay the labels out on sheets; every text is escaped (it comes from recipients.csv)."""
    sheets: list[list[str]] = []
    cut = set(cut)
    for index, (label, size) in enumerate(zip(labels, sizes)):
        sheet, left, top = position(index)
        if sheet == len(sheets):
            sheets.append([])
        lines = "".join(f'<p class="{"nom" if number == 0 else "ligne"}">'
                        f"{html.escape(_keep_together(line))}</p>"
                        for number, line in enumerate(label.lines))
        kind = "label coupee" if index in cut else "label"
        sheets[sheet].append(f'<div class="{kind}" id="l{index}" style="left: {left}in; '
                             f'top: {top}in; font-size: {size}pt">{lines}</div>')
    body = "".join(f'<div class="sheet">{"".join(cells)}</div>' for cells in sheets)
    return (f'<!DOCTYPE html><html lang="fr-CA"><head><meta charset="utf-8">'
            f'<title>{html.escape(_("Étiquettes postales"))}</title><style>{_CSS}</style>'
            f"</head><body>{body}</body></html>")


# --- layout check ------------------------------------------------------------------------

def overflowing(document) -> set[int]:
    """Return the numbers of the labels whose text goes past their content box.

    Reads WeasyPrint's layout (its boxes, in CSS pixels): what was measured, not guessed.
    """
    found = set()
    for page in document.pages:
        for box in boxes(page._page_box):
            if getattr(box, "element_tag", None) != "div" or "label" not in classes(box):
                continue
            top, left = box.content_box_y(), box.content_box_x()
            inner = [b for b in boxes(box) if b is not box]
            slack = 0.5  # rounding, in CSS px
            if any(b.position_y < top - slack
                   or b.position_y + b.margin_height() > top + box.height + slack
                   or b.position_x + b.margin_width() > left + box.width + slack
                   for b in inner):
                found.add(int(box.element.get("id")[1:]))
    return found


def layout(labels: list[Label], root: Path):
    """Lay the labels out, shrinking each one that overflows; return (document, too long)."""
    weasyprint = load_weasyprint()

    def render(cut: Iterable[int] = ()):
        return weasyprint.HTML(string=labels_html(labels, sizes, cut),
                               url_fetcher=local_fetcher(root)).render(font_config=font_config())

    sizes = [first_guess(label) for label in labels]
    while True:
        document = render()
        over = overflowing(document)
        shrinkable = {i for i in over if sizes[i] > FONT_SIZES[-1]}
        if not shrinkable:
            break
        for i in shrinkable:
            sizes[i] = FONT_SIZES[FONT_SIZES.index(sizes[i]) + 1]
    if over:
        document = render(over)
    return document, sorted(over)


# --- the file ----------------------------------------------------------------------------

def write_labels_pdf(path: Path, rows: Iterable[PostalRow], *,
                     source: Path | None = None) -> LabelsResult:
    """Write the labels of ``rows`` to ``path``; report who got none or a cut label.

    ``source`` (recipients.csv) is where the problems point. With no label to print, no
    PDF is written and an older one at ``path`` is removed: a stale sheet of labels is
    worse than none.
    """
    problems: list[Problem] = []
    labels = []
    for row in rows:
        label = label_for(row)
        if not address_lines(row.adresse_postale):
            problems.append(Problem(
                Severity.WARNING, _("« {who} » n'a pas d'adresse postale : pas d'étiquette "
                                    "à son nom.").format(who=cut_text(label.who) or "?"), source,
                fix=_("Ajoutez son adresse dans la colonne adresse_postale, ou mettez son "
                      "format à « courriel »."), kind="etiquette"))
            continue
        labels.append(label)
    if not labels:
        path.unlink(missing_ok=True)
        return LabelsResult(None, 0, problems)
    try:
        document, too_long = layout(labels, path.parent)
        write_durably(path, document.write_pdf)
    except OSError as exc:
        raise DeliveryError(_("impossible d'écrire les étiquettes postales ({detail}).").format(
            detail=exc.strerror or exc), where=str(path),
            fix=_("Vérifiez que le dossier existe, est accessible en écriture, que le disque "
                  "n'est pas plein et que le PDF n'est pas ouvert dans un autre programme, ou "
                  "choisissez un autre fichier avec --out.")) from None
    except Exception as exc:  # WeasyPrint raises many kinds; all mean "no labels".
        raise DeliveryError(_("la mise en page des étiquettes a échoué ({kind} : {detail}).")
                            .format(kind=type(exc).__name__, detail=exc), where=str(path),
                            fix=_("Relancez avec --debug pour voir le détail et signalez-le à "
                                  "la personne qui maintient l'infolettre ; la liste CSV, "
                                  "elle, est écrite.")) from exc
    for index in too_long:
        problems.append(Problem(
            Severity.WARNING, _("l'étiquette de « {who} » est trop longue, même en petits "
                                "caractères : son texte est coupé.").format(
                who=cut_text(labels[index].who)),
            source, fix=_("Raccourcissez l'organisme ou l'adresse dans la liste des "
                          "destinataires (une étiquette tient environ six lignes de 40 "
                          "caractères)."), kind="etiquette"))
    return LabelsResult(path, len(labels), problems)
