"""Gather stage: every source (files, mail, feeds) yields the same ``Item``."""
