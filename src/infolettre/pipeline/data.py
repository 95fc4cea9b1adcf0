"""The actions on the people and the data folder: unsubscribes (one at a person's request,
or the requests that came by mail) and the backup of the state."""

from __future__ import annotations

from contextlib import closing
from pathlib import Path

from ..clock import SYSTEM_CLOCK, Clock
from ..deliver.recipients import LineError, check_address
from ..errors import InfolettreError
from ..i18n import _
from ..settings import Settings
from ..state import MissingState, connect, state_file
from ..state.backup import backup as copy_state
from ..state.users import AccountError, User, UserStore
from ..unsubscribe import Report as UnsubscribeReport
from ..unsubscribe import UnsubscribeStore, load_secret, process_unsubscribe_token
from ..unsubscribe import process_maildir as read_unsubscribe_requests


def unsubscribe(settings: Settings, address: str, *, source: str = "pivot",
                clock: Clock = SYSTEM_CLOCK) -> tuple[str, bool]:
    """Unsubscribe one address at the person's request; return it (normalized) and whether
    it is new. The journal is written first, then the database (``UnsubscribeStore``)."""
    try:
        address = check_address(address)
    except LineError as exc:
        raise InfolettreError(exc.message, where=address, fix=exc.fix) from None
    with closing(connect(state_file(settings.paths.donnees))) as conn:
        return address, UnsubscribeStore(conn, clock=clock).add(address, source)


def backup(settings: Settings, folder: Path | None = None, *,
           clock: Clock = SYSTEM_CLOCK) -> tuple[Path, list[Path]]:
    """Copy the state (database, journals, send records, secret) into ``folder``."""
    return copy_state(settings, folder, clock=clock)


def unsubscribe_requests(settings: Settings, *, maildir: Path | None = None,
                         clock: Clock = SYSTEM_CLOCK) -> UnsubscribeReport:
    """Read the unsubscribe requests that arrived by mail (``[desabonnement]`` maildir, or
    ``maildir``): a genuine token unsubscribes its address; the others wait for a person in
    « A-verifier » (``unsubscribe.mailbox``)."""
    folder = maildir or settings.unsubscribe.maildir
    if folder is None:
        raise InfolettreError(_("aucun dossier de demandes de désabonnement n'est indiqué."),
                              fix=_("Ajoutez « maildir = … » dans [desabonnement] de "
                                    "infolettre.toml, ou donnez --maildir DOSSIER."))
    secret = load_secret(settings.paths.donnees)
    with closing(connect(state_file(settings.paths.donnees))) as conn:
        return read_unsubscribe_requests(UnsubscribeStore(conn, clock=clock), secret, folder)


def user_add(settings: Settings, email: str, password: str, *, role: str = "pivot",
             territoire: str | None = None, clock: Clock = SYSTEM_CLOCK) -> User:
    """Create an account of the review app (or reset its password, role and territory)."""
    if territoire is not None and territoire not in settings.territories:
        raise AccountError(_("territoire inconnu : « {t} ».").format(t=territoire),
                           fix=_("Territoires : {names}.").format(
                               names=", ".join(settings.territories)))
    with closing(connect(state_file(settings.paths.donnees))) as conn:
        return UserStore(conn, clock=clock).add(email, password, role, territoire)


def user_list(settings: Settings) -> list[User]:
    """Return the accounts of the review app (none when the state does not exist yet)."""
    try:
        conn = connect(state_file(settings.paths.donnees), readonly=True)
    except MissingState:
        return []
    with closing(conn):
        try:
            return UserStore(conn).all()
        except MissingState:
            return []


def user_remove(settings: Settings, email: str) -> bool:
    """Delete an account; return False when there was none."""
    with closing(connect(state_file(settings.paths.donnees))) as conn:
        return UserStore(conn).remove(email)


def sign_in(settings: Settings, email: str, password: str, *,
            clock: Clock = SYSTEM_CLOCK) -> User:
    """Check a sign-in to the review app (``AccountError`` says why it is refused)."""
    with closing(connect(state_file(settings.paths.donnees))) as conn:
        return UserStore(conn, clock=clock).authenticate(email, password)


def account(settings: Settings, email: str) -> User | None:
    """Return the account of a session's address (None once it was removed)."""
    with closing(connect(state_file(settings.paths.donnees))) as conn:
        return UserStore(conn).get(email)


def unsubscribe_link(settings: Settings, token: str, *,
                     clock: Clock = SYSTEM_CLOCK) -> str | None:
    """Unsubscribe the address a signed link names (the web page, RFC 8058 one-click);
    return it, or None when the token is not genuine (nothing changes)."""
    secret = load_secret(settings.paths.donnees)
    with closing(connect(state_file(settings.paths.donnees))) as conn:
        return process_unsubscribe_token(UnsubscribeStore(conn, clock=clock), secret, token[:600])
