"""Fetch many feed (or image) URLs at once, politely, without ever blocking or truncating.

Why it is built this way:

* **Politeness.** A bulletin follows a few hundred feeds, often several on one small
  organization's site. At most ``policy.per_host`` requests are in flight to one host name
  (redirect hops included: each hop takes a slot on its own host), and at most
  ``policy.max_concurrent`` overall; requests are conditional (``If-None-Match``,
  ``If-Modified-Since``) so an unchanged feed costs a 304 and no body.
* **Never blocking.** One dead or dripping server must not hold up the watch: every request
  has a connect, a read and a *total* time limit (time spent waiting for a free slot does
  not count), and every failure becomes a ``Fetched`` with a French ``error`` for the pivot —
  no exception leaves :func:`fetch_all` for a per-URL problem.
* **Never truncating.** A body is read up to ``max_bytes`` *decoded* bytes (we inflate gzip
  and deflate ourselves, a bounded piece at a time, so a « gzip bomb » is stopped after the
  limit, not after inflating a whole network read); past the limit the request is an error,
  never a silently cut feed (``body.py``). Every failure is worded in ``errors.py``.

The body handed on is decoded, so ``content-encoding`` and ``content-length`` are left out
of ``Fetched.headers`` (feedparser must not try to gunzip it again).
"""

from __future__ import annotations

import asyncio
import functools
import ipaddress
import socket
import ssl
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx

from ...i18n import _
from .body import read_body
from .errors import FetchError, TotalTimeout, describe, status_message
from .model import Fetched, FetchPolicy, FetchRequest, Validators

REDIRECTS = frozenset({301, 302, 303, 307, 308})
ACCEPT_ENCODING = "gzip, deflate"
#: Headers describing the encoded body: meaningless once we hand on the decoded bytes.
DROPPED_HEADERS = frozenset({"content-encoding", "content-length"})


# --- public API ------------------------------------------------------------------------


async def fetch_all(requests: Sequence[FetchRequest], policy: FetchPolicy, *,
                    on_result: Callable[[Fetched], None] | None = None) -> list[Fetched]:
    """Fetch every request concurrently; return one ``Fetched`` per request, in order.

    Never raises for a per-URL problem: each becomes ``Fetched(status="error")`` with a
    French message. ``on_result`` is called with each result as it finishes (in completion
    order, from the event loop); if it raises, the remaining requests are cancelled and the
    exception propagates.
    """
    results: list[Fetched | None] = [None] * len(requests)
    if not requests:
        return []
    slots = _Slots(policy)
    async with _client(policy) as client:
        tasks = [asyncio.create_task(_indexed(i, client, request, policy, slots))
                 for i, request in enumerate(requests)]
        try:
            for next_done in asyncio.as_completed(tasks):
                index, result = await next_done
                results[index] = result
                if on_result is not None:
                    on_result(result)
        finally:
            await _cancel(tasks)
    return [r for r in results if r is not None]


def fetch_many(requests: Sequence[FetchRequest], policy: FetchPolicy,
               **kw: Any) -> list[Fetched]:
    """Synchronous :func:`fetch_all` (runs its own event loop with ``asyncio.run``)."""
    return asyncio.run(fetch_all(requests, policy, **kw))


# --- concurrency -----------------------------------------------------------------------


class _Slots:
    """The global cap and one cap per host name (``host:port``, lower-cased)."""

    def __init__(self, policy: FetchPolicy) -> None:
        self.overall = asyncio.Semaphore(max(1, policy.max_concurrent))
        per_host = max(1, policy.per_host)
        self.hosts: defaultdict[str, asyncio.Semaphore] = defaultdict(
            lambda: asyncio.Semaphore(per_host))

    async def acquire(self, url: httpx.URL) -> Callable[[], None]:
        """Wait for a slot on ``url``'s host, then an overall one; return the release."""
        host = self.hosts[host_key(url)]
        await host.acquire()  # host first: a busy host must not hold an overall slot
        try:
            await self.overall.acquire()
        except BaseException:
            host.release()
            raise

        def release() -> None:
            self.overall.release()
            host.release()

        return release


def host_key(url: httpx.URL) -> str:
    """``host:port`` of ``url``, lower-cased, default port made explicit."""
    port = url.port or (443 if url.scheme == "https" else 80)
    return f"{url.host.lower()}:{port}"


async def _cancel(tasks: list[asyncio.Task]) -> None:
    """Cancel what is still running (only when ``on_result`` raised) and wait for it."""
    pending = [t for t in tasks if not t.done()]
    for task in pending:
        task.cancel()
    if pending:
        await asyncio.gather(*pending, return_exceptions=True)


def _client(policy: FetchPolicy) -> httpx.AsyncClient:
    """One HTTP/1.1 client for the whole run (connections kept alive between feeds)."""
    timeout = httpx.Timeout(connect=policy.connect_timeout, read=policy.read_timeout,
                            write=10.0, pool=policy.connect_timeout)
    size = max(1, policy.max_concurrent)
    limits = httpx.Limits(max_connections=size, max_keepalive_connections=size)
    return httpx.AsyncClient(http2=False, timeout=timeout, limits=limits, verify=tls_context(),
                             follow_redirects=False,
                             headers={"User-Agent": policy.user_agent,
                                      "Accept-Encoding": ACCEPT_ENCODING})


@functools.cache
def tls_context() -> ssl.SSLContext:
    """httpx's default TLS settings (certificate store included), built once per process.

    Loading the store takes 20–40 ms, on the critical path of every run (a run makes two
    clients, feeds then images); the context is only read afterwards.
    """
    return httpx.create_ssl_context()


# --- one request -----------------------------------------------------------------------


@dataclass
class _Progress:
    """What is known about a request while it runs (for the final ``Fetched``)."""

    url: str
    budget: float  # s left of the total timeout
    elapsed: float = 0.0  # s spent holding a slot (waiting for one is not counted)
    http_status: int | None = None
    hops: list[str] = field(default_factory=list)


async def _indexed(index: int, client: httpx.AsyncClient, request: FetchRequest,
                   policy: FetchPolicy, slots: _Slots) -> tuple[int, Fetched]:
    return index, await fetch_one(client, request, policy, slots)


async def fetch_one(client: httpx.AsyncClient, request: FetchRequest, policy: FetchPolicy,
                    slots: _Slots) -> Fetched:
    """Fetch one request, following redirects by hand; turn any failure into an error."""
    progress = _Progress(url=str(request.url), budget=policy.total_timeout)
    try:
        return await _follow(client, request, policy, slots, progress)
    except FetchError as exc:
        message, status = exc.message, exc.http_status or progress.http_status
    except Exception as exc:  # noqa: BLE001 — every failure is this URL's, not the run's
        message, status = describe(exc, policy), progress.http_status
    return Fetched(url=str(request.url), status="error",
                   final_url=progress.hops[-1] if progress.hops else str(request.url),
                   http_status=status, error=message, elapsed=round(progress.elapsed, 3))


async def _follow(client: httpx.AsyncClient, request: FetchRequest, policy: FetchPolicy,
                  slots: _Slots, progress: _Progress) -> Fetched:
    """Run the hops: each takes its host's slot and its share of the total time."""
    url = parse_url(request.url)
    for _hop in range(max(0, policy.max_redirects) + 1):
        progress.hops.append(str(url))
        outcome = await _timed_hop(client, url, request, policy, slots, progress)
        if isinstance(outcome, Fetched):
            return outcome
        url = outcome
    raise FetchError(_("trop de redirections (plus de {n}) : boucle ?").format(
        n=policy.max_redirects), progress.http_status)


async def _timed_hop(client: httpx.AsyncClient, url: httpx.URL, request: FetchRequest,
                     policy: FetchPolicy, slots: _Slots,
                     progress: _Progress) -> Fetched | httpx.URL:
    """One hop under the slots, limited to what is left of the total time."""
    release = await slots.acquire(url)
    started = time.monotonic()
    try:
        if progress.budget <= 0:
            raise TotalTimeout
        deadline = asyncio.timeout(progress.budget)
        try:
            async with deadline:
                if request.public_only:
                    await ensure_public(url)
                return await _hop(client, url, request, policy, progress, started)
        except TimeoutError as exc:
            if deadline.expired():
                raise TotalTimeout from exc
            raise
    finally:
        spent = time.monotonic() - started
        progress.elapsed += spent
        progress.budget -= spent
        release()


async def _hop(client: httpx.AsyncClient, url: httpx.URL, request: FetchRequest,
               policy: FetchPolicy, progress: _Progress,
               started: float) -> Fetched | httpx.URL:
    """Send one GET; return the result, or the next URL for a redirect."""
    headers = request_headers(request)
    async with client.stream("GET", url, headers=headers) as response:
        progress.http_status = response.status_code
        code = response.status_code
        if code in REDIRECTS:
            return redirect_target(url, response)
        if code == 304:
            return _not_modified(request, url, response, progress, started)
        if not 200 <= code < 300:
            raise FetchError(status_message(code, response.reason_phrase), code)
        limit = request.max_bytes or policy.max_bytes
        body = await read_body(response, limit)
        return Fetched(url=str(request.url), status="ok", final_url=str(url),
                       http_status=code, body=body, headers=response_headers(response),
                       validators=validators_of(response, None),
                       elapsed=round(progress.elapsed + time.monotonic() - started, 3))


def _not_modified(request: FetchRequest, url: httpx.URL, response: httpx.Response,
                  progress: _Progress, started: float) -> Fetched:
    return Fetched(url=str(request.url), status="not_modified", final_url=str(url),
                   http_status=304, headers=response_headers(response),
                   validators=validators_of(response, request.validators),
                   elapsed=round(progress.elapsed + time.monotonic() - started, 3))


# --- URLs, headers, validators ---------------------------------------------------------


def parse_url(raw: str) -> httpx.URL:
    """``raw`` as an absolute http(s) URL, else a French error."""
    try:
        url = httpx.URL(raw)
    except (httpx.InvalidURL, TypeError, ValueError) as exc:
        raise FetchError(_("adresse invalide : {url}").format(url=raw)) from exc
    if url.scheme not in ("http", "https"):
        raise FetchError(_("adresse non prise en charge (seules les adresses http:// et "
                           "https:// sont lues) : {url}").format(url=raw))
    if not url.host:
        raise FetchError(_("adresse invalide (aucun nom de site) : {url}").format(url=raw))
    return url


def redirect_target(current: httpx.URL, response: httpx.Response) -> httpx.URL:
    """Where a redirect points (relative ``Location`` resolved), if it is http(s)."""
    location = response.headers.get("location", "").strip()
    if not location:
        raise FetchError(_("redirection ({code}) sans adresse de destination").format(
            code=response.status_code), response.status_code)
    try:
        target = current.join(location)
    except (httpx.InvalidURL, ValueError) as exc:
        raise FetchError(_("redirection vers une adresse invalide : {url}").format(
            url=location), response.status_code) from exc
    if target.scheme not in ("http", "https") or not target.host:
        raise FetchError(_("redirection vers une adresse non prise en charge : {url}").format(
            url=location), response.status_code)
    return target.copy_with(fragment=None)


async def ensure_public(url: httpx.URL) -> None:
    """Refuse ``url`` when its host is, or resolves to, an address that is not public.

    Checked before each hop of a ``public_only`` request. (A name that resolves differently
    a moment later — DNS rebinding — is not caught here; the images fetched this way are
    also checked to be images before anything is kept.)
    """
    try:
        addresses = [ipaddress.ip_address(url.host)]
    except ValueError:
        port = url.port or (443 if url.scheme == "https" else 80)
        infos = await asyncio.get_running_loop().getaddrinfo(url.host, port,
                                                             type=socket.SOCK_STREAM)
        addresses = [ipaddress.ip_address(info[4][0].split("%", 1)[0]) for info in infos]
    if not addresses or not all(address.is_global for address in addresses):
        raise FetchError(_("adresse du réseau local refusée ({host}) : une image venue d'un "
                           "flux ne peut pas pointer vers nos propres machines").format(
            host=url.host))


def request_headers(request: FetchRequest) -> dict[str, str]:
    """``Accept`` and the conditional headers of ``request``."""
    headers = {"Accept": request.accept}
    if request.validators.etag:
        headers["If-None-Match"] = request.validators.etag
    if request.validators.last_modified:
        headers["If-Modified-Since"] = request.validators.last_modified
    return headers


def response_headers(response: httpx.Response) -> dict[str, str]:
    """Lower-cased names → values, without those describing the encoded body."""
    return {name.lower(): value for name, value in response.headers.items()
            if name.lower() not in DROPPED_HEADERS}


def validators_of(response: httpx.Response, previous: Validators | None) -> Validators:
    """The response's ``ETag`` / ``Last-Modified``, falling back on ``previous``."""
    etag = response.headers.get("etag")
    modified = response.headers.get("last-modified")
    if previous is not None:
        etag = etag or previous.etag
        modified = modified or previous.last_modified
    return Validators(etag=etag or None, last_modified=modified or None)


