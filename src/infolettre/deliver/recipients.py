"""Read ``recipients.csv``: one checked ``Recipient`` per good line, a ``Problem`` per bad one.

The list is kept by the network's staff, often in a spreadsheet, so mistakes are expected:
a bad line is reported with its line number and a fix, then skipped, and the others still
get the bulletin. Duplicates are merged (the first line wins) so nobody receives an edition
twice. The file is read as a stream, to keep memory flat for very long lists.

Columns: ``courriel,nom,organisme,territoire,format,langue,adresse_postale`` (only
``courriel`` is required). UTF-8, with or without a BOM; commas or semicolons (Excel in
French writes semicolons).
"""

from __future__ import annotations

import csv
import re
from array import array
from collections.abc import Iterator
from hashlib import blake2b
from pathlib import Path

from ..errors import DeliveryError, Problem, Severity
from ..i18n import _
from ..models import REGIONAL, Recipient
from ..settings import Settings

COLUMNS = ("courriel", "nom", "organisme", "territoire", "format", "langue", "adresse_postale")
FORMATS = ("courriel", "poste", "les-deux")
_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_LOCAL = re.compile(rf"{_ATOM}(?:\.{_ATOM})*")
_LABEL = r"(?!-)[a-z0-9-]{1,63}(?<!-)"
_DOMAIN = re.compile(rf"{_LABEL}(?:\.{_LABEL})+")
_LANG = re.compile(r"[a-z]{2,3}(?:_[A-Z]{2})?")
#: Control characters (NUL, escape, ...) are dropped from names: they end up in headers.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


class LineError(ValueError):
    """A bad value on one line: the message and the fix, in French."""

    def __init__(self, message: str, fix: str):
        super().__init__(message)
        self.message = message
        self.fix = fix


def check_address(value: str) -> str:
    """Return the address with its domain lowercased (and in ASCII), or raise LineError."""
    value = value.strip()
    local, at, domain = value.rpartition("@")
    fix = _("Écrivez seulement l'adresse, sous la forme nom@domaine.ca, sans espace ni "
            "nom autour.")
    if not value:
        raise LineError(_("l'adresse courriel est vide."), _("Inscrivez l'adresse dans la "
                                                             "colonne courriel."))
    if not at or not _LOCAL.fullmatch(local) or len(local) > 64:
        raise LineError(_("adresse courriel invalide : « {value} ».").format(value=value), fix)
    bad_domain = LineError(_("domaine invalide dans « {value} ».").format(value=value), fix)
    try:
        domain = domain.lower().encode("idna").decode("ascii")
    except UnicodeError:
        raise bad_domain from None
    if not _DOMAIN.fullmatch(domain) or len(local) + len(domain) >= 254:
        raise bad_domain
    return f"{local}@{domain}"


def _territory(value: str, settings: Settings) -> str:
    slug = value.strip().lower() or REGIONAL
    if slug != REGIONAL and slug not in settings.territories:
        raise LineError(
            _("territoire inconnu : « {value} ».").format(value=value.strip()),
            _("Choisissez l'un de : {choices}.").format(
                choices=", ".join([REGIONAL, *settings.territories])))
    return slug


def _format(value: str, postal: str) -> str:
    fmt = value.strip().lower() or "courriel"
    if fmt not in FORMATS:
        raise LineError(_("format inconnu : « {value} ».").format(value=value.strip()),
                        _("Choisissez l'un de : {choices}.").format(choices=", ".join(FORMATS)))
    if fmt != "courriel" and not postal:
        raise LineError(
            _("le format « {fmt} » demande une adresse postale, mais elle est vide.").format(
                fmt=fmt),
            _("Remplissez la colonne adresse_postale, ou mettez le format « courriel »."))
    return fmt


def _language(value: str, settings: Settings, warnings: list[LineError]) -> str:
    lang = value.strip().replace("-", "_")
    if lang and not _LANG.fullmatch(lang):
        warnings.append(LineError(
            _("langue inconnue : « {value} » ; {default} est utilisée.").format(
                value=value.strip(), default=settings.identity.langue),
            _("Écrivez un code de langue comme fr_CA ou en_CA, ou laissez vide.")))
        lang = ""
    return lang or settings.identity.langue


def _clean(value: str) -> str:
    return " ".join(_CONTROL.sub("", value).split())


def _postal(value: str) -> str:
    lines = (_clean(line) for line in value.splitlines())
    return "\n".join(line for line in lines if line)


def parse_row(row: dict[str, str], settings: Settings,
              warnings: list[LineError]) -> Recipient:
    """Check one line's values and build its Recipient; raise LineError on the first fault.

    Faults that need not cost the person their bulletin (an odd language code) are
    appended to ``warnings`` instead.
    """
    def text(key: str) -> str:
        return _clean(row.get(key) or "")
    postal = _postal(row.get("adresse_postale") or "")
    return Recipient(
        email=check_address(row.get("courriel") or ""),
        nom=text("nom"), organisme=text("organisme"),
        territoire=_territory(row.get("territoire") or "", settings),
        format=_format(row.get("format") or "", postal),
        langue=_language(row.get("langue") or "", settings, warnings),
        adresse_postale=postal)


def _open(path: Path):
    try:
        return path.open(encoding="utf-8-sig", newline="")
    except FileNotFoundError:
        raise DeliveryError(
            _("la liste des destinataires est introuvable."), where=str(path),
            fix=_("Créez ce fichier CSV (colonnes : {columns}) ou indiquez son chemin dans "
                  "[chemins] destinataires de infolettre.toml.").format(
                columns=",".join(COLUMNS))) from None
    except OSError as exc:
        raise DeliveryError(_("impossible de lire la liste des destinataires ({detail}).")
                            .format(detail=exc.strerror), where=str(path),
                            fix=_("Vérifiez les droits d'accès au fichier.")) from None


def _header(first_line: str, path: Path) -> tuple[list[str], str]:
    """Read the column names and the separator; raise if a column is unknown or missing."""
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    names = [n.strip().lower() for n in next(csv.reader([first_line], delimiter=delimiter))]
    unknown = [n for n in names if n not in COLUMNS]
    where = f"{path}:1"
    allowed = _("Colonnes permises : {columns} (seule courriel est obligatoire).").format(
        columns=",".join(COLUMNS))
    if unknown or len(set(names)) != len(names):
        raise DeliveryError(_("colonne inconnue ou répétée : {names}.").format(
            names=", ".join(unknown) or ", ".join(names)), where=where,
            fix=_("Corrigez la première ligne du fichier. ") + allowed)
    if "courriel" not in names:
        raise DeliveryError(_("la colonne courriel manque."), where=where,
                            fix=_("Corrigez la première ligne du fichier. ") + allowed)
    return names, delimiter


def _rows(path: Path, problems: list[Problem]) -> Iterator[tuple[int, dict[str, str]]]:
    """Yield (line number, values by column) for each non-blank line after the header."""
    with _open(path) as handle:
        try:
            first = handle.readline()
            if not first.strip():
                raise DeliveryError(_("la liste des destinataires est vide."), where=str(path),
                                    fix=_("La première ligne doit nommer les colonnes : "
                                          "{columns}.").format(columns=",".join(COLUMNS)))
            names, delimiter = _header(first, path)
            reader = csv.reader(handle, delimiter=delimiter)
            yield from _records(reader, names, path, problems)
        except UnicodeDecodeError:
            raise DeliveryError(
                _("le fichier n'est pas en UTF-8."), where=str(path),
                fix=_("Dans Excel ou LibreOffice, enregistrez-le au format « CSV UTF-8 ».")
            ) from None


def _records(reader, names: list[str], path: Path,
             problems: list[Problem]) -> Iterator[tuple[int, dict[str, str]]]:
    while True:
        line = reader.line_num + 2  # the header line was read before the reader started
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            problems.append(_problem(path, line, _("ligne illisible ({detail}).").format(
                detail=exc), _("Retapez cette ligne dans un tableur et enregistrez en CSV.")))
            continue
        if not any(c.strip() for c in cells):
            continue
        if len(cells) > len(names):
            problems.append(_problem(path, line, _(
                "{found} valeurs pour {expected} colonnes.").format(
                found=len(cells), expected=len(names)), _(
                "Une valeur contient sans doute le séparateur (souvent l'adresse postale) : "
                "mettez-la entre guillemets.")))
            continue
        yield line, dict(zip(names, cells, strict=False))


def _problem(path: Path, line: int, message: str, fix: str,
             severity: Severity = Severity.ERROR) -> Problem:
    return Problem(severity, message, path=path, line=line, fix=fix)


class FirstLines:
    """Remember the first line of each address in ~24 bytes per address, whatever its length.

    An 8-byte digest of the address (BLAKE2b: the same in every process) and its line
    number live in two flat arrays (open addressing, at most half full), so a list of a
    million addresses needs ~25 MB rather than the ~150 MB of a dict of strings. Two
    different addresses could share a digest: the odds are about n² / 2⁶⁵ (1 in 37 million
    for a million addresses), and the second would then be reported as a duplicate of the
    first, in a warning naming both lines, not dropped silently.
    """

    def __init__(self, size: int = 1024):
        self._keys = array("Q", bytes(8 * size))   # 0 = free slot
        self._lines = array("I", bytes(4 * size))
        self._count = 0

    @staticmethod
    def digest(key: str) -> int:
        value = int.from_bytes(blake2b(key.encode("utf-8", "surrogatepass"),
                                       digest_size=8).digest(), "little")
        return value or 1

    def first(self, key: str, line: int) -> int | None:
        """Return the line where ``key`` was first seen, or remember ``line`` and return None."""
        digest = self.digest(key)
        keys, mask = self._keys, len(self._keys) - 1
        slot = digest & mask
        while keys[slot]:
            if keys[slot] == digest:
                return self._lines[slot]
            slot = (slot + 1) & mask
        keys[slot] = digest
        self._lines[slot] = line
        self._count += 1
        if 2 * self._count > len(keys):
            self._grow()
        return None

    def __len__(self) -> int:
        return self._count

    def _grow(self) -> None:
        old_keys, old_lines = self._keys, self._lines
        size = 2 * len(old_keys)
        self._keys, self._lines = array("Q", bytes(8 * size)), array("I", bytes(4 * size))
        keys, lines, mask = self._keys, self._lines, size - 1
        for digest, line in zip(old_keys, old_lines, strict=True):
            if digest:
                slot = digest & mask
                while keys[slot]:
                    slot = (slot + 1) & mask
                keys[slot], lines[slot] = digest, line


def iter_recipients(path: Path, settings: Settings,
                    problems: list[Problem]) -> Iterator[Recipient]:
    """Yield each valid recipient once, appending every problem found to ``problems``.

    A bad line is reported and skipped; a repeated address keeps its first line and is
    reported as a warning naming both lines. Only a digest and the first line of each
    address seen are kept (``FirstLines``), so memory stays flat for very long lists.
    """
    seen = FirstLines()
    for line, row in _rows(path, problems):
        warnings: list[LineError] = []
        try:
            recipient = parse_row(row, settings, warnings)
        except LineError as exc:
            problems.append(_problem(path, line, exc.message, exc.fix))
            continue
        problems.extend(_problem(path, line, w.message, w.fix, Severity.WARNING)
                        for w in warnings)
        first = seen.first(recipient.email.casefold(), line)
        if first is not None:
            problems.append(_problem(path, line, _(
                "adresse en double : {email} figure déjà à la ligne {first} ; cette ligne-ci "
                "est ignorée.").format(email=recipient.email, first=first), _(
                "Supprimez l'une des deux lignes (c'est la première qui compte)."),
                Severity.WARNING))
            continue
        yield recipient


def load_recipients(path: Path, settings: Settings) -> tuple[list[Recipient], list[Problem]]:
    """Read the whole list at once: the recipients kept, and every problem found."""
    problems: list[Problem] = []
    recipients = list(iter_recipients(path, settings, problems))
    return recipients, problems
