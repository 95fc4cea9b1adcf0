"""``[rebonds]``: where bounces come back (VERP), where they are read, how long they are kept.

Without the table nothing changes: messages leave with ``expediteur`` as envelope sender
and no bounce is read. With it, each message of an issue leaves with the envelope sender
``<adresse>+<AAAAMM>-<jeton>@<domaine>`` (``infolettre.verp``), so a bounce names its
recipient without anyone guessing from its text. The mail server of ``domaine`` must
deliver every ``<adresse>+…`` to one mailbox (« subaddressing », the ``+`` delimiter:
Postfix ``recipient_delimiter = +``, most hosted mail services by default); that mailbox is
read by ``infolettre rebonds``, as a Maildir or over IMAP, like ``[courriel_entrant]``.

``domaine`` defaults to the domain of ``expediteur``: the envelope sender's domain is the
one SPF checks, and DMARC wants it aligned with the From header's.
``conservation_jours`` (400 by default) bounds how long a bounce record is kept (Québec's
Law 25: personal information no longer needed is destroyed): long enough to cover the
three consecutive issues of a bimonthly cadence (six months) and a year of history for a
person asking why they were suspended, no longer. A suspension itself is kept until the
address is reactivated (it is what keeps the address from being mailed).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from ..i18n import _

_Reader = Any  # settings.reader._Reader (imported by it: not imported back)

#: The password of the bounce mailbox over IMAP (never in the file); when unset, the one
#: of ``[courriel_entrant]`` (``INFOLETTRE_IMAP_PASSWORD``) is used.
ENV_PASSWORD = "INFOLETTRE_REBONDS_IMAP_PASSWORD"
_LOCAL = re.compile(r"^[a-z0-9](?:[a-z0-9._-]{0,38}[a-z0-9])?$")
_DOMAIN = re.compile(r"^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")


@dataclass(frozen=True)
class Bounces:
    """The ``[rebonds]`` table, validated (see the commented example in infolettre.toml)."""

    domaine: str                    # default: the domain of [infolettre] expediteur
    adresse: str = "rebonds"        # local part of the VERP address, before « + »
    maildir: Path | None = None     # a local Maildir read by `infolettre rebonds`
    imap_hote: str | None = None    # or an IMAP server (password: INFOLETTRE_REBONDS_IMAP_PASSWORD)
    imap_port: int = 993
    imap_securite: str = "tls"      # tls | starttls
    imap_utilisateur: str | None = None
    imap_dossier: str = "INBOX"
    dossier_traite: str = "Traité"
    dossier_a_verifier: str = "À vérifier"
    temporaires_de_suite: int = 3   # soft bounces in this many consecutive issues suspend
    conservation_jours: int = 400   # bounce records older than this are deleted (Law 25)

    @property
    def has_mailbox(self) -> bool:
        """Tell whether ``infolettre rebonds`` has somewhere to read (Maildir or IMAP)."""
        return bool(self.maildir or self.imap_hote)


def read_bounces(reader: _Reader, table: dict[str, Any], sender: str) -> Bounces | None:
    """Check the ``[rebonds]`` table key by key; None when the file has none."""
    if not table:
        return None
    w = "rebonds"
    reader.check_keys("[rebonds]", table, {f.name for f in fields(Bounces)})
    adresse = str(table.get("adresse", "rebonds")).strip().lower()
    if not _LOCAL.match(adresse):
        raise reader.fail(f"{w}.adresse", table.get("adresse"), _(
            "la partie avant « @ » d'une adresse, en lettres, chiffres, points ou tirets, "
            "sans « + » (40 caractères au plus), par exemple « rebonds »"))
    domaine = table.get("domaine", sender.rpartition("@")[2])
    if not isinstance(domaine, str) or not _DOMAIN.match(domaine.strip().lower()):
        raise reader.fail(f"{w}.domaine", domaine, _("un nom de domaine, par exemple "
                                                      "« example.org »"))
    maildir = reader.text(w, table, "maildir", required=False)
    values: dict[str, Any] = {"adresse": adresse, "domaine": domaine.strip().lower(),
                              "maildir": reader.base / maildir if maildir else None}
    for name in ("imap_hote", "imap_utilisateur"):
        values[name] = reader.text(w, table, name, required=False)
    for name, default in (("imap_dossier", "INBOX"), ("dossier_traite", "Traité"),
                          ("dossier_a_verifier", "À vérifier")):
        values[name] = reader.text(w, table, name, default)
    securite = table.get("imap_securite", "tls")
    if securite not in ("tls", "starttls"):
        raise reader.fail(f"{w}.imap_securite", securite, "tls | starttls")
    values["imap_securite"] = securite
    for name, low, high, expected in (
            ("imap_port", 1, 65535, _("un numéro de port (993 ou 143)")),
            ("temporaires_de_suite", 1, 12, _("un nombre entier de 1 à 12 (numéros de suite)")),
            ("conservation_jours", 30, 3650, _("un nombre de jours de 30 à 3650"))):
        value = table.get(name, getattr(Bounces, name))
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise reader.fail(f"{w}.{name}", value, expected)
        values[name] = value
    if values["imap_hote"] and not values["imap_utilisateur"]:
        raise reader.fail(f"{w}.imap_utilisateur", None, _(
            "l'identifiant de la boîte IMAP des rebonds (avec imap_hote)"))
    return Bounces(**values)
