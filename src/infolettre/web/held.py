"""« Courriels retenus »: the emailed items held for the pivot, one message, and the decision.

The pivot only (action « courriels_retenus »): a relecteur gets 403 before anything is read.
Each view calls one function of ``pipeline.held``; months and slugs of the URL are checked
there before any path is made (anything else is « introuvable », 404). « Accepter » carries
the hash of the file as shown: a file changed meanwhile is refused and nothing is written.
"""

from __future__ import annotations

from flask import (Blueprint, abort, current_app, flash, g, redirect, render_template, request,
                   url_for)
from markupsafe import Markup

from .. import pipeline
from ..content.edit import StaleItem
from ..errors import InfolettreError
from ..i18n import _
from ..models import Month
from .permissions import require

blueprint = Blueprint("held", __name__)
ACTION = "courriels_retenus"


@blueprint.app_context_processor
def _held_count() -> dict:
    """Give the menu the number of held messages (the pivot's menu only asks for it)."""
    def courriels_retenus() -> int:
        try:
            return pipeline.held.held_count(current_app.config["INFOLETTRE_SETTINGS"])
        except (InfolettreError, OSError):
            return 0
    return {"courriels_retenus": courriels_retenus}


def _settings():
    return current_app.config["INFOLETTRE_SETTINGS"]


def _held(month: str, slug: str):
    """Return the held message the URL names (after the permission), else 404."""
    require(ACTION)
    held = pipeline.held.read_held(_settings(), month, slug)
    if held is None:
        abort(404)
    return held


@blueprint.get("/retenus")
def index():
    """List the held messages of the open months (or of ``?numero=AAAA-MM``), with why."""
    require(ACTION)
    numero = request.args.get("numero") or None
    if numero is not None and not Month.is_valid(numero):
        abort(404)
    return render_template("retenus.html.j2", held=pipeline.held.list_held(_settings(), numero),
                           numero=numero)


@blueprint.get("/retenus/<month>/<slug>")
def show(month: str, slug: str):
    """Show the held message: sender, headers, sanitized body, attachments, problems."""
    return _page(_held(month, slug))


def _page(held, *, error: str | None = None, stale: StaleItem | None = None,
          status: int = 200):
    settings = _settings()
    return render_template(
        "retenu.html.j2", held=held, entry=held.entry, error=error, stale=stale,
        organizations=sorted(settings.organizations, key=lambda o: o.nom.casefold()),
        smtp=settings.smtp is not None, territory_name=settings.territory_name,
        body=Markup(pipeline.review_edit.preview_body(held.entry.body))), status


@blueprint.post("/retenus/<month>/<slug>/accepter")
def accept(month: str, slug: str):
    """Make the message a submitted item; maybe give it an organization and register it."""
    held = _held(month, slug)
    organisme = request.form.get("organisme", "").strip() or None
    try:
        done = pipeline.held.accept_held(
            _settings(), month, slug, request.form.get("empreinte", ""), g.user.email,
            organisme=organisme, add_to_registry=bool(request.form.get("ajouter")),
            clock=current_app.config["INFOLETTRE_CLOCK"])
    except StaleItem as stale:
        return _page(pipeline.held.read_held(_settings(), month, slug) or held, stale=stale,
                     status=409)
    except InfolettreError as refused:
        return _page(held, error=refused.message + (" " + refused.fix if refused.fix else ""),
                     status=422)
    flash(_("« {titre} » est acceptée : elle est maintenant soumise{org}.").format(
        titre=held.entry.titre,
        org=_(", pour « {nom} »").format(nom=done.organisme) if done.organisme else ""))
    if done.registry:
        flash(done.registry[:1].upper() + done.registry[1:])
    return redirect(url_for("held.index"))


@blueprint.post("/retenus/<month>/<slug>/rejeter")
def reject(month: str, slug: str):
    """Refuse the message with a reason; write to its sender only when asked."""
    held = _held(month, slug)
    reason = request.form.get("raison", "").strip()
    if not reason:
        return _page(held, error=_("Indiquez la raison du rejet."), status=400)
    try:
        outcome = pipeline.held.reject_held(
            _settings(), month, slug, g.user.email, reason,
            notify=bool(request.form.get("prevenir")),
            clock=current_app.config["INFOLETTRE_CLOCK"])
    except InfolettreError as refused:
        return _page(held, error=refused.message + (" " + refused.fix if refused.fix else ""),
                     status=422)
    flash(_("« {titre} » est rejetée.").format(titre=held.entry.titre))
    if outcome:
        flash(outcome[:1].upper() + outcome[1:])
    return redirect(url_for("held.index"))
