"""Per-recipient values, filled into outputs rendered once per edition.

An edition is compiled once (Jinja2 → MJML → HTML); the greeting, address and unsubscribe
link of each recipient are substituted afterwards. Placeholders carry a random nonce drawn
per build, so text in a submission can never forge one: user content is data, not template.
"""

from __future__ import annotations

import html
import secrets
from dataclasses import dataclass, field

#: The per-recipient fields templates may use, through ``placeholder(name)``. ``images`` is
#: the base URL of the issue's images: ``images/`` beside the files of build/, the published
#: archive (``[infolettre] site``) in a sent message.
FIELDS = ("salutation", "courriel", "desabonnement", "images")


@dataclass(frozen=True)
class Placeholders:
    """Tokens standing for per-recipient values in a rendered edition."""

    nonce: str = field(default_factory=lambda: secrets.token_hex(8))

    def token(self, name: str) -> str:
        """Return the token for ``name`` (one of ``FIELDS``)."""
        if name not in FIELDS:
            raise KeyError(name)
        return f"@@{self.nonce}:{name}@@"

    def fill(self, rendered: str, values: dict[str, str], *, escape_html: bool) -> str:
        """Replace every token by its value, HTML-escaped when filling HTML."""
        for name in FIELDS:
            value = values.get(name, "")
            rendered = rendered.replace(self.token(name),
                                        html.escape(value) if escape_html else value)
        return rendered
