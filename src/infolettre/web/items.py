"""« Les nouvelles »: the items of a month, one item's page, and « Modifier ».

Each view checks the permission (a relecteur sees and acts on the items of their territory
only), calls one function of ``pipeline.review`` (or ``pipeline.review_edit``) and renders or
redirects with a French message. Months and slugs from the URL are checked before any path
is made (``models.Month``, the store's slug form); anything else is « introuvable » (404).
"""

from __future__ import annotations

from flask import (Blueprint, abort, current_app, flash, g, redirect, render_template, request,
                   url_for)
from markupsafe import Markup

from .. import pipeline
from ..content import latest_month
from ..content.edit import StaleItem
from ..i18n import _
from ..models import Month, Status
from ..pipeline.review import Filters
from ..pipeline.review_edit import InvalidItem
from .item_forms import FIELDS, edit_form, next_months
from .permissions import can, require

blueprint = Blueprint("items", __name__)


def _context():
    app = current_app.config
    return app["INFOLETTRE_SETTINGS"], app["INFOLETTRE_CLOCK"]


def _entry(month: str, slug: str, action: str = "voir_nouvelle"):
    """Return the item the URL names, 404 when there is none, 403 when not the user's."""
    settings, _clock = _context()
    entry = pipeline.review.read_entry(settings, month, slug)
    if entry is None:
        abort(404)
    require(action, territoire=entry.territoire)
    return entry


@blueprint.get("/nouvelles")
def index():
    """List the month's items by section, filtered by the plain GET form."""
    settings, _clock = _context()
    require("voir_nouvelle", territoire=g.user.territoire)
    numero = request.args.get("numero") or latest_month(settings)
    if not Month.is_valid(numero):
        abort(404)
    filters = Filters(**{k: request.args.get(k) or None
                         for k in ("statut", "territoire", "rubrique", "source")})
    only = None if g.user.is_pivot else g.user.territoire
    sections = pipeline.review.list_items(settings, numero, filters, only_territory=only)
    ready = [e for _key, _title, entries in sections for e in entries if e.ready]
    return render_template("nouvelles.html.j2", month=Month(numero), sections=sections,
                           ready=ready,
                           filters=filters, settings=settings, statuses=list(Status),
                           sources=("courriel", "flux", "fichier"))


@blueprint.post("/nouvelles/<month>/approuver")
def approve_selection(month: str):
    """Approve every item checked in the list (one POST), each checked for permission."""
    settings, clock = _context()
    if not Month.is_valid(month):
        abort(404)
    slugs = request.form.getlist("nouvelles")
    entries = [_entry(month, slug, "approuver_nouvelle") for slug in slugs]
    if request.form.get("sans_probleme"):  # only what is still clean now, not when listed
        slugs = [e.slug for e in entries if e.ready]
        if len(slugs) < len(entries):
            flash(_("{n} nouvelle(s) de la liste ont changé depuis (statut ou problème) : "
                    "elles n'ont pas été approuvées, vérifiez-les.").format(
                        n=len(entries) - len(slugs)))
    if not slugs:
        flash(_("Aucune nouvelle cochée : rien n'a été approuvé."))
        return redirect(url_for("items.index", numero=month))
    done = pipeline.review.approve_items(settings, month, slugs, g.user.email, clock=clock)
    flash(_("{n} nouvelle(s) approuvée(s).").format(n=len(done)))
    return redirect(url_for("items.index", numero=month))


@blueprint.get("/nouvelles/<month>/<slug>")
def show(month: str, slug: str):
    """Show one item as readers will see it, its fields, problems and history."""
    settings, _clock = _context()
    entry = _entry(month, slug)
    history = pipeline.review.item_history(settings, month, slug)
    return render_template("nouvelle.html.j2", entry=entry, history=history,
                           months=next_months(Month(month)),
                           can_move=can(g.user, "deplacer_nouvelle"),
                           body=Markup(pipeline.review_edit.preview_body(entry.body)))


@blueprint.post("/nouvelles/<month>/<slug>/approuver")
def approve(month: str, slug: str):
    """Approve one item."""
    settings, clock = _context()
    entry = _entry(month, slug, "approuver_nouvelle")
    pipeline.review.approve_items(settings, month, [slug], g.user.email, clock=clock)
    flash(_("« {titre} » est approuvée.").format(titre=entry.titre))
    return redirect(request.form.get("retour") == "liste"
                    and url_for("items.index", numero=month)
                    or url_for("items.show", month=month, slug=slug))


@blueprint.route("/nouvelles/<month>/<slug>/refuser", methods=["GET", "POST"])
def refuse(month: str, slug: str):
    """Ask for the reason of a refusal (GET), then refuse and maybe tell the sender."""
    settings, clock = _context()
    entry = _entry(month, slug, "approuver_nouvelle")
    error = None
    if request.method == "POST":
        reason = request.form.get("raison", "").strip()
        if reason:
            outcome = pipeline.review.refuse_item(
                settings, month, slug, g.user.email, reason,
                notify=bool(request.form.get("prevenir")), clock=clock)
            flash(_("« {titre} » est refusée.").format(titre=entry.titre))
            if outcome:
                flash(outcome)
            return redirect(url_for("items.show", month=month, slug=slug))
        error = _("Indiquez la raison du refus.")
    return render_template("refuser.html.j2", entry=entry, error=error,
                           smtp=settings.smtp is not None), (400 if error else 200)


@blueprint.post("/nouvelles/<month>/<slug>/deplacer")
def move(month: str, slug: str):
    """Move the item to another month's folder (the pivot's action)."""
    settings, clock = _context()
    entry = _entry(month, slug, "deplacer_nouvelle")
    target = request.form.get("vers", "")
    if target not in next_months(Month(month)):
        abort(400)
    pipeline.review.move_item(settings, month, slug, target, g.user.email, clock=clock)
    flash(_("« {titre} » est déplacée au numéro de {mois}.").format(titre=entry.titre,
                                                                    mois=target))
    return redirect(url_for("items.show", month=target, slug=slug))


@blueprint.route("/nouvelles/<month>/<slug>/modifier", methods=["GET", "POST"])
def edit(month: str, slug: str):
    """Show the form; preview the body, or save it if the file did not change meanwhile."""
    settings, clock = _context()
    entry = _entry(month, slug, "modifier_nouvelle")
    if request.method == "GET":
        data = {**pipeline.review_edit.form_values(settings, entry.values), "corps": entry.body,
                "empreinte": entry.hash}
        return _edit_page(entry, edit_form(settings, data=data))
    back_to_list = request.args.get("retour") == "liste"
    form = edit_form(settings, formdata=request.form)
    fields = {name: form[name].data or "" for name in FIELDS}
    if "previsualiser" in request.form:
        return _edit_page(entry, form, preview=Markup(
            pipeline.review_edit.preview_body(form.corps.data or "")))
    require("modifier_nouvelle", territoire=fields["territoire"])  # not given away
    try:
        edited = pipeline.review_edit.edit_item(settings, month, slug, fields,
                                                form.corps.data or "", form.empreinte.data or "",
                                                g.user.email, clock=clock)
    except StaleItem as stale:
        form.empreinte.data = stale.current_hash  # saving again, knowingly, overwrites it
        return _edit_page(entry, form, stale=stale), 409
    except InvalidItem as invalid:
        return _edit_page(entry, form, errors=invalid.errors), 422
    flash(_("Nouvelle enregistrée ({fields}).").format(fields=", ".join(edited.changed))
          if edited.changed else _("Rien n'a changé."))
    return redirect(url_for("items.index", numero=month, _anchor=f"n-{slug}") if back_to_list
                    else url_for("items.show", month=month, slug=slug))


def _edit_page(entry, form, *, preview=None, stale=None, errors=None):
    retour = "liste" if request.args.get("retour") == "liste" else None
    return render_template("modifier.html.j2", entry=entry, form=form, fields=FIELDS,
                           preview=preview, stale=stale, errors=errors or {}, retour=retour)
