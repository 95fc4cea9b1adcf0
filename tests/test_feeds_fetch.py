"""The fetch stage against a real HTTP server on loopback (``tests/feedserver.py``).

Small timeouts keep the file quick; every behaviour is observed on the wire (what the
server received, how many requests it had in flight) or in the ``Fetched`` values.
"""

from __future__ import annotations

import asyncio
import shutil
import socket
import ssl
import subprocess
import time
import tracemalloc

import httpx
import pytest

from infolettre.gather.feeds import errors, fetch
from infolettre.gather.feeds.fetch import fetch_all, fetch_many
from infolettre.gather.feeds.model import (
    FEED_ACCEPT,
    IMAGE_ACCEPT,
    FetchPolicy,
    FetchRequest,
    Validators,
)

from . import feedserver
from .feedserver import (
    HTTP_DATE,
    FeedServer,
    Response,
    drip,
    drop,
    feed,
    gzip_bomb,
    gzipped,
    html_page,
    huge,
    redirect,
    rss,
    slow,
    status,
)

feed_server = feedserver.feed_server  # the fixture: a FeedServer on 127.0.0.1 and .2

UA = "infolettre-tests/1.0 (+https://example.org)"
FAST = FetchPolicy(user_agent=UA, connect_timeout=2.0, read_timeout=0.5, total_timeout=2.0,
                   max_bytes=1024 * 1024, max_redirects=3)


def one(url: str, policy: FetchPolicy = FAST, **kw):
    (result,) = fetch_many([FetchRequest(url, **kw)], policy)
    return result


# --- success, validators, encodings ----------------------------------------------------

def test_ok_body_headers_validators_and_request_headers(feed_server):
    body = rss()
    url = feed_server.route("/flux.xml", feed(body, etag='"abc"'))
    result = one(url, accept=IMAGE_ACCEPT)
    assert result.status == "ok" and result.ok
    assert result.http_status == 200
    assert result.body == body
    assert result.final_url == url
    assert result.headers["content-type"].startswith("application/rss+xml")
    assert "content-length" not in result.headers
    assert result.validators == Validators(etag='"abc"', last_modified=HTTP_DATE)
    assert result.error == "" and 0 <= result.elapsed < 1
    (seen,) = feed_server.requests_to("/flux.xml")
    assert seen.headers["user-agent"] == UA
    assert seen.headers["accept"] == IMAGE_ACCEPT
    assert "gzip" in seen.headers["accept-encoding"]
    assert "if-none-match" not in seen.headers


def test_conditional_get_gives_not_modified(feed_server):
    url = feed_server.route("/flux.xml", feed(etag='"v7"'))
    stored = Validators(etag='"v7"', last_modified=HTTP_DATE)
    result = one(url, validators=stored)
    assert result.status == "not_modified" and not result.ok
    assert result.http_status == 304 and result.body == b""
    assert result.validators == stored
    (seen,) = feed_server.requests_to("/flux.xml")
    assert seen.headers["if-none-match"] == '"v7"'
    assert seen.headers["if-modified-since"] == HTTP_DATE
    assert seen.headers["accept"] == FEED_ACCEPT


def test_stale_validators_get_the_new_body_and_new_validators(feed_server):
    url = feed_server.route("/flux.xml", feed(etag='"v8"', last_modified=None))
    result = one(url, validators=Validators(etag='"v7"'))
    assert result.status == "ok" and result.body
    assert result.validators == Validators(etag='"v8"')


def test_304_carrying_new_validators_updates_them(feed_server):
    url = feed_server.route("/f", Response(304, headers={"ETag": '"v9"'}))
    result = one(url, validators=Validators(etag='"v8"', last_modified=HTTP_DATE))
    assert result.status == "not_modified"
    assert result.validators == Validators(etag='"v9"', last_modified=HTTP_DATE)


def test_gzip_body_is_decoded_and_encoding_headers_dropped(feed_server):
    body = rss()
    url = feed_server.route("/gz", gzipped(body))
    result = one(url)
    assert result.status == "ok"
    assert result.body == body
    assert "content-encoding" not in result.headers
    assert "content-length" not in result.headers


def test_raw_deflate_body_is_decoded(feed_server):
    import zlib

    body = rss(3)
    squeezer = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)  # no zlib header
    raw = squeezer.compress(body) + squeezer.flush()
    url = feed_server.route("/deflate", Response(200, raw, {"Content-Encoding": "deflate"}))
    assert one(url).body == body


@pytest.mark.parametrize("encoding", ["br", "gzip, gzip", "zstd"])
def test_encodings_we_did_not_ask_for_are_refused(feed_server, encoding):
    """Never decoded without our bound (httpx would inflate br or chains on its own)."""
    url = feed_server.route("/br", Response(200, b"\x1b\xff" * 100,
                                             {"Content-Encoding": encoding}))
    answer = one(url)
    assert answer.body is None or answer.body == b""
    assert not answer.ok and "non demandé" in answer.error and "gzip et deflate" in answer.error


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_public_only_refuses_the_local_network(feed_server, host):
    """An image URL from a feed must not reach our own machines (by address or by name)."""
    url = feed_server.route("/img.png", Response(200, b"x", {"Content-Type": "image/png"}))
    url = url.replace("127.0.0.1", host)
    answer = one(url, public_only=True)
    assert not answer.ok and "réseau local refusée" in answer.error
    assert not feed_server.requests_to("/img.png")
    assert one(url).ok  # the same URL chosen by the pivot (a feed on the intranet) is fine


def test_public_only_refuses_a_redirect_to_the_local_network(feed_server, monkeypatch):
    """Each hop is checked: a « public » site (127.0.0.2 plays it here) redirecting to our
    own network is refused before the second request is sent."""
    real = fetch.ensure_public

    async def second_host_is_public(url):
        if url.host != "127.0.0.2":
            await real(url)

    monkeypatch.setattr(fetch, "ensure_public", second_host_is_public)
    target = feed_server.route("/interne.png", Response(200, b"x"))
    feed_server.route("/public", redirect(target))
    answer = one(feed_server.url("/public", "127.0.0.2"), public_only=True)
    assert not answer.ok and "réseau local refusée (127.0.0.1)" in answer.error
    assert len(feed_server.requests_to("/public")) == 1
    assert not feed_server.requests_to("/interne.png")


@pytest.mark.parametrize(("host", "public"), [
    ("93.184.215.14", True), ("10.1.2.3", False), ("192.168.0.10", False),
    ("169.254.169.254", False), ("[::1]", False), ("[fd00::1]", False), ("0.0.0.0", False)])
def test_which_addresses_are_public(host, public):
    check = fetch.ensure_public(httpx.URL(f"http://{host}/x.png"))
    if public:
        asyncio.run(check)
    else:
        with pytest.raises(fetch.FetchError):
            asyncio.run(check)


def test_corrupt_gzip_is_an_error(feed_server):
    url = feed_server.route("/bad", Response(200, b"\x1f\x8b\x08\x00garbage" * 10,
                                             {"Content-Encoding": "gzip"}))
    result = one(url)
    assert result.status == "error" and "illisible" in result.error


def test_html_page_is_fetched_fine(feed_server):
    url = feed_server.route("/accueil", html_page())
    result = one(url)
    assert result.status == "ok"
    assert result.headers["content-type"].startswith("text/html")
    assert result.body.startswith(b"<!doctype html>")


# --- time limits -----------------------------------------------------------------------

def test_slow_answer_hits_the_read_timeout(feed_server):
    url = feed_server.route("/lent", slow(3))
    started = time.monotonic()
    result = one(url)
    assert time.monotonic() - started < 1.5
    assert result.status == "error"
    assert "cessé de répondre" in result.error and "0,5 s" in result.error
    assert 0.4 < result.elapsed < 1.5


def test_drip_ends_at_the_total_timeout(feed_server):
    url = feed_server.route("/goutte", drip(size=100, interval=0.2))  # each byte < read limit
    policy = FetchPolicy(user_agent=UA, read_timeout=1.0, total_timeout=1.0)
    started = time.monotonic()
    result = one(url, policy)
    took = time.monotonic() - started
    assert result.status == "error"
    assert result.error == "le serveur n'a pas fini de répondre en 1 s"
    assert 0.9 < took < 1.6
    assert 0.9 < result.elapsed < 1.6


def test_waiting_for_a_slot_does_not_count_toward_the_total_timeout(feed_server):
    url = feed_server.route("/f", feed(delay=0.35))
    policy = FetchPolicy(user_agent=UA, per_host=1, read_timeout=2.0, total_timeout=0.7)
    results = fetch_many([FetchRequest(url + "?" + str(n)) for n in range(3)], policy)
    assert [r.status for r in results] == ["ok"] * 3  # the last waited ~0.7 s for its slot
    assert all(r.elapsed < 0.7 for r in results)
    assert feed_server.host_max[feed_server.requests_to("/f")[0].host] == 1


# --- HTTP errors -----------------------------------------------------------------------

@pytest.mark.parametrize(("code", "expected"), [
    (500, "le serveur a répondu 500 (Internal Server Error) : erreur du côté du site"),
    (404, ("le serveur a répondu 404 (Not Found) : adresse introuvable : le flux a "
           "peut-être déménagé")),
    (403, "le serveur a répondu 403 (Forbidden) : accès refusé"),
    (410, "le serveur a répondu 410 (Gone) : flux supprimé"),
    (503, ("le serveur a répondu 503 (Service Unavailable) : serveur surchargé, nouvel "
           "essai au prochain passage")),
])
def test_http_error_statuses_are_explained(feed_server, code, expected):
    url = feed_server.route("/e", status(code))
    result = one(url)
    assert result.status == "error" and result.http_status == code
    assert result.error.startswith(expected)
    assert result.body == b""


# --- redirects -------------------------------------------------------------------------

def test_redirect_loop_is_capped(feed_server):
    url = feed_server.route("/boucle", redirect("/boucle"))
    result = one(url)
    assert result.status == "error"
    assert "trop de redirections" in result.error and "boucle" in result.error
    assert len(feed_server.requests_to("/boucle")) == FAST.max_redirects + 1


def test_redirect_chain_ends_ok_with_final_url(feed_server):
    final = feed_server.url("/vrai.xml", host="127.0.0.2")
    feed_server.route("/vrai.xml", feed(etag='"z"'))
    feed_server.route("/b", redirect(final, 301))
    url = feed_server.route("/a", redirect("b", 302))  # relative Location
    result = one(url)
    assert result.status == "ok", result.error
    assert result.url == url and result.final_url == final
    assert result.validators.etag == '"z"'
    assert [r.path for r in feed_server.log] == ["/a", "/b", "/vrai.xml"]
    assert feed_server.log[-1].host.startswith("127.0.0.2:")


def test_redirect_to_another_scheme_is_refused(feed_server):
    url = feed_server.route("/r", redirect("file:///etc/passwd"))
    result = one(url)
    assert result.status == "error" and "non prise en charge" in result.error
    assert result.http_status == 302


def test_redirect_without_location_is_an_error(feed_server):
    url = feed_server.route("/r", Response(302))
    result = one(url)
    assert result.status == "error" and "sans adresse" in result.error


# --- size limits -----------------------------------------------------------------------

def _traced(call):
    tracemalloc.start()
    try:
        return call(), tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_huge_body_is_an_error_and_reading_stops(feed_server):
    url = feed_server.route("/gros", huge(20 * 1024 * 1024))  # no Content-Length
    result, peak = _traced(lambda: one(url))
    assert result.status == "error"
    assert result.error == "réponse de plus de 1 Mo : ce n'est sans doute pas un flux"
    assert result.body == b""
    assert peak < 8 * 1024 * 1024
    (seen,) = feed_server.requests_to("/gros")
    time.sleep(0.1)
    assert seen.sent < 12 * 1024 * 1024  # the server could not push all 20 MB


def test_announced_huge_body_is_refused_before_reading(feed_server):
    url = feed_server.route("/gros", huge(20 * 1024 * 1024, announce=True))
    result = one(url)
    assert result.status == "error" and "plus de 1 Mo" in result.error


def test_body_exactly_at_the_limit_is_fine_and_request_limit_wins(feed_server):
    url = feed_server.route("/pile", Response(200, b"a" * 1000, length=False))
    assert one(url, max_bytes=1000).body == b"a" * 1000
    assert "plus de 999 octets" in one(url, max_bytes=999).error


def test_gzip_bomb_is_stopped_without_inflating_it(feed_server):
    url = feed_server.route("/bombe", gzip_bomb(64 * 1024 * 1024))
    result, peak = _traced(lambda: one(url))
    assert result.status == "error" and "plus de 1 Mo" in result.error
    assert peak < 8 * 1024 * 1024  # inflating one 64 KB network read would take ~64 MB


# --- network failures ------------------------------------------------------------------

def test_connection_closed_without_answer(feed_server):
    url = feed_server.route("/coupe", drop())
    result = one(url)
    assert result.status == "error" and result.http_status is None
    assert "coupé la connexion" in result.error


def test_unreachable_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nobody listens there
    result = one(f"http://127.0.0.1:{port}/flux")
    assert result.status == "error" and "serveur injoignable" in result.error


@pytest.mark.parametrize("url", ["ftp://example.org/flux", "file:///etc/passwd",
                                 "javascript:alert(1)", "pas une adresse", "http://"])
def test_unusable_addresses(url):
    result = one(url)
    assert result.status == "error"
    assert result.error.startswith(("adresse invalide", "adresse non prise en charge"))
    assert result.http_status is None


def test_plain_http_on_https_is_a_tls_error(feed_server):
    feed_server.route("/f", feed())
    url = feed_server.url("/f").replace("http://", "https://")
    result = one(url)
    assert result.status == "error" and "connexion sécurisée" in result.error


@pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl absent")
def test_self_signed_certificate_is_refused(tmp_path):
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=127.0.0.1", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    with FeedServer(tls=context) as server:
        url = server.route("/f", feed())
        result = one(url)
    assert url.startswith("https://")
    assert result.status == "error"
    assert result.error.startswith("certificat du site invalide ou expiré")


def test_describe_connect_timeout_and_unknown_name():
    assert "pas de connexion après 2 s" in errors.describe(httpx.ConnectTimeout("x"), FAST)
    dns = httpx.ConnectError("[Errno -2] Name or service not known")
    dns.__cause__ = socket.gaierror(-2, "Name or service not known")
    assert "nom de site introuvable" in errors.describe(dns, FAST)
    assert "erreur inattendue (KeyError)" in errors.describe(KeyError("k"), FAST)


# --- concurrency, order, isolation -----------------------------------------------------

def test_per_host_cap_and_global_cap(feed_server):
    feed_server.route("/lent", feed(delay=0.3))
    urls = [feed_server.url(f"/lent?{n}", host) for host in feed_server.hosts
            for n in range(6)]
    policy = FetchPolicy(user_agent=UA, per_host=2, max_concurrent=3, read_timeout=5)
    results = fetch_many([FetchRequest(u) for u in urls], policy)
    assert all(r.ok for r in results)
    assert feed_server.max_in_flight == 3
    assert max(feed_server.host_max.values()) == 2


def test_per_host_cap_allows_two_hosts_side_by_side(feed_server):
    feed_server.route("/lent", feed(delay=0.3))
    urls = [feed_server.url(f"/lent?{n}", host) for n in range(4)
            for host in feed_server.hosts]
    policy = FetchPolicy(user_agent=UA, per_host=2, max_concurrent=20, read_timeout=5)
    started = time.monotonic()
    results = fetch_many([FetchRequest(u) for u in urls], policy)
    assert all(r.ok for r in results)
    assert feed_server.max_in_flight == 4
    assert sorted(feed_server.host_max.values()) == [2, 2]
    assert time.monotonic() - started < 1.2  # 2 rounds of 0.3 s, not 8


def test_per_host_cap_holds_across_redirects(feed_server):
    target = feed_server.url("/lent", host="127.0.0.2")
    feed_server.route("/lent", feed(delay=0.3))
    feed_server.route("/vers-2", redirect(target))
    urls = [target + f"?direct{n}" for n in range(2)]
    urls += [feed_server.url(f"/vers-2?{n}") for n in range(2)]
    policy = FetchPolicy(user_agent=UA, per_host=2, read_timeout=5)
    results = fetch_many([FetchRequest(u) for u in urls], policy)
    assert all(r.ok for r in results)
    assert feed_server.host_max[feed_server.log[-1].host] == 2  # 127.0.0.2 never saw 4


def test_results_keep_request_order_and_on_result_sees_each(feed_server):
    feed_server.route("/lent", feed(delay=0.3, etag='"l"'))
    feed_server.route("/vite", feed(etag='"v"'))
    feed_server.route("/panne", status(500))
    urls = [feed_server.url("/lent"), feed_server.url("/panne"),
            feed_server.url("/vite", "127.0.0.2")]
    seen: list[str] = []
    results = fetch_many([FetchRequest(u) for u in urls], FAST,
                         on_result=lambda r: seen.append(r.url))
    assert [r.url for r in results] == urls
    assert [r.status for r in results] == ["ok", "error", "ok"]
    assert results[0].validators.etag == '"l"' and results[2].validators.etag == '"v"'
    assert sorted(seen) == sorted(urls) and seen[-1] == urls[0]  # the slow one finished last


def test_an_unexpected_exception_stays_with_its_request(feed_server, monkeypatch):
    feed_server.route("/f", feed())
    good, bad = feed_server.url("/f"), feed_server.url("/f?piege")
    original = fetch.request_headers

    def trap(request):
        if request.url == bad:
            raise RuntimeError("boum")
        return original(request)

    monkeypatch.setattr(fetch, "request_headers", trap)
    results = fetch_many([FetchRequest(u) for u in (good, bad, good, "ftp://x/")], FAST)
    assert [r.status for r in results] == ["ok", "error", "ok", "error"]
    assert results[1].error == "erreur inattendue (RuntimeError) : boum"


def test_empty_list_and_async_entry_point(feed_server):
    assert fetch_many([], FAST) == []
    url = feed_server.route("/f", feed())
    (result,) = asyncio.run(fetch_all([FetchRequest(url)], FAST))
    assert result.ok


def test_on_result_failure_propagates_and_cancels_the_rest(feed_server):
    feed_server.route("/lent", feed(delay=1.5))
    feed_server.route("/vite", feed())

    def explode(result):
        raise ValueError("rappel en panne")

    started = time.monotonic()
    with pytest.raises(ValueError, match="rappel en panne"):
        fetch_many([FetchRequest(feed_server.url("/lent")),
                    FetchRequest(feed_server.url("/vite"))],
                   FetchPolicy(user_agent=UA, read_timeout=5), on_result=explode)
    assert time.monotonic() - started < 1.0
