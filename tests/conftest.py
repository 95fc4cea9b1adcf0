"""Shared fixtures: the sample configuration, and throwaway projects in tmp_path."""

from __future__ import annotations

import dataclasses
import os
import re
from pathlib import Path

import pytest

from infolettre import i18n
from infolettre.settings import Settings, load_settings

REPO = Path(__file__).resolve().parent.parent
SAMPLE_CONFIG = REPO / "infolettre.toml"
DATA = Path(__file__).resolve().parent / "data"


@pytest.fixture(autouse=True)
def _french():
    """Every test runs with the bulletin's language active."""
    i18n.activate("fr_CA")


@pytest.fixture(scope="session")
def sample_settings() -> Settings:
    """The repository's own infolettre.toml and sample content."""
    return load_settings(SAMPLE_CONFIG)


@pytest.fixture
def sample_here(sample_settings, tmp_path: Path) -> Settings:
    """The sample configuration and content, with build/, outbox/, data/ and site/ in
    tmp_path."""
    paths = dataclasses.replace(sample_settings.paths, sortie=tmp_path / "build",
                                boite_envoi=tmp_path / "outbox", donnees=tmp_path / "data",
                                site=tmp_path / "site")
    return dataclasses.replace(sample_settings, paths=paths)


@pytest.fixture
def settings(sample_here: Settings, tmp_path: Path) -> Settings:
    """The sample configuration with an empty content/ too (for tests that write items)."""
    paths = dataclasses.replace(sample_here.paths, contenu=tmp_path / "content")
    return dataclasses.replace(sample_here, paths=paths)


@pytest.fixture
def project(tmp_path: Path):
    """A copy of the sample configuration whose content/ and build/ live in tmp_path."""
    return Project(tmp_path)


class Project:
    """A throwaway infolettre project: write items, load settings."""

    def __init__(self, root: Path):
        self.root = root
        text = SAMPLE_CONFIG.read_text(encoding="utf-8")
        text = re.sub(r'(?m)^gabarits = "templates"',
                      f'gabarits = "{(REPO / "templates").as_posix()}"', text)
        self.config = root / "infolettre.toml"
        self.config.write_text(text, encoding="utf-8")
        (root / "content").mkdir()

    def settings(self) -> Settings:
        return load_settings(self.config)

    def calendar(self, keys: str) -> None:
        """Set ``keys`` (lines of TOML) in the sample's ``[calendrier]`` table, replacing the
        sample's own value of each."""
        lines = self.config.read_text(encoding="utf-8").split("\n")
        start = lines.index("[calendrier]") + 1
        end = next((i for i in range(start, len(lines)) if lines[i].startswith("[")), len(lines))
        names = {k.split("=")[0].strip() for k in keys.split("\n") if "=" in k}
        table = [line for line in lines[start:end]
                 if line.split("=")[0].strip() not in names]
        lines[start:end] = keys.split("\n") + table
        self.config.write_text("\n".join(lines), encoding="utf-8")

    def write(self, name: str, text: str | bytes, month: str = "2026-12") -> Path:
        folder = self.root / "content" / month
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / name
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(text, encoding="utf-8")
        return path


def corpora() -> Path | None:
    """Return the shared corpora folder from INFOLETTRE_CORPORA, or None."""
    value = os.environ.get("INFOLETTRE_CORPORA")
    return Path(value) if value else None


def pytest_report_header(config):
    root = corpora()
    if root is None or not root.is_dir():
        return ("!!! INFOLETTRE_CORPORA is not set (or not a folder): corpus tests are "
                "SKIPPED. Run them with scripts/test or .ci/run.")
    return f"corpora: {root}"
