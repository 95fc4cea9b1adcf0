"""DKIM: real personalized messages signed with a fresh RSA key and verified by dkimpy.

Keys come from ``openssl genrsa`` (dkimpy does its own RSA and does not need
``cryptography``); verification uses the public key as ``openssl`` extracts it, served by a
stand-in DNS function: a real check of the signature, with no mock of the signing itself.
"""

from __future__ import annotations

import base64
import dataclasses
import email
import email.policy
import shutil
import subprocess
from pathlib import Path

import dkim
import pytest

from infolettre.deliver.dkim import SIGNED_HEADERS, DkimSigner
from infolettre.deliver.message import EditionMessage
from infolettre.errors import ConfigError
from infolettre.models import Recipient, RenderedEdition
from infolettre.render.personalize import Placeholders
from infolettre.settings import load_settings
from infolettre.unsubscribe import SignedUnsubscriber, make_token

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None,
                                reason="openssl est requis pour créer les clés de test")
SETTINGS = Path(__file__).parent / "data" / "recipients" / "infolettre.toml"
SECRET = bytes(range(32))
MARIE = Recipient(email="marie.cote@example.net", nom="Marie Côté", territoire="bellechasse")


def openssl(*args: str, data: bytes | None = None) -> bytes:
    return subprocess.run(["openssl", *args], input=data, capture_output=True,
                          check=True).stdout


@pytest.fixture(scope="module")
def key(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("dkim") / "dkim.pem"
    openssl("genrsa", "-out", str(path), "2048")
    return path


@pytest.fixture(scope="module")
def dns(key):
    """A DNS stand-in serving openssl's own public key at sel2026._domainkey.example.org."""
    public = base64.b64encode(openssl("rsa", "-in", str(key), "-pubout", "-outform", "DER"))
    record = b"v=DKIM1; k=rsa; p=" + public
    asked = []

    def txt(name: bytes, timeout: int = 5) -> bytes | None:
        asked.append(name)
        return record if name == b"sel2026._domainkey.example.org." else None

    txt.asked = asked
    txt.record = record
    return txt


@pytest.fixture(scope="module")
def signer(key) -> DkimSigner:
    return DkimSigner.from_file(key, "sel2026", "example.org")


def bulletin(size: int = 80_000) -> bytes:
    """Return a real personalized bulletin of about ``size`` bytes, with one-click headers."""
    placeholders = Placeholders()
    t = placeholders.token
    row = "<tr><td style=\"padding:0 8px\">Atelier « Budget » à Saint-Éphrem, café offert</td></tr>"
    html = (f"<!doctype html><html lang=\"fr-CA\"><body><p>{t('salutation')}</p>"
            f"<table>{row * (size // (len(row) + 40))}</table>"
            f"<a href=\"{t('desabonnement')}\">Se désabonner</a></body></html>\n")
    text = f"{t('salutation')}\n\nÉté québécois.\n\nSe désabonner : {t('desabonnement')}\n"
    edition = RenderedEdition(slug="bellechasse", titre="Bellechasse",
                              subject="Le Fil régional — décembre 2026", html=html, text=text)
    unsubscriber = SignedUnsubscriber(SECRET, "desabonnement@example.org",
                                      "https://infolettre.example.org/desabonnement")
    message = EditionMessage(edition, placeholders, load_settings(SETTINGS), "2026-12",
                             unsubscriber=unsubscriber)
    return message.personalize(MARIE).data


def test_signed_bulletin_verifies(signer, dns):
    """An ~80 KB bulletin signed here verifies against openssl's public key in 'DNS'."""
    data = bulletin()
    assert 70_000 < len(data) < 100_000
    signed = signer.sign(data)
    assert signed.startswith(b"DKIM-Signature: ") and signed.endswith(data)
    assert dkim.verify(signed, dnsfunc=dns) is True
    assert dns.asked == [b"sel2026._domainkey.example.org."]


def test_signature_covers_the_listed_headers_relaxed(signer):
    """relaxed/relaxed, d= and s= as configured, h= lists every required header."""
    signed = signer.sign(bulletin(5_000))
    header = email.message_from_bytes(signed, policy=email.policy.compat32)["DKIM-Signature"]
    tags = dict(part.strip().split("=", 1) for part in "".join(header.split()).split(";")
                if part.strip())
    assert (tags["c"], tags["d"], tags["s"], tags["a"]) == (
        "relaxed/relaxed", "example.org", "sel2026", "rsa-sha256")
    assert tags["h"].split(":") == [h.lower() for h in SIGNED_HEADERS]


@pytest.mark.parametrize("change", [
    (b"Se d=C3=A9sabonner", b"Se d=C3=A9sabonnez"),                 # the body
    (b"Subject: ", b"Subject: [PROMO] "),                            # a signed header
    (make_token(SECRET, MARIE.email).encode(), make_token(SECRET, "x@example.net").encode()),
])
def test_any_change_breaks_the_signature(signer, dns, change):
    """Changing the body, the subject or the unsubscribe link makes verification fail."""
    signed = signer.sign(bulletin(5_000))
    old, new = change
    assert old in signed
    assert dkim.verify(signed.replace(old, new), dnsfunc=dns) is False


def test_added_list_unsubscribe_post_breaks_the_signature(signer, dns):
    """A header signed as absent (here List-Unsubscribe-Post) can't be added on the way."""
    data = b"".join(line for line in bulletin(5_000).splitlines(keepends=True)
                    if not line.startswith(b"List-Unsubscribe-Post"))
    signed = signer.sign(data)
    assert dkim.verify(signed, dnsfunc=dns) is True
    forged = b"List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n" + signed
    assert dkim.verify(forged, dnsfunc=dns) is False


def test_relaxed_survives_header_refolding(signer, dns):
    """A relay that refolds a header or adds trailing spaces does not break the signature."""
    signed = signer.sign(bulletin(5_000))
    refolded = signed.replace(b"\r\nSubject: ", b"\r\nSubject:    ", 1)
    assert refolded != signed
    assert dkim.verify(refolded, dnsfunc=dns) is True


def test_dns_record_is_openssl_public_key(signer, dns):
    """dns_record() gives exactly the TXT value to publish (same key as openssl's)."""
    assert signer.dns_record().encode() == dns.record
    assert signer.dns_name == "sel2026._domainkey.example.org"
    assert signer.bits == 2048


def test_pkcs1_and_crlf_keys_are_accepted(key, dns, tmp_path):
    """A PKCS#1 key (« BEGIN RSA PRIVATE KEY ») saved with Windows line ends still works."""
    pkcs1 = openssl("rsa", "-in", str(key), "-traditional")
    assert pkcs1.startswith(b"-----BEGIN RSA PRIVATE KEY-----")
    path = tmp_path / "windows.pem"
    path.write_bytes(pkcs1.replace(b"\n", b"\r\n"))
    signed = DkimSigner.from_file(path, "sel2026", "example.org").sign(bulletin(3_000))
    assert dkim.verify(signed, dnsfunc=dns) is True


def test_missing_key_file_is_explained(tmp_path):
    """A missing key names the file and how to create one."""
    with pytest.raises(ConfigError) as caught:
        DkimSigner.from_file(tmp_path / "absente.pem", "sel", "example.org")
    assert caught.value.where.endswith("absente.pem")
    assert "introuvable" in caught.value.message and "openssl genrsa" in caught.value.fix


def test_unreadable_key_file_is_explained(tmp_path):
    """A path that can't be read (here a folder) is reported, not a traceback."""
    with pytest.raises(ConfigError) as caught:
        DkimSigner.from_file(tmp_path, "sel", "example.org")
    assert "impossible de lire" in caught.value.message


@pytest.mark.parametrize(("content", "expected"), [
    (b"ceci n'est pas une cle\n", "ne contient pas de clé privée"),
    (b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n", "illisible"),
    (b"", "ne contient pas de clé privée"),
])
def test_invalid_key_is_explained(tmp_path, content, expected):
    """Garbage or a truncated key is refused at load time, with a French fix."""
    path = tmp_path / "cle.pem"
    path.write_bytes(content)
    with pytest.raises(ConfigError) as caught:
        DkimSigner.from_file(path, "sel", "example.org")
    assert expected in caught.value.message and caught.value.where == str(path)


def test_public_encrypted_and_short_keys_are_explained(key, tmp_path):
    """The public half, a password-protected key and a 512-bit key each get their own fix."""
    public = tmp_path / "publique.pem"
    public.write_bytes(openssl("rsa", "-in", str(key), "-pubout"))
    encrypted = tmp_path / "chiffree.pem"
    encrypted.write_bytes(openssl("pkey", "-in", str(key), "-aes256", "-passout", "pass:x"))
    short = tmp_path / "courte.pem"
    openssl("genrsa", "-out", str(short), "512")
    for path, words in [(public, "clé publique"), (encrypted, "mot de passe"),
                        (short, "512 bits")]:
        with pytest.raises(ConfigError) as caught:
            DkimSigner.from_file(path, "sel", "example.org")
        assert words in caught.value.message, path


@pytest.mark.parametrize(("selector", "domain"), [("", "example.org"), ("sel 1", "example.org"),
                                                  ("sel", "localhost"), ("sel", "exemple.québec")])
def test_bad_selector_or_domain_is_refused(key, selector, domain):
    """Selector and domain must be DNS names (ASCII) before anything is signed."""
    with pytest.raises(ConfigError):
        DkimSigner(selector, domain, key.read_bytes())


def test_configured_dkim_signs_what_a_send_writes(key, dns, sample_here, monkeypatch):
    """With a [dkim] table, `infolettre send` signs every message it hands over (verified)."""
    from infolettre.pipeline import approve, send
    from infolettre.settings import Dkim

    monkeypatch.setenv("INFOLETTRE_SECRET", "d" * 40)
    settings = dataclasses.replace(sample_here, dkim=Dkim("sel2026", "example.org", key))
    approve(settings, "2026-12", "Test")
    report, _ = send(settings, "2026-12")
    files = sorted((settings.paths.boite_envoi / "2026-12").glob("*.eml"))
    assert report.sent == len(files) == 12
    for path in files[:3]:
        data = path.read_bytes()
        assert data.startswith(b"DKIM-Signature:")
        assert dkim.verify(data, dnsfunc=dns)
