"""Where a summary stops: at the end of a sentence, else between two words, never mid-phrase.

A summary stands for a longer text the reader can open (a link always follows it). Cut in
the middle of a phrase, it reads as an error; so the cut ends at the last sentence that ends
in the allowed range — from a third of the budget to the whole of it, so the summary still
says something — and only when none does, at a word boundary, without a dangling « de » or « et ».
Either way « … » (after a no-break space: it never starts a line alone) tells the text goes
on. Pure text in, text out: the callers (``text.excerpt_markdown``) keep Markdown apart.
"""

from __future__ import annotations

import re

#: What ends a shortened text: the reader sees the text goes on (the link follows).
ELLIPSIS = "\u00a0…"
#: A word ending a sentence: « . ! ? … », then maybe closing quotes or brackets.
_SENTENCE_END = re.compile(r"[.!?…][»”\"’')\]\u00a0]*$")
#: Abbreviations whose period does not end a sentence (« M. Tremblay », « p. ex. »).
_ABBREVIATIONS = {"m", "mm", "mme", "mmes", "mlle", "dr", "dre", "st", "ste", "ex", "p", "no",
                  "art", "etc", "av", "boul", "env", "janv", "févr", "avr", "juill", "sept",
                  "oct", "nov", "déc", "tél", "c.-à-d", "cf", "vol", "min", "max", "éd"}
#: Little words a cut must not end on: « … un atelier de » reads as broken.
_DANGLING = {"a", "à", "au", "aux", "avec", "ce", "ces", "cette", "d", "dans", "de", "des", "du",
             "en", "et", "l", "la", "le", "les", "leur", "leurs", "mais", "ni", "notre", "nos",
             "ou", "par", "pour", "qu", "que", "qui", "sa", "sans", "se", "ses", "son", "sur",
             "un", "une", "vers", "votre", "vos", "—", "–", "-", "«"}


def ends_sentence(word: str) -> bool:
    """Tell whether ``word`` (a whitespace-free token) ends a sentence."""
    if not _SENTENCE_END.search(word):
        return False
    bare = word.rstrip(".!?…»”\"’')]\u00a0").lstrip("«“\"(").casefold()
    if not bare:  # « ? » or « ! » after a (no-break) space, as French writes them
        return bool(re.search(r"[.!?…]", word))
    if word.rstrip("»”\"’')]\u00a0").endswith("."):
        if bare in _ABBREVIATIONS or (len(bare) == 1 and bare.isalpha()) or bare.isdigit():
            return False
    return bool(bare)


def cut_words(text: str, words: int) -> str:
    """Return ``text`` whole when it has at most ``words`` words, else its cut summary.

    The summary ends with the last sentence ending between ``words // 3`` and ``words``
    words; without one, after the ``words``-th word (dropping a dangling little word and a
    trailing « , ; : »); then « … ».
    """
    parts = text.split()
    if len(parts) <= words:
        return " ".join(parts)
    for end in range(words, max(1, words // 3) - 1, -1):
        if ends_sentence(parts[end - 1]):
            return " ".join(parts[:end]) + ELLIPSIS
    kept = parts[:words]
    while len(kept) > 1 and _bare(kept[-1]) in _DANGLING:
        kept.pop()
    return " ".join(kept).rstrip(",;:—–-\u00a0 ") + ELLIPSIS


def _bare(word: str) -> str:
    """The word without its trailing punctuation, elided letter kept (« l’ » → « l »)."""
    return word.rstrip(",;:").rstrip("'’").casefold()
