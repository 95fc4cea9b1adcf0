"""The project secret that signs unsubscribe tokens: environment or data/secret.key."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from pathlib import Path

from ..errors import ConfigError
from ..fsutil import write_durably
from ..i18n import _


ENV_SECRET = "INFOLETTRE_SECRET"
SECRET_FILE = "secret.key"
MIN_SECRET_CHARS = 32


def load_secret(data_dir: Path, environ: Mapping[str, str] | None = None) -> bytes:
    """Return the signing secret: ``INFOLETTRE_SECRET``, else ``data_dir/secret.key``.

    The environment value must have at least 32 characters. Without it, the file holds 32
    random bytes in hex; it is created on first use, atomically and readable by its owner
    only (mode 0600), and reused ever after. ``data/`` (the default ``[chemins] donnees``) is
    git-ignored; a folder configured elsewhere must be kept out of version control too.
    """
    environ = os.environ if environ is None else environ
    value = environ.get(ENV_SECRET)
    if value is not None:
        value = value.strip()
        if len(value) < MIN_SECRET_CHARS:
            raise ConfigError(
                _("la variable {name} est trop courte ({n} caractères, il en faut au moins "
                  "{min}).").format(name=ENV_SECRET, n=len(value), min=MIN_SECRET_CHARS),
                where=ENV_SECRET,
                fix=_("Donnez-lui une valeur aléatoire d'au moins {min} caractères, par "
                      "exemple celle de : python -c \"import secrets; "
                      "print(secrets.token_hex(32))\" ; ou retirez la variable pour utiliser "
                      "le fichier {file}.").format(min=MIN_SECRET_CHARS, file=SECRET_FILE))
        return value.encode("utf-8")
    path = Path(data_dir) / SECRET_FILE
    if not path.exists():
        _create_secret(path)
    return _read_secret(path)


def _create_secret(path: Path) -> None:
    """Write a new secret; if another process wrote one first, keep theirs (no clobber)."""
    data = (secrets.token_bytes(32).hex() + "\n").encode("ascii")
    try:
        write_durably(path, lambda handle: handle.write(data), mode=0o600, no_clobber=True)
    except OSError as exc:
        raise ConfigError(
            _("impossible de créer le fichier secret ({detail}).").format(
                detail=exc.strerror or exc),
            where=str(path),
            fix=_("Vérifiez que le dossier [chemins] donnees existe et est accessible en "
                  "écriture, ou définissez la variable {name}.").format(name=ENV_SECRET)
        ) from None


def _read_secret(path: Path) -> bytes:
    damaged = ConfigError(
        _("le fichier secret est endommagé (64 chiffres hexadécimaux attendus)."),
        where=str(path),
        fix=_("Remettez la copie de sauvegarde de ce fichier. À défaut, supprimez-le : un "
              "nouveau sera créé, mais les liens de désabonnement déjà envoyés ne "
              "fonctionneront plus."))
    try:
        secret = bytes.fromhex(path.read_text(encoding="ascii").strip())
    except (ValueError, UnicodeDecodeError):
        raise damaged from None
    except OSError as exc:
        raise ConfigError(
            _("impossible de lire le fichier secret ({detail}).").format(
                detail=exc.strerror or exc),
            where=str(path),
            fix=_("Vérifiez que le fichier est lisible par l'utilisateur qui lance "
                  "infolettre.")) from None
    if len(secret) < 32:
        raise damaged
    return secret


