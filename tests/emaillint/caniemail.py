"""Email-client lint: the HTML and CSS features our email uses, checked against caniemail.

caniemail.com (``features.json``) records, per feature and email client, whether it is
supported: ``y``, ``a`` (partial), ``n``, ``u`` (unknown), with numbered notes (``a #1``).
``lint`` parses a rendered email — every element and attribute, every ``style=""``, every
``<style>`` block (selectors, ``@media`` and other at-rules), and the HTML inside Outlook's
conditional comments — maps each thing to a caniemail key with the explicit tables below,
and reports, for the clients our readers use (``TARGETS``), the *latest* tested version:

- ``unsupported``: ``n`` — a failure, unless the key is in ``EXCEPTIONS`` (``excused``);
- ``partial``: ``a`` or a ``y`` with notes — allowed, reported with the notes' text;
- ``unmapped``: a tag, attribute or property no table below mentions — a failure too, so
  the tables stay complete: map it to a key, or to ``None`` with the reason.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .usage import Scanner, Usage

#: (client family, platform) pairs that must not get an unsupported feature.
TARGETS = (("gmail", "desktop-webmail"), ("gmail", "ios"), ("gmail", "android"),
           ("outlook", "windows"))

#: THE list of tolerated "n" results: caniemail key → why it is acceptable. Keep it short.
#: All four come from MJML's own boilerplate, which we do not patch.
EXCEPTIONS: dict[str, str] = {
    "html-doctype": "MJML starts every document with <!doctype html>. Outlook for Windows "
                    "ignores it (« no impact »): nothing breaks, it is simply not used.",
    "css-at-media": "MJML's column-stacking rules (@media (min-width:480px)) and <style "
                    "media>. Outlook for Windows ignores them and uses MJML's [if mso] tables "
                    "at 600 px; our layout is a single column, so there is nothing to stack.",
    "css-word-spacing": "MJML's reset word-spacing:normal on <body>; ignored by Outlook for "
                        "Windows, whose default is the same value.",
    "css-outline": "MJML's image reset img { outline: none }; Outlook for Windows draws no "
                   "outline around images anyway.",
}


@dataclass(frozen=True)
class Finding:
    """One feature we use, as one target client supports it (or a thing left unmapped)."""

    level: str  # "unsupported" | "excused" | "partial" | "unmapped"
    feature: str  # caniemail key, or what was found for "unmapped"
    client: str = ""  # "gmail.android"
    version: str = ""  # latest tested version
    support: str = ""  # raw caniemail value, e.g. "a #1 #2"
    notes: str = ""
    evidence: str = ""  # what we used, e.g. "style: word-spacing:normal"

    def __str__(self) -> str:
        head = f"[{self.level}] {self.feature}"
        if self.client:
            head += f" — {self.client} {self.version}: {self.support}"
        tail = f" — {self.notes}" if self.notes else ""
        return f"{head} (used: {self.evidence}){tail}"


def load_features(path: str | Path) -> dict[str, Any]:
    """Read caniemail's ``features.json``."""
    return json.loads(Path(path).read_text(encoding="utf-8"))


def lint(html: str, features: dict[str, Any]) -> list[Finding]:
    """Return what ``html`` uses that a target client lacks or supports only in part."""
    usage = Usage(features)
    Scanner(usage).run(html)
    findings = [Finding("unmapped", what, evidence=where)
                for what, where in sorted(usage.unmapped.items())]
    for key, evidence in sorted(usage.used.items()):
        findings += _judge(key, features.get(key), "; ".join(evidence))
    return findings


def failures(findings: list[Finding]) -> list[Finding]:
    """Keep the findings that must fail a check: unsupported and unmapped."""
    return [f for f in findings if f.level in ("unsupported", "unmapped")]


def _judge(key: str, feature: dict[str, Any] | None, evidence: str) -> list[Finding]:
    if feature is None:
        return [Finding("unmapped", key, evidence=f"no such caniemail key ({evidence})")]
    found = []
    for family, platform in TARGETS:
        versions = feature["stats"].get(family, {}).get(platform)
        if not versions:
            continue
        version = max(versions, key=_version_key)
        support = versions[version]
        level = _level(key, support)
        if level:
            notes = " ".join(feature.get("notes_by_num", {}).get(n, "")
                             for n in re.findall(r"#(\d+)", support)).strip()
            found.append(Finding(level, key, f"{family}.{platform}", version, support,
                                 notes, evidence))
    return found


def _level(key: str, support: str) -> str | None:
    if support.startswith("n"):
        return "excused" if key in EXCEPTIONS else "unsupported"
    if support.startswith("a") or "#" in support:
        return "partial"
    return None  # "y" plainly, or "u" (never tested)


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(n) for n in re.findall(r"\d+", version))


