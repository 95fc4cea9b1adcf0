"""Shared fixtures of the tests of « Approuver le numéro » and « Envoi »: the sample issue
with its own content/ and data/ in tmp_path, the app over it, signed-in clients."""

from __future__ import annotations

import dataclasses
import shutil

import pytest

from infolettre import pipeline
from infolettre.web import create_app

from .test_web import PASSWORD, clock, sign_in, token_of  # noqa: F401 - re-exported

MONTH = "2026-12"
#: Month addresses that must never reach the file system.
TRICKS = ["..", "%2e%2e", "%2e%2e%2f%2e%2e%2fetc", "%2fetc%2fpasswd", "2026-12%00",
          "2026-13", "2026-1", "..%2f2026-12"]


@pytest.fixture
def here(sample_here, tmp_path):
    """The sample settings with a copy of content/ (tests change items) in tmp_path."""
    content = tmp_path / "content"
    shutil.copytree(sample_here.paths.contenu, content)
    return dataclasses.replace(sample_here, paths=dataclasses.replace(sample_here.paths,
                                                                       contenu=content))


@pytest.fixture
def web(here, clock):  # noqa: F811 - the clock fixture of test_web
    """The app over ``here``, with a pivot and a relecteur (of montmagny)."""
    pipeline.user_add(here, "pivot@example.org", PASSWORD, clock=clock)
    pipeline.user_add(here, "releve@example.org", PASSWORD, role="relecteur",
                      territoire="montmagny", clock=clock)
    return create_app(here, clock=clock, testing=True)


@pytest.fixture
def pivot(web):
    client = web.test_client()
    sign_in(client)
    return client


@pytest.fixture
def relecteur(web):
    client = web.test_client()
    sign_in(client, email="releve@example.org")
    return client


def post_form(client, page_url: str, action_url: str, **data):
    """Post a form of ``page_url`` to ``action_url`` with the page's CSRF token."""
    return client.post(action_url, data={"csrf_token": token_of(client.get(page_url).text),
                                         **data})


def tree(folder) -> set:
    """Return every path under ``folder`` (to see that nothing was written)."""
    return {p for p in folder.rglob("*")} if folder.exists() else set()
