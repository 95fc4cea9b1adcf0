"""Strings a person reads live in one catalog (gettext via Babel), kept up to date."""

from __future__ import annotations

import subprocess
import sys

from babel.messages.pofile import read_po

from infolettre import i18n
from infolettre.dates import long_date

from .conftest import REPO

POT = REPO / "src" / "infolettre" / "locale" / "infolettre.pot"
EXTRACT = [sys.executable, "-m", "babel.messages.frontend", "extract", "-F", "babel.cfg",
           "-k", "_", "-k", "ngettext:1,2", "--no-location", "--sort-output",
           "--project", "infolettre", "--copyright-holder", "infolettre"]


def _msgids(path) -> set[str]:
    with open(path, "rb") as handle:
        return {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(handle) if m.id}


def test_catalog_template_is_up_to_date(tmp_path):
    """Every translatable string of the code and templates is in locale/infolettre.pot."""
    fresh = tmp_path / "fresh.pot"
    subprocess.run([*EXTRACT, "-o", str(fresh), "."], cwd=REPO, check=True,
                   capture_output=True)
    missing = _msgids(fresh) - _msgids(POT)
    assert not missing, (
        f"{len(missing)} string(s) missing from {POT.name}, e.g. {sorted(missing)[:3]}. "
        f"Regenerate: {' '.join(EXTRACT[2:])} -o src/infolettre/locale/infolettre.pot .")
    assert len(_msgids(POT)) > 150


def test_french_dates():
    """Dates read « mardi 5 janvier 2027 », and the first of the month « 1er »."""
    from datetime import date

    i18n.activate("fr_CA")
    assert long_date(date(2027, 1, 5)) == "mardi 5 janvier 2027"
    assert long_date(date(2026, 12, 1)) == "mardi 1er décembre 2026"
