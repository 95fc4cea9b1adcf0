"""What keeps the app safe: the session key, its cookie, CSRF on every POST, and headers.

- The session is a signed cookie (Flask): HttpOnly, SameSite=Lax, Secure when the app's
  ``[application] url`` is https://; its key is derived from the project's secret
  (``state.secret``), so restarting the server keeps people signed in, and nothing new has
  to be kept.
- CSRF: Flask-WTF checks a token on every POST (the one-click unsubscribe excepted: mail
  programs post it without a token, RFC 8058, and it only acts on a signed token).
- A content-security policy with no inline script, no framing of the app, no sniffing.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import timedelta

from flask import Flask, Response
from flask_wtf.csrf import CSRFProtect

from ..settings import Settings
from ..state.secret import load_secret

csrf = CSRFProtect()
POLICY = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
          "frame-src 'self'; frame-ancestors 'self'; form-action 'self'; base-uri 'none'; "
          "object-src 'none'")


def install(app: Flask, settings: Settings) -> None:
    """Set the session key and cookie, CSRF protection and the security headers."""
    secret = load_secret(settings.paths.donnees)
    app.config.update(
        SECRET_KEY=hmac.new(secret, b"infolettre: session de l'application", hashlib.sha256)
        .hexdigest(),
        SESSION_COOKIE_NAME="infolettre",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.application.https,
        PERMANENT_SESSION_LIFETIME=timedelta(hours=12),
        WTF_CSRF_TIME_LIMIT=None,  # the token lives as long as the session
        MAX_CONTENT_LENGTH=2 * 1024 * 1024,  # forms only: no upload is bigger
    )
    csrf.init_app(app)
    app.after_request(_headers)


def _headers(response: Response) -> Response:
    response.headers.setdefault("Content-Security-Policy", POLICY)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers.setdefault("X-Frame-Options", "SAMEORIGIN")
    if response.mimetype == "text/html":
        response.headers.setdefault("Cache-Control", "no-store")
    return response
