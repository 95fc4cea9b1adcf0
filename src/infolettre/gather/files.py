"""Gather from ``content/<YYYY-MM>/*.md``: the files the pivot and delegates write by hand."""

from __future__ import annotations

from ..content import load_month
from ..errors import Problem
from ..models import Item
from ..settings import Settings


def gather_files(settings: Settings, month: str) -> tuple[list[Item], list[Problem]]:
    """Read the month's content files; bad files become Problems, the others Items."""
    return load_month(settings, month)
