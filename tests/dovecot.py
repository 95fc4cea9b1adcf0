"""A real IMAP server for the mail-intake tests: Debian's Dovecot on loopback, one test user.

``dovecot_server`` (module scope) writes a minimal ``dovecot.conf`` into a private temporary
folder and runs ``dovecot -F -c dovecot.conf`` in the foreground as a subprocess:

- IMAP only, on ``127.0.0.1``: one free port offering STARTTLS and clear text, another with
  implicit TLS (IMAPS), both with a self-signed certificate for 127.0.0.1 made by
  ``openssl`` (a dependency of dovecot-core); clear-text login is allowed
  (``disable_plaintext_auth = no``, Dovecot 2.3's name for 2.4's ``auth_allow_cleartext``),
  acceptable on loopback for a test and nowhere else;
- one user in a ``passwd-file`` (password ``{PLAIN}``), whose mail is
  ``maildir:<folder>/<user>/Maildir`` owned by whoever runs the tests, or by ``nobody`` when
  that is root (Dovecot refuses to serve mail as uid 0); ``first_valid_uid`` is that uid;
- no delay after a wrong password (``auth_failure_delay = 0``, the anvil auth-penalty
  socket off): the wrong-password test would otherwise slow every later login;
- ``base_dir``, ``state_dir`` and the log file inside the folder, so nothing touches the
  machine's own Dovecot; internal and login processes run as Debian's ``dovecot`` and
  ``dovenull`` users (``nobody`` when absent), which is why the folder is world-readable;
  run by another user, Dovecot runs rootless (every process as that user, no chroot).

The fixture yields a ``DovecotServer`` (host, port, tls_port, certificate, user, password,
maildir, log) and stops the server at the end. When ``/usr/sbin/dovecot`` is absent the
tests are skipped LOUDLY: ``.ci/run`` installs Debian's ``dovecot-imapd``.
"""

from __future__ import annotations

import grp
import imaplib
import os
import re
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

DOVECOT = Path("/usr/sbin/dovecot")
USER = "delegue"
PASSWORD = "mot-de-passe-de-test"


@dataclass(frozen=True)
class DovecotServer:
    """Where the test server listens and whose mailbox it serves."""

    host: str
    port: int
    user: str
    password: str
    maildir: Path
    log: Path
    tls_port: int       # implicit TLS (IMAPS); ``port`` offers STARTTLS and clear text
    certificate: Path   # self-signed, for 127.0.0.1 and localhost: trust it to verify


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _system_user(*names: str) -> str:
    for name in names:
        try:
            pwd.getpwnam(name)
            return name
        except KeyError:
            continue
    raise RuntimeError(f"aucun de ces utilisateurs système n'existe : {', '.join(names)}")


def _certificate(folder: Path) -> tuple[Path, Path]:
    """Make a self-signed certificate for 127.0.0.1 and localhost (openssl comes with Dovecot)."""
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-keyout", str(key), "-out", str(cert), "-subj", "/CN=localhost",
                    "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
                   check=True, capture_output=True)
    return cert, key


def _config(folder: Path, port: int, tls_port: int, uid: int, gid: int) -> str:
    if os.geteuid() == 0:
        internal = _system_user("dovecot", "nobody")
        login = _system_user("dovenull", "nobody")
        rootless = ""
    else:  # Dovecot's rootless mode: every process runs as the tester, no chroot
        internal = login = pwd.getpwuid(os.geteuid()).pw_name
        group = grp.getgrgid(os.getegid()).gr_name
        rootless = (f"default_internal_group = {group}\n"
                    "service imap-login {\n  chroot =\n}\n"
                    "service anvil {\n  chroot =\n}\n")
    return rootless + f"""\
protocols = imap
listen = 127.0.0.1
base_dir = {folder}/run
state_dir = {folder}/state
log_path = {folder}/dovecot.log
info_log_path = {folder}/dovecot.log
ssl = yes
ssl_cert = <{folder}/cert.pem
ssl_key = <{folder}/key.pem
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_failure_delay = 0
default_internal_user = {internal}
default_login_user = {login}
first_valid_uid = {uid}
first_valid_gid = {gid}
mail_location = maildir:{folder}/%u/Maildir
namespace inbox {{
  inbox = yes
  separator = /
}}
passdb {{
  driver = passwd-file
  args = {folder}/passwd
}}
userdb {{
  driver = passwd-file
  args = {folder}/passwd
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {tls_port}
    ssl = yes
  }}
}}
service anvil {{
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
"""


def start_dovecot() -> tuple[subprocess.Popen, DovecotServer, Path]:
    """Write the configuration, start Dovecot and wait for its port; return it running."""
    folder = Path(tempfile.mkdtemp(prefix="infolettre-dovecot-"))
    os.chmod(folder, 0o755)
    uid, gid = os.geteuid(), os.getegid()
    if uid == 0:  # Dovecot never serves mail as root: the mailbox belongs to nobody
        nobody = pwd.getpwnam(_system_user("nobody"))
        uid, gid = nobody.pw_uid, nobody.pw_gid
    home = folder / USER
    home.mkdir()
    os.chown(home, uid, gid)
    (folder / "passwd").write_text(f"{USER}:{{PLAIN}}{PASSWORD}:{uid}:{gid}::{home}::\n",
                                   encoding="utf-8")
    os.chmod(folder / "passwd", 0o644)
    port, tls_port = _free_port(), _free_port()
    while tls_port == port:
        tls_port = _free_port()
    try:
        cert, _key = _certificate(folder)
    except (OSError, subprocess.CalledProcessError):
        shutil.rmtree(folder, ignore_errors=True)
        raise
    conf = folder / "dovecot.conf"
    conf.write_text(_config(folder, port, tls_port, uid, gid), encoding="utf-8")
    with (folder / "stdout").open("wb") as output:  # never a pipe nobody reads
        process = subprocess.Popen([str(DOVECOT), "-F", "-c", str(conf)],
                                   stdout=output, stderr=subprocess.STDOUT)
    server = DovecotServer("127.0.0.1", port, USER, PASSWORD, home / "Maildir",
                           folder / "dovecot.log", tls_port, cert)
    try:
        _wait_until_listening(process, server, folder, port)
    except BaseException:  # never leave a server behind (an interrupt, a failing sleep…)
        if process.poll() is None:
            stop_dovecot(process, folder)
        raise
    return process, server, folder


def _wait_until_listening(process: subprocess.Popen, server: DovecotServer, folder: Path,
                          port: int) -> None:
    """Return once Dovecot greets on ``port``; raise if it stops or stays silent 15 s."""
    deadline = time.monotonic() + 15
    while True:
        if process.poll() is not None:
            output = (folder / "stdout").read_text(errors="replace")
            log = server.log.read_text(errors="replace") if server.log.exists() else ""
            shutil.rmtree(folder, ignore_errors=True)
            raise RuntimeError(f"Dovecot s'est arrêté au démarrage :\n{output}\n{log}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as probe:
                probe.settimeout(2)
                if probe.recv(200).startswith(b"* OK"):
                    break
        except OSError:
            pass
        if time.monotonic() > deadline:
            stop_dovecot(process, folder)
            raise RuntimeError("Dovecot n'écoute pas après 15 s")
        time.sleep(0.05)


def stop_dovecot(process: subprocess.Popen, folder: Path) -> None:
    """Stop the server (SIGTERM, then SIGKILL) and remove its folder."""
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="module")
def dovecot_server() -> Iterator[DovecotServer]:
    """A running Dovecot on loopback with one test user; a LOUD skip when it is not installed."""
    if not DOVECOT.exists():
        pytest.skip("!!! DOVECOT ABSENT: /usr/sbin/dovecot not found, the real-IMAP-server "
                    "mail intake tests are SKIPPED. Install Debian's dovecot-imapd "
                    "(apt-get install dovecot-imapd) or run .ci/run, which does.")
    process, server, folder = start_dovecot()
    try:
        yield server
    finally:
        stop_dovecot(process, folder)


# -- the mailbox as a person's mail program sees it (shared by the IMAP tests) --------------

def imap_client(server: DovecotServer) -> imaplib.IMAP4:
    """A signed-in connection to the test user's mailbox (clear text, loopback only)."""
    client = imaplib.IMAP4(server.host, server.port, timeout=10)
    client.login(server.user, server.password)
    return client


def folder_messages(server: DovecotServer, mailbox: str) -> list[bytes]:
    """The raw messages of a folder given by its encoded IMAP name (SELECT read-only,
    FETCH), [] if it is absent."""
    client = imap_client(server)
    try:
        typ, _data = client.select(mailbox, readonly=True)
        if typ != "OK":
            return []
        found = []
        for uid in client.uid("SEARCH", "ALL")[1][0].split():
            parts = client.uid("FETCH", uid, "(BODY.PEEK[])")[1]
            found += [p[1] for p in parts if isinstance(p, tuple)]
        return found
    finally:
        client.logout()


def empty_mailbox(server: DovecotServer) -> None:
    """Empty the test user's INBOX and remove every other folder (a fresh mailbox per test)."""
    client = imap_client(server)
    try:
        typ, data = client.select("INBOX")
        if int(data[0]):
            client.store("1:*", "+FLAGS.SILENT", r"(\Deleted)")
            client.expunge()
        client.close()
        for line in client.list()[1]:
            name = re.search(rb'"/" "?(.*?)"?$', line).group(1).decode("ascii")
            if name != "INBOX":
                client.delete(f'"{name}"')
    finally:
        client.logout()
