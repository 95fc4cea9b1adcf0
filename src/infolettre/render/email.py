"""Email HTML of one edition: Jinja2 → MJML → HTML, content CSS inlined, weight checked.

Each edition is compiled once (never per recipient): ``email.mjml.j2`` gives MJML, which
mjml-python (MRML) turns into table-based HTML. MRML emits ``<mj-style inline>`` as a plain
``<style>`` block, and Gmail with a non-Google account ignores ``<style>``, so our content CSS
(``_email_inline.css.j2``: titles, links, badges…) is inlined with css-inline; MJML's own head
CSS stays in ``<style>`` (inlining it too would add ~20 %). Gmail clips a message whose HTML
is over 102 KB, so a heavier edition stops the build with a message saying what to cut —
except a preview (``build --preview``), which is still written, marked over the limit, so
the pivot can see what to cut (``outputs`` adds the warning).
"""

from __future__ import annotations

import re
from typing import Any

import css_inline
import jinja2
from babel.numbers import format_decimal
from mjml import mjml2html

from ..errors import BuildError
from ..i18n import _, current_locale
from ..models import Edition
from ..settings import Settings
from .environment import render_template
from .text import upfirst

TEMPLATE = "email.mjml.j2"
#: Our content CSS, inlined into the compiled HTML (a template: it sits next to the markup).
INLINE_CSS = "_email_inline.css.j2"
_MJ_TAG = re.compile(r"<mj-[a-z]", re.I)


def render_email_html(env: jinja2.Environment, ctx: dict[str, Any], settings: Settings) -> str:
    """Render one edition's email HTML; raise BuildError if invalid or over the size limit."""
    source = render_template(env, TEMPLATE, **ctx, **email_helpers())
    html = compile_mjml(source, name=TEMPLATE)
    html = inline_css(html, render_template(env, INLINE_CSS, **ctx))
    check_size(html, ctx["edition"], settings, preview=bool(ctx.get("preview")))
    return html


def email_helpers() -> dict[str, Any]:
    """Return the functions ``email.mjml.j2`` calls besides the shared context."""
    return {"upfirst": upfirst}


#: A start tag of the MJML source, its quoted attribute values whole (even with a « > »).
_START_TAG = re.compile(r"""<[A-Za-z][\w:.-]*(?:\s+[^\s=/>"']+(?:\s*=\s*(?:"[^"]*"|'[^']*'|"""
                        r"""[^\s"'=<>`]+))?)*\s*/?>""")
_QUOTED = re.compile(r""""[^"]*"|'[^']*'""")
_NON_ASCII = re.compile(r"[^\x00-\x7f]")


def protect_attributes(src: str) -> str:
    """Write every non-ASCII character of the attribute values as a character reference.

    MRML writes some characters of attribute values as Rust escapes: a no-break space of
    an alt text or an aria-label (French puts one before « : ») comes out as the literal
    text ``\\u{a0}``, read aloud by screen readers and shown when images are blocked; so do
    narrow no-break spaces, soft hyphens, combining accents, zero-width characters. Written
    ``&#160;`` they pass through intact, and the browser (and css-inline, which serializes
    the HTML again) reads them back. Text between tags is left as is: MRML keeps it.
    """
    def attribute(value: re.Match[str]) -> str:
        return _NON_ASCII.sub(lambda c: f"&#{ord(c.group(0))};", value.group(0))

    return _START_TAG.sub(lambda tag: _QUOTED.sub(attribute, tag.group(0)), src)


def compile_mjml(src: str, *, name: str = TEMPLATE) -> str:
    """Compile MJML to HTML with MRML; a rejected document becomes a BuildError naming it."""
    try:
        html = mjml2html(protect_attributes(src), fonts={}, disable_comments=True)
    except ValueError as exc:
        raise _mjml_error(name, exc) from None
    except BaseException as exc:  # a Rust panic surfaces as pyo3's PanicException
        if type(exc).__name__ != "PanicException":
            raise
        raise _mjml_error(name, exc) from None
    if _MJ_TAG.search(html):
        raise BuildError(_("le HTML compilé contient encore une balise MJML ({tag}…)."
                           ).format(tag=_MJ_TAG.search(html).group(0)),
                         where=name,
                         fix=_("Vérifiez l'orthographe des balises <mj-…> du gabarit : "
                               "MRML laisse passer les balises inconnues."))
    return html


def _mjml_error(name: str, exc: BaseException) -> BuildError:
    return BuildError(_("MJML invalide : {detail}.").format(detail=str(exc).strip() or
                                                              type(exc).__name__),
                      where=name,
                      fix=_("Corrigez le gabarit MJML (balise mal fermée ou inconnue, "
                            "élément mal placé) à la position indiquée."))


def inline_css(html: str, css: str) -> str:
    """Copy ``css`` into the style attributes of the elements it selects."""
    inliner = css_inline.CSSInliner(inline_style_tags=False, keep_style_tags=True,
                                    load_remote_stylesheets=False, extra_css=css)
    try:
        return inliner.inline(html)
    except (css_inline.InlineError, ValueError) as exc:
        raise BuildError(_("CSS à incorporer invalide : {detail}.").format(detail=exc),
                         where=INLINE_CSS,
                         fix=_("Corrigez la feuille de style du courriel.")) from None


def kilobytes(size: int) -> str:
    """« 103,4 » : a byte count in KB (1 KB = 1024 bytes), in the active locale."""
    return format_decimal(round(size / 1024, 1), "#,##0.0", locale=current_locale())


#: Room kept for what each recipient's copy adds (greeting, address, unsubscribe link).
PERSONAL_RESERVE = 1024


def too_heavy(size: int, settings: Settings) -> bool:
    """Tell whether an edition of ``size`` bytes could be clipped once personalized."""
    return size + PERSONAL_RESERVE > settings.max_email_bytes


def weight_label(html: str, settings: Settings) -> str:
    """« 98,3 Ko », or with the marker of an edition Gmail would clip (build table, index)."""
    size = len(html.encode("utf-8"))
    if not too_heavy(size, settings):
        return _("{size} Ko").format(size=kilobytes(size))
    return _("{size} Ko — au-delà de {limit} Ko : Gmail coupera ce courriel").format(
        size=kilobytes(size), limit=format_decimal(settings.max_email_bytes / 1024, "#,##0.#",
                                                   locale=current_locale()))


def too_heavy_message(titre: str, size: int, settings: Settings) -> str:
    """Say that an edition is over the limit and what Gmail would do with it."""
    return _("le courriel de l'édition « {edition} » pèse {size} Ko, plus que la limite de "
             "{limit} Ko : Gmail couperait le message et cacherait la fin, dont le lien de "
             "désabonnement.").format(edition=titre, size=kilobytes(size),
                                      limit=kilobytes(settings.max_email_bytes))


def too_heavy_fix() -> str:
    """Say what to do about an edition over the limit."""
    return _("Raccourcissez les textes les plus longs, retirez des nouvelles ou reportez-en au "
             "numéro suivant (ou passez-les en manchettes), puis relancez.")


def check_size(html: str, edition: Edition, settings: Settings, *,
               preview: bool = False) -> int:
    """Return the HTML's weight in bytes; raise BuildError when a recipient's copy could clip.

    The check runs on the edition before per-recipient values are filled in, so it keeps
    ``PERSONAL_RESERVE`` bytes for them. A ``preview`` is not refused: it is written, marked
    over the limit, so the pivot sees what to cut (``outputs.size_warnings``).
    """
    size = len(html.encode("utf-8"))
    if too_heavy(size, settings) and not preview:
        raise BuildError(too_heavy_message(edition.titre, size, settings), where=edition.slug,
                         fix=too_heavy_fix())
    return size
