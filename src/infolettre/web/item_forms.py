"""The forms of the item pages (Flask-WTF: each carries its CSRF token).

Dates use the browser's native pickers (``type="date"``, ``datetime-local``); territory,
rubrique, status and source are lists from the config and the model. The values are checked
by the content store's own validators when saved, which say in French what is wrong.
"""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice

from ..i18n import _
from ..models import REGIONAL, Month, Source, Status
from ..settings import Settings


def edit_form(settings: Settings, data: dict[str, str] | None = None,
              formdata=None) -> FlaskForm:
    """Return the form of every front-matter field and the body, for ``settings``."""

    class EditForm(FlaskForm):
        titre = StringField(_("Titre"))
        organisme = StringField(_("Organisme"))
        territoire = SelectField(_("Territoire"), validate_choice=False, choices=_choices(
            [(REGIONAL, settings.territory_name(REGIONAL)), *settings.territories.items()]))
        rubrique = SelectField(_("Rubrique"), validate_choice=False,
                               choices=_choices(settings.rubriques.items()))
        date = StringField(_("Date"), render_kw={"type": "date"})
        evenement_debut = StringField(_("Début de l'événement"),
                                      render_kw={"type": "datetime-local"})
        evenement_fin = StringField(_("Fin de l'événement"), render_kw={"type": "datetime-local"})
        evenement_lieu = StringField(_("Lieu de l'événement"))
        echeance = StringField(_("Échéance"), render_kw={"type": "date"})
        lien = StringField(_("Lien"), render_kw={"type": "url"})
        image = StringField(_("Image (nom du fichier)"))
        image_alt = StringField(_("Texte alternatif de l'image"))
        statut = SelectField(_("Statut"), validate_choice=False,
                             choices=_choices((s.value, s.value) for s in Status))
        source = SelectField(_("Source"), validate_choice=False,
                             choices=_choices((s.value, s.value) for s in Source))
        flux = StringField(_("Flux"))
        corps = TextAreaField(_("Texte (Markdown)"), render_kw={"rows": 16})
        empreinte = HiddenField()

    return EditForm(formdata=formdata, data=data)


def _choices(pairs) -> list[SelectChoice]:
    return [SelectChoice(value, label) for value, label in pairs]


#: The fields of the front matter, in the form's order (``corps`` and the hash apart).
FIELDS = ("titre", "organisme", "territoire", "rubrique", "date", "evenement_debut",
          "evenement_fin", "evenement_lieu", "echeance", "lien", "image", "image_alt",
          "statut", "source", "flux")


def next_months(month: Month, count: int = 3) -> list[Month]:
    """The months an item may be moved to: the next ``count`` ones."""
    found, current = [], month
    for _i in range(count):
        current = current.next()
        found.append(current)
    return found
