"""The ``[smtp]`` table: where and how the issue is sent (no table: files in ``outbox/``).

The password is never in the file: it comes from ``INFOLETTRE_SMTP_PASSWORD``. Sending
itself is ``deliver.smtp``; this is only what the file may say, checked key by key.
"""

from __future__ import annotations

import difflib
import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..errors import ConfigError
from ..i18n import _

ENV_PASSWORD = "INFOLETTRE_SMTP_PASSWORD"
SECURITIES = ("starttls", "tls", "aucune")
DEFAULT_PORTS = {"starttls": 587, "tls": 465, "aucune": 587}
MAX_CONNECTIONS = 32
_KEYS = {"hote", "port", "securite", "utilisateur", "connexions", "messages_par_minute",
         "messages_par_heure", "delai", "mot_de_passe_en_clair"}


@dataclass(frozen=True)
class SmtpConfig:
    """The ``[smtp]`` table of ``infolettre.toml``, validated (see ``from_table``)."""

    hote: str
    port: int = 587
    securite: str = "starttls"           # starttls | tls | aucune
    utilisateur: str | None = None
    mot_de_passe: str | None = field(default=None, repr=False)  # from INFOLETTRE_SMTP_PASSWORD
    connexions: int = 4
    messages_par_minute: int = 0         # 0 = no limit
    messages_par_heure: int = 0          # 0 = no limit
    delai: float = 30.0                  # seconds allowed for connecting and for each command
    #: « aucune » with a user sends the password in clear: refused unless the server is on
    #: this machine (loopback) or this dangerous opt-in is set.
    mot_de_passe_en_clair: bool = False

    @classmethod
    def from_table(cls, table: Mapping[str, Any], environ: Mapping[str, str] | None = None,
                   *, where: str | None = None) -> SmtpConfig:
        """Check the ``[smtp]`` table key by key; the password comes from the environment.

        ``where`` names the configuration file in error messages. The port defaults to 465
        with ``securite = "tls"`` and to 587 otherwise. Raises ``ConfigError`` naming the
        key, the value found and what is expected.
        """
        environ = os.environ if environ is None else environ
        if not isinstance(table, Mapping):
            raise _bad(where, "[smtp]", table, _("une table [smtp]"))
        if "mot_de_passe" in table:
            raise ConfigError(
                _("le mot de passe SMTP ne doit pas être écrit dans le fichier "
                  "(clé « smtp.mot_de_passe »)."),
                where=where,
                fix=_("Retirez cette ligne et mettez le mot de passe dans la variable "
                      "d'environnement {env}.").format(env=ENV_PASSWORD))
        for key in table:
            if key not in _KEYS:
                close = difflib.get_close_matches(str(key).lower(), sorted(_KEYS), n=1)
                hint = _("Vouliez-vous dire « {k} » ? ").format(k=close[0]) if close else ""
                raise ConfigError(
                    _("clé inconnue « {key} » dans {where}.").format(key=key, where="[smtp]"),
                    where=where,
                    fix=hint + _("Clés permises : {keys}. Vérifiez l'orthographe.").format(
                        keys=", ".join(sorted(_KEYS))))

        hote = table.get("hote")
        if not isinstance(hote, str) or not hote.strip() or any(c.isspace() for c in
                                                                 hote.strip()):
            raise _bad(where, "smtp.hote", hote,
                       _("le nom du serveur, par exemple « smtp.example.org »"))
        securite = table.get("securite", "starttls")
        if securite not in SECURITIES:
            raise _bad(where, "smtp.securite", securite, " | ".join(SECURITIES))
        port = _integer(where, "smtp.port", table.get("port", DEFAULT_PORTS[securite]), 1, 65535)
        utilisateur = table.get("utilisateur")
        if utilisateur is not None and (not isinstance(utilisateur, str)
                                        or not utilisateur.strip()
                                        or not utilisateur.strip().isprintable()):
            raise _bad(where, "smtp.utilisateur", utilisateur,
                       _("un nom d'utilisateur non vide, sans saut de ligne ni caractère de "
                         "contrôle, ou aucune ligne s'il n'en faut pas"))
        in_clear = table.get("mot_de_passe_en_clair", False)
        if not isinstance(in_clear, bool):
            raise _bad(where, "smtp.mot_de_passe_en_clair", in_clear, "true | false")
        if securite == "aucune" and utilisateur is not None and not in_clear \
                and not is_loopback(hote.strip()):
            raise ConfigError(
                _("[smtp] securite = \"aucune\" avec un utilisateur : le mot de passe "
                  "passerait en clair sur le réseau jusqu'à {host}.").format(host=hote.strip()),
                where=where,
                fix=_("Mettez securite = \"starttls\" (port 587) ou \"tls\" (port 465). Si le "
                      "serveur n'offre vraiment aucun chiffrement, ajoutez "
                      "mot_de_passe_en_clair = true dans [smtp], en connaissance de cause : "
                      "quiconque voit passer le trafic lit alors le mot de passe."))
        password = environ.get(ENV_PASSWORD) or None
        if utilisateur is not None and password is None:
            raise ConfigError(
                _("[smtp] utilisateur est indiqué mais la variable d'environnement {env} "
                  "(le mot de passe) est absente ou vide.").format(env=ENV_PASSWORD),
                where=where,
                fix=_("Définissez {env} avant de lancer infolettre (par exemple dans le "
                      "service ou la tâche planifiée), ou retirez [smtp] utilisateur si le "
                      "serveur n'en demande pas.").format(env=ENV_PASSWORD))
        connexions = _integer(where, "smtp.connexions", table.get("connexions", 4),
                              1, MAX_CONNECTIONS)
        per_minute = _integer(where, "smtp.messages_par_minute",
                              table.get("messages_par_minute", 0), 0, None)
        per_hour = _integer(where, "smtp.messages_par_heure",
                            table.get("messages_par_heure", 0), 0, None)
        delai = table.get("delai", 30.0)
        if isinstance(delai, bool) or not isinstance(delai, (int, float)) or not 0 < delai <= 600:
            raise _bad(where, "smtp.delai", delai,
                       _("un nombre de secondes entre 0 et 600, par exemple 30"))
        return cls(hote=hote.strip(), port=port, securite=securite,
                   utilisateur=utilisateur.strip() if utilisateur else None,
                   mot_de_passe=password, connexions=connexions,
                   messages_par_minute=per_minute, messages_par_heure=per_hour,
                   delai=float(delai), mot_de_passe_en_clair=in_clear)

    @property
    def address(self) -> str:
        """Return ``hote:port``, as error messages show it."""
        return f"{self.hote}:{self.port}"


def is_loopback(host: str) -> bool:
    """Tell whether ``host`` is this machine (``localhost``, 127.0.0.0/8, ``::1``)."""
    name = host.strip("[]").lower().rstrip(".")
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def _bad(where: str | None, key: str, value: Any, expected: str) -> ConfigError:
    return ConfigError(
        _("la clé « {key} » vaut {value!r} ; attendu : {expected}.").format(
            key=key, value=value, expected=expected),
        where=where,
        fix=_("Corrigez cette valeur dans le fichier de configuration."))


def _integer(where: str | None, key: str, value: Any, low: int, high: int | None) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < low or (
            high is not None and value > high):
        expected = (_("un nombre entier entre {low} et {high}").format(low=low, high=high)
                    if high is not None else
                    _("un nombre entier positif ou 0 (0 = aucune limite)"))
        raise _bad(where, key, value, expected)
    return value
