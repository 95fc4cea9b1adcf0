"""Read ``infolettre.toml`` once and check every key: an error names the key, the value
found and what is expected, and unknown keys are refused with « Vouliez-vous dire … »
(a typo must not pass silently). Paths are relative to the file's folder.
"""

from __future__ import annotations

import difflib
import os
import re
import tomllib
from dataclasses import fields
from email.headerregistry import Address
from email.utils import parseaddr
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ..errors import ConfigError, cut
from ..i18n import _
from ..models import REGIONAL
from ..parse_errors import toml_problem
from .keys import plain_keys, quote_accented_keys
from .schema import (AFTER_PROCESSING, CONTROL_CHARS, DEFAULT_CONFIG, ENV_CONFIG, FEED_TRUST,
                     IMAP_SECURITY, PAPER_SIZES, SLUG_RE, Application, Dkim, FeedSource,
                     Identity, MailIntake, Organization, Paths, Settings, Unsubscribe, Watch)
from .bounces import read_bounces
from .calendar import read_calendar
from .logo import read_logo
from .organizations import read_organizations
from .smtp import SmtpConfig


def config_path(explicit: str | Path | None = None) -> Path:
    """Choose the configuration file: ``--config``, then ``INFOLETTRE_CONFIG``, then ./infolettre.toml."""
    return Path(explicit or os.environ.get(ENV_CONFIG) or DEFAULT_CONFIG)


def load_settings(path: str | Path | None = None) -> Settings:
    """Read and validate the configuration file; raise ``ConfigError`` with key and fix."""
    path = config_path(path)
    try:
        raw = tomllib.loads(quote_accented_keys(path.read_text(encoding="utf-8")))
    except FileNotFoundError:
        raise ConfigError(
            _("le fichier de configuration est introuvable."),
            where=str(path),
            fix=_("Copiez infolettre.toml à partir de l'exemple du dépôt, ou indiquez son "
                  "chemin avec --config ou la variable INFOLETTRE_CONFIG."),
        ) from None
    except UnicodeDecodeError:
        raise ConfigError(_("le fichier n'est pas en UTF-8."), where=str(path),
                          fix=_("Enregistrez-le en UTF-8 dans votre éditeur.")) from None
    except tomllib.TOMLDecodeError as exc:
        problem = toml_problem(exc)
        where = (_("ligne {line}, colonne {column}").format(line=problem.line,
                                                           column=problem.column)
                 if problem.line else _("fin du fichier"))
        raise ConfigError(_("syntaxe TOML invalide ({where}) : {problem}.").format(
                              where=where, problem=problem.message),
                          where=f"{path}:{problem.line}" if problem.line else str(path),
                          fix=_("Vérifiez les guillemets, les crochets et les signes = "
                                "à la ligne indiquée.")) from None
    return _Reader(path, plain_keys(raw, str(path))).settings()


class _Reader:
    """Walk the parsed TOML and build ``Settings``, naming the key of each error."""

    def __init__(self, path: Path, raw: dict[str, Any]):
        self.path = path
        self.raw = raw
        self.base = path.resolve().parent

    def fail(self, key: str, value: Any, expected: str) -> ConfigError:
        return ConfigError(
            _("la clé « {key} » vaut {value} ; attendu : {expected}.").format(
                key=key, value=cut(repr(value), 120), expected=expected),
            where=str(self.path),
            fix=_("Corrigez cette valeur dans le fichier de configuration."))

    def table(self, name: str, *, required: bool = True) -> dict[str, Any]:
        value = self.raw.get(name)
        if value is None and not required:
            return {}
        if not isinstance(value, dict):
            raise self.fail(f"[{name}]", value, _("une table [{name}]").format(name=name))
        return value

    def check_keys(self, where: str, table: dict[str, Any], allowed: set[str]) -> None:
        for key in table:
            if key not in allowed:
                close = difflib.get_close_matches(key.lower(), sorted(allowed), n=1)
                hint = _("Vouliez-vous dire « {k} » ? ").format(k=close[0]) if close else ""
                raise ConfigError(
                    _("clé inconnue « {key} » dans {where}.").format(key=key, where=where),
                    where=str(self.path),
                    fix=hint + _("Clés permises : {keys}. Vérifiez l'orthographe.").format(
                        keys=", ".join(sorted(allowed))))

    def text(self, where: str, table: dict[str, Any], key: str, default: str | None = None,
             *, required: bool = True, lines: bool = False) -> str | None:
        value = table.get(key, default)
        if value is None and not required:
            return None
        if not isinstance(value, str) or not value.strip():
            raise self.fail(f"{where}.{key}", value, _("un texte non vide"))
        return self.one_line(f"{where}.{key}", value.strip(), lines=lines)

    def one_line(self, key: str, value: str, *, lines: bool = False) -> str:
        """Refuse a value holding CR, LF or another control character (``lines``: LF ok)."""
        found = CONTROL_CHARS.search(value.replace("\n", " ") if lines else value)
        if found:
            raise self.fail(key, value, _("un texte sur une seule ligne, sans caractère de "
                                          "contrôle (trouvé : {char})").format(
                char=repr(found.group())))
        return value

    def settings(self) -> Settings:
        self.check_keys(_("le fichier"), self.raw, {
            "infolettre", "territoires", "rubriques", "organismes", "chemins", "impression", "smtp",
            "desabonnement", "dkim", "courriel_entrant", "flux", "veille", "application",
            "calendrier", "rebonds"})
        territories = self.slug_table("territoires")
        if REGIONAL in territories:
            raise self.fail("territoires.regional", territories[REGIONAL],
                            _("un autre identifiant : « regional » est réservé"))
        rubriques = self.slug_table("rubriques")
        identity = self.identity()
        organizations = read_organizations(self, territories)
        return Settings(
            identity=identity,
            territories=territories,
            rubriques=rubriques,
            organizations=organizations,
            paths=self.paths(),
            paper=self.paper(),
            smtp=self.smtp(),
            unsubscribe=self.unsubscribe(identity),
            dkim=self.dkim(identity),
            mail_intake=self.mail_intake(),
            feeds=self.feeds(territories, rubriques, organizations),
            watch=self.watch(identity),
            application=self.application(),
            calendar=read_calendar(self, self.table("calendrier", required=False)),
            bounces=read_bounces(self, self.table("rebonds", required=False),
                                 identity.sender_address),
            source=self.path,
        )

    def identity(self) -> Identity:
        t = self.table("infolettre")
        w = "infolettre"
        self.check_keys("[infolettre]", t, {"nom", "region", "expediteur", "repondre_a",
                                            "adresse_postale", "site", "langue", "fuseau", "logo"})
        expediteur = self.text(w, t, "expediteur")
        if "@" not in parseaddr(expediteur)[1]:
            raise self.fail(f"{w}.expediteur", expediteur,
                            _("« Nom <adresse@domaine> » ou une adresse courriel"))
        repondre_a = self.text(w, t, "repondre_a")
        self.address(f"{w}.repondre_a", repondre_a)
        site = self.text(w, t, "site", required=False)
        if site and not site.startswith(("https://", "http://")):
            raise self.fail(f"{w}.site", site, _("une adresse web commençant par https://"))
        fuseau = self.text(w, t, "fuseau", "America/Montreal")
        try:
            ZoneInfo(fuseau)
        except (ZoneInfoNotFoundError, ValueError):
            raise self.fail(f"{w}.fuseau", fuseau, _("un fuseau horaire, par exemple "
                                                     "« America/Montreal »")) from None
        return Identity(
            nom=self.text(w, t, "nom"), region=self.text(w, t, "region"),
            expediteur=expediteur, repondre_a=repondre_a,
            adresse_postale=self.text(w, t, "adresse_postale", lines=True), site=site,
            langue=self.text(w, t, "langue", "fr_CA"), fuseau=fuseau, logo=read_logo(self, t))

    def address(self, key: str, value: str) -> str:
        try:
            Address(addr_spec=value)
        except (ValueError, IndexError, TypeError):
            raise self.fail(key, value, _("une adresse courriel")) from None
        if "@" not in value:
            raise self.fail(key, value, _("une adresse courriel"))
        return value

    def slug_table(self, name: str) -> dict[str, str]:
        t = self.table(name)
        if not t:
            raise self.fail(f"[{name}]", t, _("au moins une entrée"))
        for slug, label in t.items():
            if not SLUG_RE.match(slug):
                raise self.fail(f"{name}.{slug}", slug, _("un identifiant en minuscules sans "
                                                          "accents ni espaces (ex. « les-etchemins »)"))
            if not isinstance(label, str) or not label.strip():
                raise self.fail(f"{name}.{slug}", label, _("un nom affiché non vide"))
            self.one_line(f"{name}.{slug}", label.strip())  # in the Subject of each edition
        return {slug: label.strip() for slug, label in t.items()}

    def paths(self) -> Paths:
        t = self.table("chemins", required=False)
        defaults = {"contenu": "content", "gabarits": "templates", "sortie": "build",
                    "boite_envoi": "outbox", "destinataires": "recipients.csv", "donnees": "data",
                    "site": "site"}
        self.check_keys("[chemins]", t, set(defaults))
        return Paths(**{k: self.base / self.text("chemins", t, k, d) for k, d in defaults.items()})

    def smtp(self) -> SmtpConfig | None:
        table = self.raw.get("smtp")
        if table is None:
            return None
        return SmtpConfig.from_table(table, os.environ, where=str(self.path))

    def unsubscribe(self, identity: Identity) -> Unsubscribe:
        t = self.table("desabonnement", required=False)
        w = "desabonnement"
        self.check_keys("[desabonnement]", t, {"courriel", "url", "maildir"})
        courriel = self.address(f"{w}.courriel",
                                self.text(w, t, "courriel", identity.repondre_a))
        url = self.text(w, t, "url", required=False)
        if url and not url.startswith("https://"):
            raise self.fail(f"{w}.url", url, _("une adresse web commençant par https://"))
        maildir = self.text(w, t, "maildir", required=False)
        return Unsubscribe(courriel, url, self.base / maildir if maildir else None)

    def dkim(self, identity: Identity) -> Dkim | None:
        t = self.table("dkim", required=False)
        if not t:
            return None
        w = "dkim"
        self.check_keys("[dkim]", t, {"selecteur", "domaine", "cle"})
        domaine = self.text(w, t, "domaine", identity.sender_address.rpartition("@")[2])
        return Dkim(self.text(w, t, "selecteur"), domaine, self.base / self.text(w, t, "cle"))

    def mail_intake(self) -> MailIntake:
        t = self.table("courriel_entrant", required=False)
        w = "courriel_entrant"
        self.check_keys("[courriel_entrant]", t, {f.name for f in fields(MailIntake)})
        maildir = self.text(w, t, "maildir", required=False)
        port = t.get("imap_port", 993)
        if not isinstance(port, int) or isinstance(port, bool) or not 0 < port < 65536:
            raise self.fail(f"{w}.imap_port", port, _("un numéro de port (993 ou 143)"))
        securite = t.get("imap_securite", "tls")
        if securite not in IMAP_SECURITY:
            raise self.fail(f"{w}.imap_securite", securite, " | ".join(IMAP_SECURITY))
        size = t.get("taille_max_piece_jointe_mo", 10)
        if not isinstance(size, int) or isinstance(size, bool) or size <= 0:
            raise self.fail(f"{w}.taille_max_piece_jointe_mo", size,
                            _("un nombre entier de mégaoctets, par exemple 10"))
        after = t.get("apres_traitement", "deplacer")
        if after not in AFTER_PROCESSING:
            raise self.fail(f"{w}.apres_traitement", after, " | ".join(AFTER_PROCESSING))
        accuse = t.get("accuse_reception", True)
        if not isinstance(accuse, bool):
            raise self.fail(f"{w}.accuse_reception", accuse, "true | false")
        return MailIntake(
            accuse_reception=accuse, authserv_id=self.authserv_ids(w, t),
            maildir=self.base / maildir if maildir else None,
            imap_hote=self.text(w, t, "imap_hote", required=False), imap_port=port,
            imap_securite=securite,
            imap_utilisateur=self.text(w, t, "imap_utilisateur", required=False),
            imap_dossier=self.text(w, t, "imap_dossier", "INBOX"),
            dossier_traite=self.text(w, t, "dossier_traite", "Traité"), apres_traitement=after,
            dossier_a_verifier=self.text(w, t, "dossier_a_verifier", "À vérifier"),
            taille_max_piece_jointe_mo=size)

    def authserv_ids(self, where: str, table: dict[str, Any]) -> tuple[str, ...]:
        """Read ``authserv_id``: one server name, or a list of them (lowercased)."""
        value = table.get("authserv_id", [])
        values = [value] if isinstance(value, str) else value
        key = f"{where}.authserv_id"
        if not isinstance(values, list) or not all(
                isinstance(v, str) and re.fullmatch(r"[^\s;()]+", v.strip()) for v in values):
            raise self.fail(key, value, _("le nom que votre serveur de réception écrit au "
                                          "début de ses en-têtes Authentication-Results, par "
                                          "exemple « mx.example.org »"))
        return tuple(self.one_line(key, v.strip()).lower().rstrip(".") for v in values)

    def feeds(self, territories: dict[str, str], rubriques: dict[str, str],
              organizations: tuple[Organization, ...]) -> tuple[FeedSource, ...]:
        entries = self.raw.get("flux", [])
        if not isinstance(entries, list):
            raise self.fail("[[flux]]", entries, _("une liste de tables [[flux]]"))
        known = {o.nom.casefold() for o in organizations}
        result, urls = [], set()
        for i, t in enumerate(entries, start=1):
            w = f"flux[{i}]"
            if not isinstance(t, dict):
                raise self.fail(w, t, _("une table [[flux]]"))
            self.check_keys(_("[[flux]] n° {i}").format(i=i), t,
                            {f.name for f in fields(FeedSource)})
            url = self.text(w, t, "url")
            if not re.match(r"^https?://[^\s/]+", url):
                raise self.fail(f"{w}.url", url, _("une adresse web commençant par https:// "
                                                   "ou http://"))
            if url in urls:
                raise self.fail(f"{w}.url", url, _("une adresse qui n'apparaît qu'une fois"))
            urls.add(url)
            territoire = self.text(w, t, "territoire", REGIONAL)
            if territoire != REGIONAL and territoire not in territories:
                raise self.fail(f"{w}.territoire", territoire, _("« regional » ou l'un de : "
                                                                 "{choices}").format(
                    choices=", ".join(territories)))
            rubrique = self.text(w, t, "rubrique")
            if rubrique not in rubriques:
                raise self.fail(f"{w}.rubrique", rubrique, _("l'un de : {choices}").format(
                    choices=", ".join(rubriques)))
            confiance = t.get("confiance", "revue")
            if confiance not in FEED_TRUST:
                raise self.fail(f"{w}.confiance", confiance, _(
                    "« revue » (les entrées attendent votre relecture) ou « auto » (publiées "
                    "sans relecture)"))
            feed = FeedSource(url=url, nom=self.text(w, t, "nom"), territoire=territoire,
                              rubrique=rubrique, confiance=confiance,
                              organisme=self.text(w, t, "organisme", required=False))
            if confiance == "auto" and feed.organization.casefold() not in known:
                raise self.fail(f"{w}.organisme", feed.organization, _(
                    "un organisme du registre [[organismes]] : un flux « auto » publie sans "
                    "relecture, il doit être inscrit (sinon mettez confiance = \"revue\")"))
            result.append(feed)
        return tuple(result)

    def watch(self, identity: Identity) -> Watch:
        t = self.table("veille", required=False)
        w = "veille"
        self.check_keys("[veille]", t, {f.name for f in fields(Watch)})
        values: dict[str, Any] = {"contact": self.address(
            f"{w}.contact", self.text(w, t, "contact", identity.repondre_a))}
        for f in fields(Watch):
            if f.name == "contact" or f.name not in t:
                continue
            value = t[f.name]
            if isinstance(f.default, bool):
                if not isinstance(value, bool):
                    raise self.fail(f"{w}.{f.name}", value, _("true ou false"))
                values[f.name] = value
                continue
            number = (int, float) if isinstance(f.default, float) else (int,)
            if not isinstance(value, number) or isinstance(value, bool) or value <= 0:
                raise self.fail(f"{w}.{f.name}", value, _("un nombre plus grand que zéro"))
            values[f.name] = float(value) if isinstance(f.default, float) else value
        return Watch(**values)

    def application(self) -> Application:
        t = self.table("application", required=False)
        self.check_keys("[application]", t, {"url", "hote", "port"})
        url = self.text("application", t, "url", required=False)
        if url is not None and not re.fullmatch(r"https?://[^\s/<>\"]+(/[^\s<>\"]*)?", url):
            raise self.fail("application.url", url, _("une adresse web complète, par exemple "
                                                      "https://infolettre.example.org"))
        port = t.get("port", 8000)
        if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
            raise self.fail("application.port", port, _("un numéro de port entre 1 et 65535"))
        return Application(url.rstrip("/") if url else None,
                           self.text("application", t, "hote", "127.0.0.1"), port)

    def paper(self) -> str:
        t = self.table("impression", required=False)
        self.check_keys("[impression]", t, {"format"})
        value = t.get("format", "letter")
        if value not in PAPER_SIZES:
            raise self.fail("impression.format", value, " | ".join(PAPER_SIZES))
        return value
