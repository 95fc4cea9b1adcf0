"""The Jinja2 environment shared by every template (email, text, print, preview).

Autoescaping is on for markup templates and off for ``*.txt.j2``; undefined names fail
loudly (a typo in a template must not print an empty string). User content reaches
templates only as data: it is never compiled as a template.

French typography is given here, to our wording only (``typography``): ``_()`` and
``ngettext()`` return the translated string with its no-break spaces and apostrophes
*before* Jinja puts the values in (``%(titre)s`` stays as the person wrote it), and the date
and time filters keep « 5 décembre » and « 9 h 30 » on one line.
"""

from __future__ import annotations

from pathlib import Path

import jinja2
from markupsafe import Markup

from .. import i18n
from ..errors import BuildError
from ..i18n import _
from .. import dates
from .markdown import markdown_to_html
from .typography import date_typography, typography


def _autoescape(name: str | None) -> bool:
    return not (name or "").endswith(".txt.j2")


def make_environment(template_dir: Path) -> jinja2.Environment:
    """Build the environment for ``template_dir`` with French filters and gettext."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(template_dir)),
        autoescape=_autoescape,
        undefined=jinja2.StrictUndefined,
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    catalog = i18n.translations()
    env.install_gettext_callables(  # newstyle: Jinja substitutes the values after these
        lambda message: typography(catalog.gettext(message)),
        lambda singular, plural, n: typography(catalog.ngettext(singular, plural, n)),
        newstyle=True)
    env.filters.update(
        long_date=lambda value: date_typography(dates.long_date(value)),
        short_date=lambda value: date_typography(dates.short_date(value)),
        clock=lambda value: date_typography(dates.time_of_day(value)),
        month_title=dates.month_title,
        markdown=lambda text: Markup(markdown_to_html(text)),
    )
    env.globals.update(event_when=lambda debut, fin: date_typography(
        dates.event_when(debut, fin)))
    return env


def render_template(env: jinja2.Environment, name: str, **context) -> str:
    """Render one template, turning Jinja2's errors into a BuildError that names it."""
    try:
        return env.get_template(name).render(**context)
    except jinja2.TemplateNotFound:
        raise BuildError(_("gabarit introuvable : {name}.").format(name=name),
                         where=str(env.loader.searchpath[0]),  # type: ignore[union-attr]
                         fix=_("Vérifiez le chemin [chemins] gabarits dans infolettre.toml.")) from None
    except jinja2.TemplateSyntaxError as exc:
        raise BuildError(_("erreur de syntaxe dans le gabarit : {msg}.").format(msg=exc.message),
                         where=f"{exc.filename or name}:{exc.lineno}",
                         fix=_("Corrigez le gabarit à la ligne indiquée.")) from None
    except jinja2.UndefinedError as exc:
        raise BuildError(_("le gabarit utilise une valeur inconnue : {msg}.").format(msg=exc.message),
                         where=name,
                         fix=_("Corrigez le nom de la variable dans le gabarit.")) from None
