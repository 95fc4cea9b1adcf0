"""SMTP delivery against a real aiosmtpd server on 127.0.0.1: outcomes, pool, rate, errors."""

from __future__ import annotations

import asyncio
import email
import email.policy
import shutil
import socket
import ssl
import subprocess
import threading
import time
from collections import Counter
from datetime import date
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

from infolettre.deliver import DeliveryResult, Envelope, Outcome
from infolettre.deliver.recipients import load_recipients
from infolettre.deliver.run import deliver_issue_async
from infolettre.deliver.message import WireMessage
from infolettre.deliver.smtp import RateLimiter, SmtpSender
from infolettre.settings.smtp import ENV_PASSWORD, SmtpConfig
from infolettre.deliver.transaction import dot_stuff, normalize
from infolettre.errors import ConfigError, DeliveryError
from infolettre.models import COMPLETE, Edition, Issue, RenderedEdition, RenderedIssue
from infolettre.render.personalize import Placeholders
from infolettre.settings import load_settings

DATA = Path(__file__).parent / "data" / "recipients"
MONTH = "2026-12"
SENDER = "infolettre@example.org"
#: Accents, a line starting with a dot (dot-stuffing) and CRLF line ends, as message.py makes.
BODY = ("From: Le Fil régional <infolettre@example.org>\r\nSubject: =?utf-8?q?D=C3=A9cembre?=\r\n"
        "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
        "Content-Transfer-Encoding: 8bit\r\n\r\nBonjour Geneviève, café à Lévis.\r\n"
        ".une ligne qui commence par un point\r\nFin.\r\n").encode()


class Sink:
    """An aiosmtpd handler that records what it accepts and misbehaves on request.

    Recipients whose local part starts with a key of ``rcpt_replies`` get that reply;
    a recipient starting with ``coupe`` has its connection closed after the DATA, before
    any answer. Runs in the controller's thread: the test reads it after sending.
    """

    def __init__(self, rcpt_replies: dict[str, str] | None = None, *,
                 mail_reply: str | None = None, data_delay: float = 0.0):
        self.rcpt_replies = rcpt_replies or {}
        self.mail_reply = mail_reply
        self.data_delay = data_delay
        self.received: list[tuple[str, bytes]] = []
        self.mail_options: list[list[str]] = []
        self.sessions = 0
        self.in_flight = self.max_in_flight = 0
        self.lock = threading.Lock()

    def per_recipient(self) -> Counter[str]:
        return Counter(rcpt for rcpt, _data in self.received)

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        session.host_name = hostname
        with self.lock:
            self.sessions += 1
        return responses

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        if self.mail_reply:
            return self.mail_reply
        envelope.mail_from = address
        self.mail_options.append(list(mail_options))
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        for prefix, reply in self.rcpt_replies.items():
            if address.startswith(prefix):
                return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if envelope.rcpt_tos[0].startswith("coupe"):
            server.transport.close()   # the client never hears whether it was accepted
            return "250 jamais lu"
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            if self.data_delay:
                await asyncio.sleep(self.data_delay)
        finally:
            self.in_flight -= 1
        for rcpt in envelope.rcpt_tos:
            self.received.append((rcpt, envelope.original_content))
        return "250 2.0.0 Ok: queued as F00D"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def server():
    """Start aiosmtpd servers on free loopback ports; every one is stopped at the end."""
    started: list[Controller] = []

    def start(handler: Sink, **kwargs) -> int:
        port = free_port()
        controller = Controller(handler, hostname="127.0.0.1", port=port, **kwargs)
        controller.start()
        started.append(controller)
        return port

    yield start
    for controller in started:
        controller.stop()


def config(port: int, **kwargs) -> SmtpConfig:
    kwargs.setdefault("securite", "aucune")
    kwargs.setdefault("delai", 5.0)
    return SmtpConfig("127.0.0.1", port=port, **kwargs)


def envelope(recipient: str, message: bytes = BODY) -> Envelope:
    return Envelope(sender=SENDER, recipient=recipient, message=message, month=MONTH,
                    edition=COMPLETE, message_id=f"<{recipient}@example.org>")


def send_all(sender: SmtpSender, recipients: list[str]) -> list[DeliveryResult]:
    """Open, send every envelope with ``concurrency`` in flight, close; results in order."""
    async def run() -> list[DeliveryResult]:
        await sender.open()
        try:
            semaphore = asyncio.Semaphore(sender.concurrency)

            async def one(address: str) -> DeliveryResult:
                async with semaphore:
                    return await sender.send(envelope(address))

            return await asyncio.gather(*(one(a) for a in recipients))
        finally:
            await sender.close()
    return asyncio.run(run())


# -- what reaches the server -------------------------------------------------------------

def test_accepted_messages_arrive_byte_for_byte_once_per_recipient(server):
    """Each accepted message is SENT with the server's reply and arrives intact, once."""
    sink = Sink()
    port = server(sink)
    addresses = [f"personne{i}@example.org" for i in range(6)]
    results = send_all(SmtpSender(config(port, connexions=2)), addresses)
    assert [r.outcome for r in results] == [Outcome.SENT] * 6
    assert {(r.code, r.detail) for r in results} == {(250, "2.0.0 Ok: queued as F00D")}
    assert sink.per_recipient() == Counter(addresses)
    assert {data for _rcpt, data in sink.received} == {BODY}
    assert all("BODY=8BITMIME" in options for options in sink.mail_options)
    assert "café à Lévis" in BODY.decode("utf-8")


def test_wire_ready_message_goes_as_it_is_and_arrives_intact(server):
    """CRLF only, no line starting with ".": no rewriting (the fast path), bytes intact."""
    ready = BODY.replace(b"\r\n.une", b"\r\n=2Eune")
    assert normalize(ready) is ready and dot_stuff(ready) is ready   # after cheap checks
    wire = WireMessage(ready)                  # as message.py makes them: not even checked
    assert normalize(wire) is wire and dot_stuff(wire) is wire
    sink = Sink()
    port = server(sink)

    async def run() -> list[DeliveryResult]:
        sender = SmtpSender(config(port))
        await sender.open()
        try:
            return [await sender.send(envelope("rapide@example.org", ready)),
                    await sender.send(envelope("fil@example.org", wire))]
        finally:
            await sender.close()
    assert [r.outcome for r in asyncio.run(run())] == [Outcome.SENT] * 2
    assert sink.received == [("rapide@example.org", ready), ("fil@example.org", ready)]
    assert sink.mail_options[-1][0] == f"SIZE={len(ready)}"


def test_message_not_wire_ready_is_normalized_and_dot_stuffed_on_the_way(server):
    """Bare LF or CR, a dot at the very start or after a line end: fixed by the slow path."""
    odd = b".debut\nSubject: x\r\n\r\n.point\rsuite\n..deux\r\nfin"
    expected = b".debut\r\nSubject: x\r\n\r\n.point\r\nsuite\r\n..deux\r\nfin\r\n"
    assert normalize(odd) == expected
    assert dot_stuff(expected) == expected.replace(b"\n.", b"\n..").replace(b".", b"..", 1)
    sink = Sink()
    port = server(sink)

    async def run() -> DeliveryResult:
        sender = SmtpSender(config(port))
        await sender.open()
        try:
            return await sender.send(envelope("lent@example.org", odd))
        finally:
            await sender.close()
    assert asyncio.run(run()).outcome is Outcome.SENT
    assert sink.received == [("lent@example.org", expected)]   # dots un-stuffed by the server
    assert sink.mail_options[-1][0] == f"SIZE={len(expected)}"


def test_recipient_answered_451_is_deferred_with_its_code(server):
    """A 4xx to RCPT TO is a temporary failure: DEFERRED with code and text, others sent."""
    sink = Sink({"tard": "451 4.7.1 Essayez plus tard"})
    port = server(sink)
    results = send_all(SmtpSender(config(port, connexions=1)),
                       ["a@example.org", "tard@example.org", "b@example.org"])
    assert [r.outcome for r in results] == [Outcome.SENT, Outcome.DEFERRED, Outcome.SENT]
    assert (results[1].code, results[1].detail) == (451, "4.7.1 Essayez plus tard")
    assert sink.per_recipient() == Counter(["a@example.org", "b@example.org"])


def test_recipient_answered_550_is_failed_with_code_and_text(server):
    """A 5xx to RCPT TO is permanent: FAILED with the server's code and words."""
    sink = Sink({"inconnu": "550 5.1.1 Boîte inexistante"})
    port = server(sink)
    results = send_all(SmtpSender(config(port, connexions=1)),
                       ["inconnu@example.org", "a@example.org"])
    assert [r.outcome for r in results] == [Outcome.FAILED, Outcome.SENT]
    assert results[0].code == 550 and "Boîte inexistante" in results[0].detail


def test_connection_dropped_mid_data_is_deferred_and_the_next_messages_go_through(server):
    """A connection closed during DATA defers that message; the sender reconnects and goes on."""
    sink = Sink()
    port = server(sink)
    addresses = ["a@example.org", "coupe@example.org", "b@example.org", "c@example.org"]
    results = send_all(SmtpSender(config(port, connexions=1)), addresses)
    assert [r.outcome for r in results] == [Outcome.SENT, Outcome.DEFERRED, Outcome.SENT,
                                            Outcome.SENT]
    assert "connexion perdue" in results[1].detail and results[1].code is None
    assert sink.per_recipient() == Counter(["a@example.org", "b@example.org", "c@example.org"])
    assert sink.sessions == 2   # the first session died with the dropped message


def test_service_closing_421_is_deferred_and_the_connection_reopened(server):
    """A 421 (server closing the session) defers the message; the next one reconnects."""
    sink = Sink({"ferme": "421 4.3.2 Service fermé"})
    port = server(sink)
    results = send_all(SmtpSender(config(port, connexions=1)),
                       ["ferme@example.org", "a@example.org"])
    assert [(r.outcome, r.code) for r in results] == [(Outcome.DEFERRED, 421),
                                                      (Outcome.SENT, 250)]
    assert sink.per_recipient() == Counter(["a@example.org"])


def test_connection_closed_by_the_server_while_idle_is_reopened_without_deferring(server):
    """A session the server ended during a pause is reopened before sending: nothing deferred."""
    sink = Sink()
    port = server(sink, timeout=0.2)   # the server drops sessions idle for 0.2 s
    sender = SmtpSender(config(port, connexions=1))

    async def run() -> list[DeliveryResult]:
        await sender.open()
        try:
            first = await sender.send(envelope("a@example.org"))
            await asyncio.sleep(0.6)
            return [first, await sender.send(envelope("b@example.org"))]
        finally:
            await sender.close()

    assert [r.outcome for r in asyncio.run(run())] == [Outcome.SENT, Outcome.SENT]
    assert sink.sessions == 2


def test_four_connections_are_used_at_once(server):
    """With connexions = 4, four sessions are opened and four messages are in flight together."""
    sink = Sink(data_delay=0.05)
    port = server(sink)
    sender = SmtpSender(config(port, connexions=4))
    assert sender.concurrency == 4
    addresses = [f"p{i}@example.org" for i in range(16)]
    results = send_all(sender, addresses)
    assert all(r.outcome is Outcome.SENT for r in results)
    assert sink.sessions == 4
    assert sink.max_in_flight == 4
    assert sink.per_recipient() == Counter(addresses)


# -- rate limit ----------------------------------------------------------------------------

def test_messages_per_minute_spaces_the_messages_across_all_connections(server):
    """600 a minute means one every 0.1 s, whatever the number of connections: 20 take ~1.9 s."""
    sink = Sink()
    port = server(sink)
    sender = SmtpSender(config(port, connexions=4, messages_par_minute=600))
    start = time.monotonic()
    results = send_all(sender, [f"p{i}@example.org" for i in range(20)])
    elapsed = time.monotonic() - start
    assert all(r.outcome is Outcome.SENT for r in results)
    assert elapsed >= 1.7
    assert len(sink.received) == 20


def test_hourly_cap_holds_the_next_message_until_the_oldest_is_an_hour_old():
    """With messages_par_heure = 3, the 4th message waits until the 1st is an hour old."""
    clock = [1000.0]
    waits: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        waits.append(seconds)
        clock[0] += seconds

    limiter = RateLimiter(per_minute=60, per_hour=3, clock=lambda: clock[0], sleep=fake_sleep)

    async def run() -> list[float]:
        times = []
        for _n in range(5):
            await limiter.acquire()
            times.append(clock[0])
        return times

    times = asyncio.run(run())
    assert times[:3] == [1000.0, 1001.0, 1002.0]       # one a second (60 a minute)
    assert times[3] == 4600.0 and times[4] == 4601.0   # then the sliding hour
    assert RateLimiter().active is False


# -- the run stops only when nothing can be sent --------------------------------------------

def test_closed_port_stops_at_open_with_a_french_error():
    """A refused connection raises DeliveryError at open(), saying where and what to check."""
    port = free_port()   # nothing listens there
    sender = SmtpSender(config(port))
    with pytest.raises(DeliveryError) as caught:
        asyncio.run(sender.open())
    text = str(caught.value)
    assert "impossible de joindre le serveur SMTP" in text and f"127.0.0.1:{port}" in text
    assert "connexion refusée" in text and "[smtp] hote" in text


def test_refused_password_stops_at_open_and_names_the_variable(server):
    """A 535 to AUTH raises DeliveryError naming [smtp] utilisateur and the password variable."""
    def authenticator(server, session, envelope, mechanism, auth_data):
        return AuthResult(success=False, handled=False)

    port = server(Sink(), authenticator=authenticator, auth_require_tls=False)
    sender = SmtpSender(config(port, utilisateur="infolettre", mot_de_passe="mauvais"))
    with pytest.raises(DeliveryError) as caught:
        asyncio.run(sender.open())
    text = str(caught.value)
    assert "refuse l'identification" in text and "535" in text and ENV_PASSWORD in text


@pytest.fixture(scope="module")
def self_signed(tmp_path_factory):
    """A throwaway self-signed certificate for 127.0.0.1 (no CA trusts it)."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl est absent")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1", "-subj",
                    "/CN=127.0.0.1", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return context


@pytest.mark.parametrize("securite", ["tls", "starttls"])
def test_certificate_that_does_not_verify_stops_at_open(server, self_signed, securite):
    """An untrusted certificate (implicit TLS or STARTTLS) raises DeliveryError, nothing sent."""
    sink = Sink()
    if securite == "tls":
        port = server(sink, ssl_context=self_signed)
    else:
        port = server(sink, tls_context=self_signed)
    sender = SmtpSender(config(port, securite=securite))
    with pytest.raises(DeliveryError, match="certificat TLS") as caught:
        asyncio.run(sender.open())
    assert "[smtp] hote" in str(caught.value)
    assert sink.received == []


def test_starttls_required_but_not_offered_stops_at_open(server):
    """securite = starttls with a server that offers no STARTTLS never sends in clear."""
    port = server(Sink())
    with pytest.raises(DeliveryError, match=r"\[smtp\] securite"):
        asyncio.run(SmtpSender(config(port, securite="starttls")).open())


def test_sender_address_refused_for_good_stops_the_run(server):
    """A 5xx to MAIL FROM would fail every message: DeliveryError naming [infolettre] expediteur."""
    port = server(Sink(mail_reply="550 5.7.1 Expéditeur non autorisé"))
    with pytest.raises(DeliveryError) as caught:
        send_all(SmtpSender(config(port, connexions=1)), ["a@example.org"])
    assert "refuse l'expéditeur" in str(caught.value)
    assert "[infolettre] expediteur" in str(caught.value)


def test_server_gone_in_the_middle_defers_a_few_then_stops():
    """If the server disappears mid-run, a few messages are DEFERRED, then DeliveryError."""
    sink = Sink()
    port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    running = [True]
    sender = SmtpSender(config(port, connexions=2))
    results: list[DeliveryResult] = []

    async def run() -> None:
        await sender.open()
        try:
            results.append(await sender.send(envelope("a@example.org")))
            controller.stop()
            running[0] = False
            for i in range(20):
                results.append(await sender.send(envelope(f"p{i}@example.org")))
        finally:
            await sender.close()

    try:
        with pytest.raises(DeliveryError, match="ne répond plus"):
            asyncio.run(run())
    finally:
        if running[0]:
            controller.stop()
    assert results[0].outcome is Outcome.SENT
    assert 1 <= len(results) - 1 <= 5
    assert all(r.outcome is Outcome.DEFERRED for r in results[1:])


# -- end to end through deliver_issue_async ------------------------------------------------

def rendered_issue() -> RenderedIssue:
    """A tiny issue with the complete edition and two territorial ones."""
    placeholders = Placeholders()
    t = placeholders.token
    slugs = (COMPLETE, "bellechasse", "les-etchemins")
    editions = tuple(RenderedEdition(
        slug=s, titre=s, subject=f"Le Fil régional — décembre 2026 ({s})",
        text=f"{t('salutation')}\nÉdition : {s}\nDésabonnement : {t('desabonnement')}\n",
        html=f"<p>{t('salutation')}</p><p>Édition : {s}</p>"
             f"<a href=\"{t('desabonnement')}\">Se désabonner</a>\n") for s in slugs)
    issue = Issue(month=MONTH, parution=date(2026, 12, 3), items=(),
                  editions=tuple(Edition(slug=s, titre=s, sections=()) for s in slugs))
    return RenderedIssue(issue=issue, print_html="", editions=editions,
                         placeholders=placeholders)


def test_deliver_issue_over_smtp_counts_sent_deferred_and_paper_only(server):
    """deliver_issue_async over SMTP: each email recipient once, a 451 deferred, accents kept."""
    settings = load_settings(DATA / "infolettre.toml")
    recipients, problems = load_recipients(DATA / "outbox_list.csv", settings)
    assert problems == []
    sink = Sink({"sylvie": "451 4.2.1 Boîte pleine, réessayez"})
    port = server(sink)
    report = asyncio.run(deliver_issue_async(rendered_issue(), recipients,
                                             SmtpSender(config(port)), settings))
    assert (report.sent, report.deferred, report.failed, report.paper_only) == (4, 1, 0, 1)
    assert report.problems[0].envelope.recipient == "sylvie.nadeau@example.org"
    assert report.problems[0].code == 451
    assert sink.per_recipient() == Counter([
        "genevieve.bedard@example.org", "marc-andre.cote@example.org",
        "louise.gagnon@example.org", "direction@alliance.example.org"])
    data = dict(sink.received)["genevieve.bedard@example.org"]
    msg = email.message_from_bytes(data, policy=email.policy.default)
    assert msg["To"].addresses[0].display_name == "Geneviève Bédard"
    assert "Édition : bellechasse" in msg.get_body(("plain",)).get_content()


# -- configuration -----------------------------------------------------------------------

def test_smtp_table_is_read_with_defaults_and_the_password_from_the_environment():
    """A minimal [smtp] table gets the defaults; the password comes from the environment."""
    cfg = SmtpConfig.from_table({"hote": "smtp.example.org", "utilisateur": "bulletin"},
                                {ENV_PASSWORD: "secret"})
    assert cfg == SmtpConfig("smtp.example.org", 587, "starttls", "bulletin", "secret", 4,
                             0, 0, 30.0)
    assert "secret" not in repr(cfg)
    tls = SmtpConfig.from_table({"hote": "smtp.example.org", "securite": "tls",
                                 "connexions": 2, "messages_par_minute": 120,
                                 "messages_par_heure": 1000, "delai": 10}, {})
    assert (tls.port, tls.connexions, tls.messages_par_minute, tls.messages_par_heure,
            tls.delai, tls.mot_de_passe) == (465, 2, 120, 1000, 10.0, None)
    assert SmtpSender(tls).concurrency == 2


@pytest.mark.parametrize(("table", "expected"), [
    ({}, "smtp.hote"),
    ({"hote": "smtp.example.org", "hôte": "x"}, "clé inconnue « hôte »"),
    ({"hote": "smtp.example.org", "mot_de_passe": "x"}, ENV_PASSWORD),
    ({"hote": "smtp.example.org", "securite": "ssl"}, "starttls | tls | aucune"),
    ({"hote": "smtp.example.org", "port": "587"}, "smtp.port"),
    ({"hote": "smtp.example.org", "port": 70000}, "entre 1 et 65535"),
    ({"hote": "smtp.example.org", "connexions": 0}, "smtp.connexions"),
    ({"hote": "smtp.example.org", "connexions": True}, "smtp.connexions"),
    ({"hote": "smtp.example.org", "messages_par_minute": -1}, "0 = aucune limite"),
    ({"hote": "smtp.example.org", "messages_par_heure": 1.5}, "smtp.messages_par_heure"),
    ({"hote": "smtp.example.org", "delai": 0}, "smtp.delai"),
    ({"hote": "smtp.example.org", "utilisateur": ""}, "smtp.utilisateur"),
    ({"hote": "smtp.example.org", "utilisateur": "bulletin"}, ENV_PASSWORD),
    ({"hote": "smtp.example.org", "utilisateur": "bulletin\r\nRSET"}, "smtp.utilisateur"),
    ({"hote": "smtp.example.org", "securite": "aucune", "utilisateur": "bulletin"},
     "mot_de_passe_en_clair = true"),
    ({"hote": "smtp.example.org", "mot_de_passe_en_clair": "oui"},
     "smtp.mot_de_passe_en_clair"),
])
def test_bad_smtp_table_names_the_key_and_what_is_expected(table, expected):
    """Every bad [smtp] value raises ConfigError, in French, naming the key and the fix."""
    with pytest.raises(ConfigError) as caught:
        SmtpConfig.from_table(table, {}, where="infolettre.toml")
    text = str(caught.value)
    assert expected in text
    assert text.startswith("infolettre.toml : ")
    assert caught.value.fix


def test_password_in_clear_only_to_this_machine_or_with_the_explicit_opt_in():
    """securite = "aucune" with a user is accepted for a loopback server, or with
    mot_de_passe_en_clair = true; anywhere else it is refused (see the parametrized test)."""
    env = {ENV_PASSWORD: "secret"}
    for host in ("127.0.0.1", "localhost", "::1", "[::1]", "127.0.0.53"):
        cfg = SmtpConfig.from_table({"hote": host, "securite": "aucune",
                                     "utilisateur": "bulletin"}, env)
        assert cfg.mot_de_passe == "secret" and not cfg.mot_de_passe_en_clair
    cfg = SmtpConfig.from_table({"hote": "relais.example.org", "securite": "aucune",
                                 "utilisateur": "bulletin", "mot_de_passe_en_clair": True}, env)
    assert cfg.mot_de_passe_en_clair
    for host in ("smtp.example.org", "10.0.0.5", "127.example.org"):
        with pytest.raises(ConfigError, match="en clair"):
            SmtpConfig.from_table({"hote": host, "securite": "aucune",
                                   "utilisateur": "bulletin"}, env)


# -- PIPELINING (RFC 2920): MAIL, RCPT, DATA in one write, same outcomes -------------------

class PipeliningSink(Sink):
    """The same sink, advertising PIPELINING (aiosmtpd reads pipelined commands in order)."""

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        responses = await super().handle_EHLO(server, session, envelope, hostname, responses)
        return [*responses[:-1], "250-PIPELINING", responses[-1]]


def pipelined_sender(port: int, **kwargs) -> SmtpSender:
    return SmtpSender(config(port, **kwargs))


def test_pipelined_outcomes_match_lock_step(server):
    """Accepted, 451 and 550 to RCPT, dropped during DATA: same results, bytes intact,
    and the commands really went in one write (the server saw PIPELINING)."""
    sink = PipeliningSink({"tard": "451 4.7.1 Essayez plus tard",
                           "inconnu": "550 5.1.1 Boîte inexistante"})
    port = server(sink)
    addresses = ["a@example.org", "tard@example.org", "inconnu@example.org",
                 "coupe@example.org", "b@example.org"]
    sender = pipelined_sender(port, connexions=1)
    seen: list[bool] = []

    async def run() -> list[DeliveryResult]:
        await sender.open()
        try:
            assert sender._slots[0].client.supports_extension("pipelining")
            out = []
            hooked: list[str] = []
            for address in addresses:
                out.append(await sender.send(envelope(address),
                                             before_content=lambda a=address: hooked.append(a)))
                seen.append(address in hooked)
            return out
        finally:
            await sender.close()
    results = asyncio.run(run())
    assert [r.outcome for r in results] == [Outcome.SENT, Outcome.DEFERRED, Outcome.FAILED,
                                            Outcome.DEFERRED, Outcome.SENT]
    assert seen == [True, False, False, True, True]    # the hook only after a 354
    assert (results[1].code, results[1].detail) == (451, "4.7.1 Essayez plus tard")
    assert (results[2].code, results[2].detail) == (550, "5.1.1 Boîte inexistante")
    assert sink.per_recipient() == Counter(["a@example.org", "b@example.org"])
    assert {data for _rcpt, data in sink.received} == {BODY}


def test_pipelined_sender_refused_for_good_stops_the_run(server):
    """A 5xx to a pipelined MAIL FROM is still a DeliveryError naming the sender."""
    port = server(PipeliningSink(mail_reply="550 5.7.1 Expéditeur non autorisé"))
    with pytest.raises(DeliveryError, match="refuse l'expéditeur"):
        send_all(pipelined_sender(port, connexions=1), ["a@example.org"])


def test_pipelined_421_is_deferred_with_its_code_and_the_connection_reopened(server):
    """A 421 among the pipelined replies defers the message with 421; the next reconnects."""
    sink = PipeliningSink({"ferme": "421 4.3.2 Service fermé"})
    port = server(sink)
    results = send_all(pipelined_sender(port, connexions=1),
                       ["ferme@example.org", "a@example.org"])
    assert [(r.outcome, r.code) for r in results] == [(Outcome.DEFERRED, 421),
                                                      (Outcome.SENT, 250)]
    assert sink.per_recipient() == Counter(["a@example.org"])
    assert sink.sessions == 2


def test_pipelined_hook_failure_sends_no_content(server):
    """If before_content raises after the pipelined 354, nothing is delivered and it raises."""
    sink = PipeliningSink()
    port = server(sink)
    sender = pipelined_sender(port, connexions=1)

    def failing() -> None:
        raise RuntimeError("registre indisponible")

    async def run() -> DeliveryResult:
        await sender.open()
        try:
            with pytest.raises(RuntimeError, match="registre"):
                await sender.send(envelope("a@example.org"), before_content=failing)
            return await sender.send(envelope("b@example.org"))
        finally:
            await sender.close()
    assert asyncio.run(run()).outcome is Outcome.SENT
    assert sink.per_recipient() == Counter(["b@example.org"])


def test_a_misspelt_smtp_key_gets_a_suggestion():
    """[smtp] is checked like every table: an unknown key names the closest allowed one."""
    with pytest.raises(ConfigError) as caught:
        SmtpConfig.from_table({"hote": "smtp.example.org", "conexions": 2}, {})
    assert "conexions" in caught.value.message and "« connexions »" in caught.value.fix


def test_a_pipelined_reply_that_never_comes_times_out_and_one_that_comes_is_read():
    """The reply reader's own timer: silence raises aiosmtplib's read timeout (the send
    then retries later); a reply arriving in time is returned, and its timer is gone."""
    import aiosmtplib

    from infolettre.deliver.transaction import _Replies

    async def run() -> tuple[BaseException | None, str, int]:
        replies = _Replies(owner=None)
        silence: BaseException | None = None
        try:
            await replies.read(0.05)
        except aiosmtplib.SMTPReadTimeoutError as exc:
            silence = exc
        loop = asyncio.get_running_loop()
        loop.call_later(0.01, replies.data_received, b"250-first\r\n250 2.0.0 ok\r\n")
        reply = await replies.read(5)
        live = sum(not t.cancelled() for t in loop._scheduled)  # noqa: SLF001 - timers left
        return silence, reply.message, live

    silence, message, timers = asyncio.run(run())
    assert isinstance(silence, aiosmtplib.SMTPReadTimeoutError)
    assert message == "first\n2.0.0 ok"
    assert timers == 0
