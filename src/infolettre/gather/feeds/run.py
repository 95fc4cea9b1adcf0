"""``infolettre gather feeds``: every watched feed, fetched at once, its new entries as items.

The run, top to bottom:

1. fetch every feed concurrently and politely (``fetch``), conditionally when we have its
   validators: an unchanged feed answers 304 and costs nothing more; parse each answer
   (``parse``), in a worker process as it arrives when there are many (``read``);
2. keep the entries not seen yet and not older than the
   previous issue's cutoff (``previous_cutoff``), newest first, at most ``entrees_max``;
3. fetch the images of those entries (one more concurrent round);
4. in the order of ``[[flux]]``, write each entry as an item (``convert`` → ``store.
   write_draft``) unless it is the same news as an item already there (``dedupe``): then
   the original gets a note naming the other source; record the entry as seen. Items go
   to the earliest issue not signed off yet (``months.open_issue``); an event or deadline
   already past when it comes out is noted in the item and in the feed's warnings (``late``);
5. record each feed's outcome: its validators (only now, so a crash means a full fetch next
   time, never a lost entry), its success, or its failure in a row (the pivot is warned
   from ``alerte_apres`` failures on).

A failing feed never stops the others; every failure is in the report, in French.
"""

from __future__ import annotations

import io
import posixpath
import unicodedata
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from urllib.parse import unquote, urlsplit

from ... import __version__
from ...clock import SYSTEM_CLOCK, Clock
from ...content.frontmatter import read_document
from ...i18n import _
from ...models import Month
from ...state.issues import open_issue, previous_cutoff
from ...dates import long_date
from ...state.runlock import holds_lock
from ...settings import FeedSource, Settings
from ...state import connect, state_file
from ...content import add_note, write_draft
from ..late import late_dates
from .convert import entry_to_draft, with_image
from .dedupe import DuplicateIndex, Known, why_same
from .fetch import fetch_many
from .model import IMAGE_ACCEPT, FeedEntry, Fetched, FetchPolicy, FetchRequest, ParsedFeed
from .read import read_feeds
from .store import FeedStore

IMAGE_MAX_BYTES = 5 * 1024 * 1024
IMAGE_TYPES = {"image/jpeg": ".jpg", "image/png": ".png", "image/gif": ".gif",
               "image/webp": ".webp"}


@dataclass
class FeedOutcome:
    """What one feed gave this run (and, on failure, how many runs in a row failed)."""

    feed: FeedSource
    status: str = "nouveau"  # nouveau | inchange | erreur
    error: str = ""
    failures: int = 0  # consecutive, this one included
    entries: int = 0  # in the answer
    written: list[Path] = field(default_factory=list)
    duplicates: list[tuple[str, Path, str]] = field(default_factory=list)  # titre, original, why
    old: int = 0  # older than the cutoff
    seen: int = 0
    left: int = 0  # over entrees_max: for a later run
    warnings: list[str] = field(default_factory=list)
    elapsed: float = 0.0


@dataclass
class FeedsReport:
    """The whole run: one outcome per feed, in the order of ``[[flux]]``."""

    month: str
    cutoff: datetime
    outcomes: list[FeedOutcome] = field(default_factory=list)
    alert_after: int = 3
    timezone: tzinfo = UTC  # the bulletin's, for dates shown to the pivot

    @property
    def failed(self) -> list[FeedOutcome]:
        return [o for o in self.outcomes if o.status == "erreur"]

    @property
    def alerts(self) -> list[FeedOutcome]:
        """Feeds failing for ``alert_after`` runs in a row: the pivot must look at them."""
        return [o for o in self.failed if o.failures >= self.alert_after]

    def summary(self) -> str:
        """Say the counts in one French sentence."""
        return _("Flux : {feeds} suivi(s), {unchanged} inchangé(s), {failed} en échec ; "
                 "{items} nouvelle(s) écrite(s) pour le numéro {month}, {dup} doublon(s) "
                 "reconnu(s), {old} entrée(s) antérieure(s) au {cutoff} ignorée(s).").format(
            feeds=len(self.outcomes),
            unchanged=sum(o.status == "inchange" for o in self.outcomes),
            failed=len(self.failed), items=sum(len(o.written) for o in self.outcomes),
            dup=sum(len(o.duplicates) for o in self.outcomes), month=self.month,
            old=sum(o.old for o in self.outcomes),
            cutoff=long_date(self.cutoff.astimezone(self.timezone)))


def fetch_policy(settings: Settings) -> FetchPolicy:
    """Build the fetch policy from ``[veille]``; the User-Agent names us and a contact."""
    w = settings.watch
    site = f"; +{settings.identity.site}" if settings.identity.site else ""
    agent = f"infolettre/{__version__} ({settings.identity.nom}{site}; {w.contact})"
    return FetchPolicy(
        user_agent=ascii_header(agent),
        max_concurrent=w.simultanes, per_host=w.par_hote, connect_timeout=w.delai_connexion_s,
        read_timeout=w.delai_lecture_s, total_timeout=w.delai_total_s,
        max_bytes=w.taille_max_mo * 1024 * 1024, max_redirects=w.redirections_max)


def ascii_header(text: str) -> str:
    """Return ``text`` fit for an HTTP header (ASCII only: « régional » → « regional »)."""
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return " ".join(plain.split())


@holds_lock("gather feeds")  # one run at a time per data folder (runlock)
def gather_feeds(settings: Settings, *, clock: Clock = SYSTEM_CLOCK,
                 progress: Callable[[FeedOutcome], None] | None = None,
                 fetch: Callable[..., list[Fetched]] = fetch_many) -> FeedsReport:
    """Run the whole feed watch once; see the module docstring for the steps."""
    now = clock.now()
    with closing(connect(state_file(settings.paths.donnees))) as conn:
        month = open_issue(conn, now, settings)
        feeds = FeedStore(conn, clock=clock)
        report = FeedsReport(month, previous_cutoff(conn, month, settings),
                             alert_after=settings.watch.alerte_apres,
                             timezone=settings.identity.timezone)
        policy = fetch_policy(settings)
        answers = read_feeds([FetchRequest(f.url, feeds.validators(f.url))
                              for f in settings.feeds], policy, fetch=fetch)
        plans = [_plan(feed, answer, parsed, feeds, report.cutoff, settings)
                 for feed, (answer, parsed) in zip(settings.feeds, answers, strict=True)]
        images = _fetch_images(plans, policy, fetch,
                               public_only=not settings.watch.images_reseau_local)
        # the issue's items are read only when there is something new (304s cost nothing)
        index = existing_items(settings, month) if any(p.entries for p in plans) \
            else DuplicateIndex()
        for plan in plans:
            try:
                _write(plan, settings, month, now, index, images, feeds)
            except Exception as exc:  # noqa: BLE001 - one feed's failure never stops the others
                _failed_writing(plan.outcome, exc)
            _record(plan, feeds)
            report.outcomes.append(plan.outcome)
            if progress is not None:
                progress(plan.outcome)
    return report


@dataclass
class _Plan:
    """One feed between parsing and writing: its answer, and the entries to write."""

    outcome: FeedOutcome
    answer: Fetched
    parsed: ParsedFeed | None = None
    entries: list[FeedEntry] = field(default_factory=list)


def _plan(feed: FeedSource, answer: Fetched, parsed: ParsedFeed | None, feeds: FeedStore,
          cutoff: datetime, settings: Settings) -> _Plan:
    """Parse one answer and choose its entries: unseen, recent enough, newest first."""
    plan = _Plan(FeedOutcome(feed, elapsed=answer.elapsed), answer)
    if answer.status == "not_modified":
        plan.outcome.status = "inchange"
        return plan
    if not answer.ok:
        plan.outcome.status, plan.outcome.error = "erreur", answer.error
        return plan
    plan.parsed = parsed
    if parsed is None or parsed.problem:
        plan.outcome.status, plan.outcome.error = "erreur", parsed.problem if parsed else "?"
        return plan
    plan.outcome.warnings = list(plan.parsed.warnings)
    plan.outcome.entries = len(plan.parsed.entries)
    fresh, keys = [], set()
    for entry in plan.parsed.entries:
        if entry.key in keys:  # the same entry twice in one answer
            continue
        keys.add(entry.key)
        if feeds.seen(feed.url, entry.key):
            plan.outcome.seen += 1
        elif entry.publie is not None and entry.publie < cutoff:
            plan.outcome.old += 1
        else:
            fresh.append(entry)
    newest = datetime.max.replace(tzinfo=UTC)
    fresh.sort(key=lambda e: e.publie or newest, reverse=True)
    limit = settings.watch.entrees_max
    plan.entries, plan.outcome.left = fresh[:limit], max(0, len(fresh) - limit)
    return plan


def _fetch_images(plans: list[_Plan], policy: FetchPolicy,
                  fetch: Callable[..., list[Fetched]], *,
                  public_only: bool) -> dict[str, Fetched]:
    """Fetch every image the chosen entries point at, concurrently, by URL.

    The URLs come from the feeds, not from the pivot: ``public_only`` keeps them off the
    local network (``[veille] images_reseau_local`` lifts it).
    """
    urls = list(dict.fromkeys(e.image_url for p in plans for e in p.entries if e.image_url))
    if not urls:
        return {}
    answers = fetch([FetchRequest(u, accept=IMAGE_ACCEPT, max_bytes=IMAGE_MAX_BYTES,
                                  public_only=public_only) for u in urls], policy)
    return dict(zip(urls, answers, strict=True))


def existing_items(settings: Settings, month: str) -> DuplicateIndex:
    """Index the items already in the issue (and the links of the one before)."""
    index = DuplicateIndex()
    for folder_month, same in ((Month(month).previous(), False), (month, True)):
        folder = settings.paths.contenu / folder_month
        if not folder.is_dir():
            continue
        for path in sorted(folder.glob("*.md")):
            values = read_document(path).values
            index.add(Known(path, str(values.get("titre") or ""), _text(values.get("lien")),
                            _source_name(values), str(values.get("flux") or "")),
                      same_month=same)
    return index


def _text(value) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


def _source_name(values: dict) -> str:
    if values.get("flux"):
        return _("le flux « {name} »").format(name=values["flux"])
    return {"courriel": _("un courriel"), "rss": _("un flux")}.get(
        str(values.get("source") or ""), _("un fichier"))


def _write(plan: _Plan, settings: Settings, month: str, now: datetime, index: DuplicateIndex,
           images: dict[str, Fetched], feeds: FeedStore) -> None:
    """Write each chosen entry as an item, or note it on the item it duplicates."""
    feed = plan.outcome.feed
    for entry in plan.entries:
        found = index.find(entry.titre, entry.lien, feed=feed.nom)
        if found is not None:
            known, why = found
            _note_duplicate(known, entry, feed, why)
            plan.outcome.duplicates.append((entry.titre, known.path, why))
            feeds.remember(feed.url, entry.key, "doublon", str(known.path))
            continue
        draft = entry_to_draft(entry, feed, settings, month=month, fetched_at=now)
        if entry.image_url:
            draft = _add_image(draft, entry, images.get(entry.image_url))
        late = late_dates(draft.front_matter, month,
                          now.astimezone(settings.identity.timezone).date())
        draft.notes.extend(d.note() for d in late)
        path = write_draft(settings, month, draft)
        plan.outcome.warnings.extend(
            _("« {title} » ({file}) : {late}.").format(
                title=entry.titre, file=f"{month}/{path.name}", late=d.fact()) for d in late)
        index.add(Known(path, entry.titre, entry.lien, _("le flux « {name} »").format(
            name=feed.nom), feed.nom))
        plan.outcome.written.append(path)
        feeds.remember(feed.url, entry.key, "item", str(path), month=month, lien=entry.lien,
                       titre=entry.titre)


def _failed_writing(outcome: FeedOutcome, exc: Exception) -> None:
    """Turn an error while writing a feed's items into that feed's failure.

    The items written before it stay (and are recorded as seen); the validators are not
    saved, so the next run reads the whole feed again and writes what is missing.
    """
    detail = getattr(exc, "message", None) or f"{type(exc).__name__}: {exc}"
    outcome.status = "erreur"
    outcome.error = _("échec de l'écriture des nouvelles ({detail}) ; {n} écrite(s) avant "
                      "l'erreur. Les autres seront reprises au prochain passage, une fois le "
                      "problème corrigé.").format(detail=detail, n=len(outcome.written))


def _note_duplicate(known: Known, entry: FeedEntry, feed: FeedSource, why: str) -> None:
    """Tell the pivot, in the original's file, that another source brought the same news."""
    how = why_same(why)
    note = _("Aussi reçu du flux « {feed} » ({how}) : « {title} »{link}.").format(
        feed=feed.nom, how=how, title=entry.titre,
        link=f" — {entry.lien}" if entry.lien else "")
    add_note(known.path, note)


def _add_image(draft, entry: FeedEntry, answer: Fetched | None):
    """Attach the entry's image when it arrived and is one; otherwise say why in a note."""
    kind = (answer.headers.get("content-type", "") if answer else "").split(";")[0].strip()
    if answer is None or not answer.ok:
        reason = answer.error if answer else _("non demandée")
    elif not _is_image(answer.body):
        reason = _("le fichier reçu n'est pas une image ({kind})").format(kind=kind or "?")
    else:
        return with_image(draft, _image_name(answer, kind), answer.body, kind or "image/jpeg",
                          entry.image_alt)
    draft.notes.append(_("image du flux non récupérée ({url}) : {reason}").format(
        url=entry.image_url, reason=reason))
    return draft


def _is_image(data: bytes) -> bool:
    """Tell whether Pillow recognises the bytes as an image (never trust the type header)."""
    from PIL import Image

    try:
        with Image.open(io.BytesIO(data)) as image:
            image.verify()
        return True
    except Exception:  # noqa: BLE001 - anything Pillow cannot read is not an image for us
        return False


def _image_name(answer: Fetched, kind: str) -> str:
    """Name an image file after its URL (made safe by the store), with a matching suffix."""
    base = posixpath.basename(unquote(urlsplit(answer.final_url or answer.url).path)) or "image"
    stem, dot, ext = base.rpartition(".")
    wanted = IMAGE_TYPES.get(kind)
    if wanted and (not dot or f".{ext.lower()}" not in (wanted, ".jpeg")):
        base = f"{base}{wanted}"
    return base


def _record(plan: _Plan, feeds: FeedStore) -> None:
    """Save the feed's outcome: validators and success, or one more failure in a row."""
    feed, outcome = plan.outcome.feed, plan.outcome
    if outcome.status == "erreur":
        outcome.failures = feeds.record_failure(feed.url, feed.nom, outcome.error)
        return
    if outcome.status == "inchange":
        feeds.record_success(feed.url, feed.nom, validators=None, entries=None, written=0)
        return
    feeds.record_success(feed.url, feed.nom, validators=plan.answer.validators,
                         entries=outcome.entries, written=len(outcome.written))
    if outcome.left:
        feeds.forget_validators(feed.url)
