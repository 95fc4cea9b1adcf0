"""Change an item in place: replace its text if nobody changed it since, move it to a month.

What the review app writes into ``content/``, through the store like every other writer.
A reviewer's form carries the hash of the file as it was read (``file_hash``); saving
re-reads the file and writes only if it is still the same (``replace_item``), durably
(temporary file, fsync, rename): a form made stale by a feed note, another reviewer or a
hand edit is refused (``StaleItem``) and loses nothing. The callers hold the run lock.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

from ..errors import ContentError
from ..fsutil import fsync_dir, write_durably
from ..i18n import _
from ..settings import Settings
from .frontmatter_write import yaml_line
from .paths import inside_content, month_folder

#: A slug as the store writes them (``names.safe_slug``): what a URL may name.
SLUG = re.compile(r"[a-z0-9][a-z0-9-]{0,120}")
_HEADER = re.compile(r"\A(\ufeff?-{3,}[ \t]*\r?\n)(.*?)(^-{3,}[ \t]*\r?$)", re.S | re.M)
_TOML_HEADER = re.compile(r"\A(\ufeff?\+{3,}[ \t]*\r?\n)(.*?)(^\+{3,}[ \t]*\r?$)", re.S | re.M)


class StaleItem(ContentError):
    """The file changed since the form was read: nothing written; ``current`` is its text."""

    def __init__(self, path: Path, current: bytes):
        super().__init__(_("la nouvelle « {name} » a été modifiée depuis que vous l'avez "
                           "ouverte (une note de flux, une autre personne ou une retouche à "
                           "la main) : rien n'a été enregistré.").format(name=path.name),
                         where=str(path),
                         fix=_("Votre version est gardée dans le formulaire ; comparez-la "
                               "avec le texte actuel, puis enregistrez de nouveau."))
        #: The file as it is now, and its hash: a form shown again with them may be saved
        #: over it knowingly.
        self.current = current.decode("utf-8", "replace")
        self.current_hash = file_hash(current)


def file_hash(data: bytes) -> str:
    """Return the sha256 of a file's bytes, the version a form was made from."""
    return hashlib.sha256(data).hexdigest()


def item_path(settings: Settings, month: str, slug: str) -> Path | None:
    """Return ``content/<month>/<slug>.md`` if it names a real item file there, else None.

    The slug is checked against the store's own form of slugs before any path is made, and
    the file must be a real file inside ``content/`` (no link): a URL never reaches further.
    """
    if not isinstance(slug, str) or not SLUG.fullmatch(slug):
        return None
    folder = month_folder(settings, month)
    path = folder / f"{slug}.md"
    if not folder.is_dir() or not inside_content(folder, settings) \
            or not inside_content(path, settings) or not path.is_file():
        return None
    return path


def read_bytes(path: Path) -> bytes:
    """Read an item file, refusing a symbolic link (never followed)."""
    if path.is_symlink():
        raise ContentError(_("« {name} » est un lien symbolique : il n'est pas lu.")
                           .format(name=path.name), where=str(path))
    return path.read_bytes()


def replace_item(path: Path, new_text: str, expected_hash: str) -> str:
    """Write ``new_text`` over the item if its bytes still hash to ``expected_hash``.

    Returns the new hash. ``StaleItem`` (with the file's current text) when it changed.
    """
    current = read_bytes(path)
    if file_hash(current) != expected_hash:
        raise StaleItem(path, current)
    data = new_text.encode("utf-8")
    write_durably(path, lambda handle: handle.write(data))
    return file_hash(data)


def with_front_values(text: str, values: dict[str, str], path: Path) -> str:
    """Return ``text`` with plain ``key: value`` lines of its front matter set (replaced, or
    added at its end), the notes and the rest unchanged; values quoted as YAML needs.

    Lines are replaced in place rather than the header re-dumped: a delegate's layout and
    comments stay; each line is written by python-frontmatter's YAML handler
    (``frontmatter_write.yaml_line``), as the whole files are. A TOML header (``+++``,
    Hugo's) gets ``key = "value"`` lines, before its first table."""
    match = _HEADER.match(text)
    if match is None:
        toml = _TOML_HEADER.match(text)
        if toml is None:
            raise ContentError(_("en-tête YAML absent ou non fermé."), where=str(path),
                               fix=_("Corrigez le fichier avec « Modifier »."))
        return text[:toml.start(2)] + _toml_values(toml.group(2), values) + text[toml.end(2):]
    header = match.group(2)
    for key, value in values.items():
        new_line = yaml_line(key, value)
        line = re.compile(rf"^{re.escape(key)}[ \t]*:.*$", re.M)
        if line.search(header):
            header = line.sub(lambda _m, new_line=new_line: new_line, header, count=1)
        else:
            header += ("" if header.endswith("\n") or not header else "\n") + new_line + "\n"
    return text[:match.start(2)] + header + text[match.end(2):]


def _toml_values(header: str, values: dict[str, str]) -> str:
    """Set top-level ``key = "value"`` lines of a TOML header (before its first table)."""
    table = re.search(r"^[ \t]*\[", header, re.M)
    top, tables = (header[:table.start()], header[table.start():]) if table else (header, "")
    for key, value in values.items():
        new_line = f"{key} = {json.dumps(value, ensure_ascii=False)}"  # a TOML basic string
        line = re.compile(rf"^{re.escape(key)}[ \t]*=.*$", re.M)
        if line.search(top):
            top = line.sub(lambda _m, new_line=new_line: new_line, top, count=1)
        else:  # after the last key, before the blank lines that set off a table
            kept = top.rstrip("\n")
            top = (kept + "\n" if kept else "") + new_line + "\n" + top[len(kept) + 1:]
    return top + tables


def set_front_value(path: Path, key: str, value: str) -> bool:
    """Set one plain ``key: value`` line of the front matter, the rest of the file unchanged.

    Returns False (nothing written) when the value is already that. Used for ``statut``.
    """
    raw = read_bytes(path)
    text = raw.decode("utf-8")
    updated = with_front_values(text, {key: value}, path)
    if updated == text:
        return False
    replace_item(path, updated, file_hash(raw))
    return True


def move_item(settings: Settings, path: Path, month: str, image: str | None = None, *,
              image_shared: bool = False) -> Path:
    """Move an item (and its image beside it) to ``content/<month>/``; never overwrite.

    The image goes first, then the ``.md``: a crash in between leaves the item where it was.
    An image another item of the month also shows (``image_shared``) is copied, not moved.
    """
    folder = month_folder(settings, month)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / path.name
    if target.exists() or (image and (folder / image).exists()):
        raise ContentError(_("le numéro {month} a déjà un fichier « {name} ».").format(
            month=month, name=image if image and (folder / image).exists() else path.name),
            where=str(target), fix=_("Renommez l'un des deux fichiers, puis recommencez."))
    if image and inside_content(path.parent / image, settings) \
            and (path.parent / image).is_file():
        if image_shared:
            data = (path.parent / image).read_bytes()
            write_durably(folder / image, lambda handle: handle.write(data), no_clobber=True)
        else:
            (path.parent / image).rename(folder / image)
    path.rename(target)
    fsync_dir(folder)
    fsync_dir(path.parent)
    return target
