"""A real HTTP server on loopback with scripted routes, for the feed tests and the bench.

``FeedServer`` listens on one or more loopback addresses (on Linux the whole 127.0.0.0/8 is
loopback, so ``127.0.0.2``… are distinct « sites » for per-host limits), each on its own
port chosen by the system, all sharing one set of routes, one request log and concurrency
counters (overall and per ``Host`` header, with the maximum reached). Routes map a path
(query string ignored) to a ``Response`` or to a function of the ``Request`` returning one;
the helpers below script the behaviours the fetch stage must survive (304, gzip, slow,
dripping, errors, redirects, huge bodies, gzip bombs, HTML, dropped connections).

Plain stdlib (``http.server``), usable without pytest (the bench runs it in a child
process: ``python -m tests.feedserver --feeds 200 --delay 0.2``). The ``feed_server``
pytest fixture is defined at the end: import it in a test module.
"""

from __future__ import annotations

import argparse
import email.utils
import gzip
import hashlib
import io
import json
import math
import selectors
import ssl
import sys
import threading
import time
import zlib
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Self

try:
    import pytest
except ImportError:  # the bench's child process may run without pytest
    pytest = None


@dataclass
class Request:
    """One request as the server saw it (the log's entries)."""

    path: str  # without the query string
    target: str  # as sent (path and query)
    headers: dict[str, str]  # lower-case names
    host: str  # the Host header
    time: float  # time.monotonic() on arrival
    address: str  # the server address it came in on
    sent: int = 0  # body bytes written back (for « the client stopped reading »)


@dataclass
class Response:
    """What to answer: status, headers, body (bytes, or chunks from a factory), delays.

    ``length``: for a bytes body, ``Content-Length`` is set unless ``length=False``; for
    ``chunks``, give the length to announce, or None to send without one and close the
    connection at the end. ``drop`` closes the connection without answering.
    """

    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # s before the status line
    chunks: Callable[[], Iterable[bytes]] | None = None
    chunk_delay: float = 0.0  # s between chunks
    length: int | bool | None = True
    drop: bool = False


Handler = Callable[[Request], Response]
Route = Response | Handler


class _Http(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 1024  # the bench opens hundreds of connections at once
    allow_reuse_address = True
    owner: FeedServer

    def handle_error(self, request: object, client_address: object) -> None:
        if not isinstance(sys.exc_info()[1], OSError):  # a client hanging up is normal here
            super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as real servers do
    timeout = 15  # an idle kept-alive connection ends after this
    server: _Http

    def do_GET(self) -> None:
        self.server.owner._serve(self)

    def log_message(self, format: str, *args: object) -> None:
        pass


class FeedServer:
    """Scripted HTTP server on loopback; see the module docstring."""

    def __init__(self, host: str = "127.0.0.1", *, hosts: Sequence[str] = (),
                 tls: ssl.SSLContext | None = None) -> None:
        self.hosts = list(hosts) or [host]
        self.scheme = "https" if tls else "http"
        self.routes: dict[str, Route] = {}
        self.log: list[Request] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self.host_in_flight: Counter[str] = Counter()
        self.host_max: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._servers: dict[str, _Http] = {}
        for address in self.hosts:
            server = _Http((address, 0), _Handler)
            server.owner = self
            if tls is not None:
                server.socket = tls.wrap_socket(server.socket, server_side=True)
            self._servers[address] = server
        self._thread = threading.Thread(target=self._accept, name="feedserver", daemon=True)
        self._thread.start()

    # --- use ---

    def port(self, host: str | None = None) -> int:
        return self._servers[host or self.hosts[0]].server_address[1]

    def url(self, path: str, host: str | None = None) -> str:
        """``http://127.0.0.1:PORT/path`` on ``host`` (default: the first address)."""
        host = host or self.hosts[0]
        return f"{self.scheme}://{host}:{self.port(host)}{path}"

    def route(self, path: str, answer: Route) -> str:
        """Answer ``path`` with ``answer``; return the URL on the first address."""
        self.routes[path] = answer
        return self.url(path)

    def requests_to(self, path: str) -> list[Request]:
        with self._lock:
            return [r for r in self.log if r.path == path]

    def reset_counters(self) -> None:
        with self._lock:
            self.max_in_flight = 0
            self.host_max.clear()
            self.log.clear()

    def close(self) -> None:
        """Stop accepting, wake sleeping handlers, close the sockets."""
        self._stopping.set()
        self._thread.join(timeout=5)
        for server in self._servers.values():
            server.server_close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- inside ---

    def _accept(self) -> None:
        """One thread accepts on every address (each connection gets its own thread)."""
        with selectors.DefaultSelector() as selector:
            for server in self._servers.values():
                selector.register(server, selectors.EVENT_READ)
            while not self._stopping.is_set():
                for key, _events in selector.select(0.05):
                    key.fileobj._handle_request_noblock()

    def _serve(self, handler: _Handler) -> None:
        target = handler.path
        path = target.split("?", 1)[0]
        request = Request(path=path, target=target,
                          headers={k.lower(): v for k, v in handler.headers.items()},
                          host=handler.headers.get("Host", ""), time=time.monotonic(),
                          address=handler.server.server_address[0])
        self._enter(request)
        try:
            route = self.routes.get(path)
            if route is None:
                response = Response(404, b"not found", {"Content-Type": "text/plain"})
            else:
                response = route if isinstance(route, Response) else route(request)
            self._answer(handler, request, response)
        except (BrokenPipeError, ConnectionResetError):
            handler.close_connection = True
        finally:
            self._leave(request)

    def _enter(self, request: Request) -> None:
        with self._lock:
            self.log.append(request)
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
            self.host_in_flight[request.host] += 1
            self.host_max[request.host] = max(self.host_max[request.host],
                                              self.host_in_flight[request.host])

    def _leave(self, request: Request) -> None:
        with self._lock:
            self.in_flight -= 1
            self.host_in_flight[request.host] -= 1

    def _answer(self, handler: _Handler, request: Request, response: Response) -> None:
        if response.delay and self._stopping.wait(response.delay):
            handler.close_connection = True
            return
        if response.drop:
            handler.close_connection = True
            return
        handler.send_response(response.status)
        for name, value in response.headers.items():
            handler.send_header(name, value)
        length = _announced(response)
        if length is None:
            handler.send_header("Connection", "close")
            handler.close_connection = True
        else:
            handler.send_header("Content-Length", str(length))
        handler.end_headers()
        for chunk in _chunks(response):
            if self._stopping.is_set():
                handler.close_connection = True
                return
            handler.wfile.write(chunk)
            handler.wfile.flush()
            request.sent += len(chunk)
            if response.chunk_delay and self._stopping.wait(response.chunk_delay):
                handler.close_connection = True
                return


def _announced(response: Response) -> int | None:
    if response.chunks is not None:
        return response.length if isinstance(response.length, int) and not isinstance(
            response.length, bool) else None
    return len(response.body) if response.length is not False else None


def _chunks(response: Response) -> Iterator[bytes]:
    if response.chunks is not None:
        yield from response.chunks()
    elif response.body:
        yield response.body


# --- canned behaviours -----------------------------------------------------------------

RSS_TYPE = "application/rss+xml; charset=utf-8"
HTTP_DATE = "Wed, 21 Oct 2026 07:28:00 GMT"


def rss(entries: int = 20, *, title: str = "Nouvelles du quartier",
        site: str = "https://organisme.example.org", words: int = 50,
        images: str | None = None) -> bytes:
    """A realistic RSS 2.0 feed (~15 KB for 20 entries of ~50 words, French, HTML bodies).

    Each entry's title names the feed and its number (distinct news, for deduplication);
    its enclosure is ``{images}/{n}.jpg`` (``images`` defaults to ``{site}/images``).
    """
    images = images or f"{site}/images"
    text = ("Les membres de la table de concertation se sont réunis pour faire le point sur "
            "les projets en cours dans le quartier : sécurité alimentaire, logement, "
            "transport collectif et loisirs pour les familles.").split()
    items = []
    for n in range(entries):
        body = " ".join(text[(n + i) % len(text)] for i in range(words))
        day = 1 + n % 28
        items.append(
            f"<item><title>{title} — activité n° {n} : rencontre citoyenne &amp; café</title>"
            f"<link>{site}/nouvelles/{n}</link><guid isPermaLink=\"false\">{site}/id/{n}</guid>"
            f"<pubDate>{day:02d} Oct 2026 10:00:00 -0400</pubDate>"
            f"<description><![CDATA[<p>{body}</p><p><a href=\"{site}/nouvelles/{n}\">"
            "Lire la suite</a></p>]]></description>"
            f"<enclosure url=\"{images}/{n}.jpg\" type=\"image/jpeg\" length=\"12345\"/>"
            "</item>")
    return ("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<rss version=\"2.0\"><channel>"
            "<title>{title}</title><link>{site}</link><description>Les nouvelles</description>"
            "<language>fr-ca</language>{items}</channel></rss>\n").format(
                title=title, site=site, items="".join(items)).encode("utf-8")


def feed(body: bytes | None = None, *, etag: str | None = '"v1"',
         last_modified: str | None = HTTP_DATE, content_type: str = RSS_TYPE,
         delay: float = 0.0) -> Handler:
    """A static feed with validators, answering 304 when the client's ones match."""
    body = rss() if body is None else body
    headers = {"Content-Type": content_type}
    if etag:
        headers["ETag"] = etag
    if last_modified:
        headers["Last-Modified"] = last_modified

    def handler(request: Request) -> Response:
        inm = request.headers.get("if-none-match")
        ims = request.headers.get("if-modified-since")
        fresh = (inm is not None and etag is not None and inm == etag) or (
            inm is None and ims is not None and last_modified is not None
            and email.utils.parsedate_to_datetime(ims)
            >= email.utils.parsedate_to_datetime(last_modified))
        if fresh:
            return Response(304, headers={k: v for k, v in headers.items()
                                          if k != "Content-Type"}, delay=delay)
        return Response(200, body, dict(headers), delay=delay)

    return handler


def gzipped(body: bytes, content_type: str = RSS_TYPE) -> Response:
    return Response(200, gzip.compress(body),
                    {"Content-Type": content_type, "Content-Encoding": "gzip"})


def slow(seconds: float, body: bytes = b"<rss/>") -> Response:
    """Headers only after ``seconds``."""
    return Response(200, body, {"Content-Type": RSS_TYPE}, delay=seconds)


def drip(size: int = 200, interval: float = 0.5) -> Response:
    """Headers at once, then one byte every ``interval`` s (``size`` announced)."""
    return Response(200, headers={"Content-Type": RSS_TYPE},
                    chunks=lambda: (b"x" for _ in range(size)), chunk_delay=interval,
                    length=size)


def status(code: int) -> Response:
    return Response(code, f"erreur {code}".encode(), {"Content-Type": "text/plain"})


def redirect(location: str, code: int = 302) -> Response:
    return Response(code, b"", {"Location": location})


def huge(size: int = 20 * 1024 * 1024, *, chunk: int = 64 * 1024,
         announce: bool = False) -> Response:
    """``size`` bytes streamed in chunks, with or without Content-Length."""
    block = b"<!-- " + b"x" * (chunk - 9) + b" -->"

    def chunks() -> Iterator[bytes]:
        left = size
        while left > 0:
            yield block[:left]
            left -= len(block)

    return Response(200, headers={"Content-Type": RSS_TYPE}, chunks=chunks,
                    length=size if announce else None)


_BOMBS: dict[int, bytes] = {}


def gzip_bomb(decoded: int = 64 * 1024 * 1024) -> Response:
    """A small gzip body that inflates to ``decoded`` zero bytes."""
    if decoded not in _BOMBS:
        compressor = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
        zeros = bytes(1024 * 1024)
        parts = [compressor.compress(zeros) for _ in range(decoded // len(zeros))]
        parts.append(compressor.flush())
        _BOMBS[decoded] = b"".join(parts)
    return Response(200, _BOMBS[decoded],
                    {"Content-Type": RSS_TYPE, "Content-Encoding": "gzip"})


def html_page() -> Response:
    body = ("<!doctype html><html lang=\"fr\"><head><title>Accueil</title></head><body>"
            "<h1>Bienvenue</h1><p>Ceci est une page, pas un flux.</p></body></html>")
    return Response(200, body.encode(), {"Content-Type": "text/html; charset=utf-8"})


def drop() -> Response:
    """Close the connection without answering."""
    return Response(drop=True)


def digest(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


# --- pytest fixture --------------------------------------------------------------------

if pytest is not None:

    @pytest.fixture
    def feed_server() -> Iterator[FeedServer]:
        """A FeedServer on 127.0.0.1 and 127.0.0.2 (two « sites »), closed afterwards."""
        server = FeedServer(hosts=("127.0.0.1", "127.0.0.2"))
        try:
            yield server
        finally:
            server.close()


# --- child process for the bench -------------------------------------------------------

def small_jpeg(width: int = 800, height: int = 450) -> bytes:
    """A real JPEG (Pillow), as an organization's site serves for a news photo."""
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (width, height), (40, 120, 200)).save(out, "JPEG", quality=80)
    return out.getvalue()


def serve_feeds(feeds: int, delay: float, addresses: int,
                entries: int) -> tuple[FeedServer, list[str]]:
    """``feeds`` feeds over 127.0.0.2… (``addresses`` of them), each answering after ``delay``.

    Consecutive feeds share an address (a « site »); each entry's enclosure is a real JPEG
    on the feed's own address, answered at once. Returns the server and the feeds' URLs.
    """
    server = FeedServer(hosts=[f"127.0.0.{2 + i}" for i in range(addresses)])
    per_site = math.ceil(feeds / len(server.hosts))
    urls = []
    for n in range(feeds):
        host = server.hosts[n // per_site]
        body = rss(entries, title=f"Organisme {n}", site=f"https://organisme{n}.example.org",
                   images=server.url("/images", host))
        urls.append(server.url(f"/flux/{n}.xml", host))
        server.route(f"/flux/{n}.xml", feed(body, etag=f'"{n}"', delay=delay))
    photo = small_jpeg()
    for n in range(entries):
        server.route(f"/images/{n}.jpg", Response(200, photo, {"Content-Type": "image/jpeg"}))
    return server, urls


def main(argv: Sequence[str] | None = None) -> None:
    """Serve the bench's feeds; print their URLs as JSON on one line; stop on stdin's end."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--feeds", type=int, default=200)
    parser.add_argument("--delay", type=float, default=0.2)
    parser.add_argument("--addresses", type=int, default=100)
    parser.add_argument("--entries", type=int, default=20)
    args = parser.parse_args(argv)
    server, urls = serve_feeds(args.feeds, args.delay, args.addresses, args.entries)
    print(json.dumps({"urls": urls, "bytes": len(rss(args.entries))}), flush=True)
    sys.stdin.read()
    with server._lock:
        stats = {"requests": len(server.log), "max_in_flight": server.max_in_flight,
                 "max_per_host": max(server.host_max.values(), default=0)}
    print(json.dumps(stats), flush=True)
    server.close()


if __name__ == "__main__":
    main()
