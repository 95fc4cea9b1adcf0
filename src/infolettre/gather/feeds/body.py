"""Read a response's body within a size limit, decoding gzip and deflate ourselves.

A feed past the limit is an error, never a silently cut feed; and we inflate a bounded piece
at a time, so a « gzip bomb » is stopped just after the limit instead of after inflating a
whole network read (what httpx's own decoding would do). Other encodings (br, chains) are
never asked for, and refused when a server sends them anyway.
"""

from __future__ import annotations

import zlib

import httpx

from ...i18n import _
from .errors import FetchError, size_text

#: Compressed bytes fed to the inflater at once (bounds the work done past the limit).
INFLATE_STEP = 16 * 1024


async def read_body(response: httpx.Response, limit: int) -> bytes:
    """The decoded body, or a French error as soon as it exceeds ``limit`` bytes."""
    encoding = response.headers.get("content-encoding", "").strip().lower()
    declared = response.headers.get("content-length", "")
    if encoding in ("", "identity") and declared.isdigit() and int(declared) > limit:
        raise _too_big(limit, response.status_code)
    inflater = Inflater.for_encoding(encoding)
    if inflater is None and encoding not in ("", "identity"):
        # not asked for (Accept-Encoding: gzip, deflate); httpx would decode br or a chain
        # of encodings without a bound on what one chunk inflates to
        raise FetchError(_("réponse compressée en « {encoding} », format non demandé et non "
                           "pris en charge (seuls gzip et deflate le sont) : signalez-le au "
                           "site").format(encoding=encoding), response.status_code)
    chunks = response.aiter_raw() if inflater else response.aiter_bytes()
    body = bytearray()
    async for chunk in chunks:
        body += inflater.feed(chunk, limit - len(body)) if inflater else chunk
        if len(body) > limit:
            raise _too_big(limit, response.status_code)
    if inflater:
        body += inflater.flush(limit - len(body))
        if len(body) > limit:
            raise _too_big(limit, response.status_code)
    return bytes(body)


def _too_big(limit: int, code: int) -> FetchError:
    return FetchError(_("réponse de plus de {taille} : ce n'est sans doute pas un "
                        "flux").format(taille=size_text(limit)), code)


class Inflater:
    """gzip / deflate decoding that never produces more than asked for at once."""

    def __init__(self, wbits: int, raw_fallback: bool) -> None:
        self.decoder = zlib.decompressobj(wbits)
        self.raw_fallback = raw_fallback  # « deflate » sent without its zlib header
        self.started = False

    @classmethod
    def for_encoding(cls, encoding: str) -> Inflater | None:
        """An inflater for ``encoding``; None lets httpx decode (identity, br, chains)."""
        if encoding in ("gzip", "x-gzip"):
            return cls(16 + zlib.MAX_WBITS, raw_fallback=False)
        if encoding == "deflate":
            return cls(zlib.MAX_WBITS, raw_fallback=True)
        return None

    def feed(self, data: bytes, room: int) -> bytes:
        """Decode ``data``; stop as soon as more than ``room`` bytes came out.

        At most ``room + 1`` bytes are returned: more than ``room`` means « too big »
        (what zlib still holds is never inflated).
        """
        out = bytearray()
        pending = memoryview(data)
        while len(out) <= room:
            if self.decoder.unconsumed_tail:
                step = self.decoder.unconsumed_tail
            elif pending:
                step, pending = bytes(pending[:INFLATE_STEP]), pending[INFLATE_STEP:]
            else:
                break
            out += self._decompress(step, room - len(out) + 1)
        return bytes(out)

    def flush(self, room: int) -> bytes:
        try:
            return self.decoder.flush(max(1, room + 1))
        except zlib.error as exc:
            raise FetchError(_("réponse compressée illisible")) from exc

    def _decompress(self, data: bytes, max_length: int) -> bytes:
        try:
            piece = self.decoder.decompress(data, max(1, max_length))
        except zlib.error as exc:
            if self.raw_fallback and not self.started:
                self.raw_fallback = False
                self.decoder = zlib.decompressobj(-zlib.MAX_WBITS)
                return self._decompress(data, max_length)
            raise FetchError(_("réponse compressée illisible")) from exc
        self.started = True
        return piece
