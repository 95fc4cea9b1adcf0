"""Fixtures of the review app's item pages: a project whose content/ is a copy of the
sample (the tests change items), two accounts, and a signed-in client."""

from __future__ import annotations

import dataclasses
import re
import shutil
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from infolettre import pipeline
from infolettre.clock import FixedClock
from infolettre.web import create_app

PASSWORD = "une longue phrase de passe"
NOW = datetime(2026, 12, 2, 9, 0, tzinfo=ZoneInfo("America/Toronto"))


@pytest.fixture
def clock():
    return FixedClock(NOW)


@pytest.fixture
def own(sample_here, tmp_path: Path):
    """The sample project with its own copy of content/ (tests approve, edit, move)."""
    content = tmp_path / "content"
    shutil.copytree(sample_here.paths.contenu, content, symlinks=True)
    return dataclasses.replace(sample_here, paths=dataclasses.replace(sample_here.paths,
                                                                      contenu=content))


@pytest.fixture
def app(own, clock):
    pipeline.user_add(own, "pivot@example.org", PASSWORD, clock=clock)
    pipeline.user_add(own, "releve@example.org", PASSWORD, role="relecteur",
                      territoire="montmagny", clock=clock)
    return create_app(own, clock=clock, testing=True)


def token_of(page: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def signed_in(app, email="pivot@example.org"):
    client = app.test_client()
    page = client.get("/connexion").text
    client.post("/connexion", data={"courriel": email, "mot_de_passe": PASSWORD,
                                    "csrf_token": token_of(page)})
    return client
