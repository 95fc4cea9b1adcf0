"""RSS/Atom watch: the feeds of tables, municipalities and partners, proposed for review.

``run.gather_feeds`` is the stage; ``fetch`` (HTTP), ``parse`` (feedparser + sanitizing),
``convert`` (entry → draft), ``dedupe`` (same news, other source) and ``store`` (what is
remembered between runs) are its parts, each usable alone (nothing is imported here, so
using one part does not load the others).
"""
