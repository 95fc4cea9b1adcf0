"""Write an item file's text through python-frontmatter: one serialization for every writer.

Drafts from mail and feeds (``write.write_draft``) and the review app's edits
(``pipeline.review_edit``) all write ``---``, the notes for the pivot, the keys in the one
order of ``models.FRONT_MATTER_KEYS`` (unknown keys after, in their order), ``---`` and the
body. python-frontmatter (``Post``, ``dumps`` with its YAML handler) does the writing, so
what it writes reads back with ``frontmatter.load`` as the same metadata and content.

python-frontmatter knows no comments: the notes go in as part of the opening delimiter it
is given (``start_delimiter="---\\n# note"``), so they sit at the top of the front matter,
where the pivot reads them and where YAML ignores them. The metadata is dumped by the
handler with PyYAML's pure ``SafeDumper``, unicode as is and lines never folded. The
handler's ``format`` (``ItemHandler``) only drops the blank line python-frontmatter puts
between the closing ``---`` and the body, and its stripping of the whole text: the bytes
are the ones the store wrote before python-frontmatter did, so a file written again is
the same file (sign-off fingerprints are computed from parsed items anyway, never bytes).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import frontmatter
import yaml
from frontmatter.default_handlers import YAMLHandler

from ..models import FRONT_MATTER_KEYS



class ItemHandler(YAMLHandler):
    """python-frontmatter's YAML handler, formatting the post as the store always wrote it.

    The stock ``format`` adds a blank line before the body and strips the text (a final
    newline, a body's trailing spaces): the body here follows ``---`` at once and the text
    ends with one newline, as every item file already on disk does.
    """

    def format(self, post: frontmatter.Post, **kwargs: object) -> str:
        start = kwargs.pop("start_delimiter", self.START_DELIMITER)
        end = kwargs.pop("end_delimiter", self.END_DELIMITER)
        metadata = self.export(post.metadata, **kwargs)
        return f"{start}\n{metadata}\n{end}\n{post.content}\n"


HANDLER = ItemHandler()
#: How the handler dumps: PyYAML's pure SafeDumper (as ``yaml.safe_dump``), accents as
#: UTF-8, keys in the order given, no folding of long titles.
DUMP_OPTIONS: dict[str, Any] = {"Dumper": yaml.SafeDumper, "allow_unicode": True,
                                "sort_keys": False, "width": 1000}


def ordered(front: dict[str, Any]) -> dict[str, Any]:
    """Return ``front`` with its keys in ``FRONT_MATTER_KEYS`` order, unknown keys after."""
    known = {key: front[key] for key in FRONT_MATTER_KEYS if key in front}
    return known | {key: value for key, value in front.items() if key not in known}


def comment_lines(notes: Iterable[object]) -> str:
    """Return notes as YAML comment lines (« # … »), each on one line."""
    return "".join(f"# {' '.join(str(note).split())}\n" for note in notes)


def yaml_line(key: str, value: Any) -> str:
    """Return one ``key: value`` line as the handler writes it (quoted as YAML needs)."""
    return HANDLER.export({key: value}, **DUMP_OPTIONS)


def item_file_text(front: dict[str, Any], body: str, comments: str = "") -> str:
    """Return an item file's text: ``---``, ``comments`` (« # … » lines), the keys, ``---``,
    the body and a final newline."""
    post = frontmatter.Post(body)
    post.metadata.update(ordered(front))  # (not as keywords: a key may be named « content »)
    start = "---" + ("\n" + comments.rstrip("\n") if comments else "")
    return frontmatter.dumps(post, handler=HANDLER, start_delimiter=start, **DUMP_OPTIONS)
