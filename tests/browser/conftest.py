"""The review app in a real browser: Debian's chromium driven by Playwright, against the app
served by waitress on a loopback port, over a throwaway copy of the sample project.

- One browser for the folder (starting chromium is the slow part), one context per test (its
  own cookies: every test signs in for itself).
- The server runs in a thread of the test process with a ``FixedClock``: what the app shows
  never depends on the day the tests run.
- Under ``faketime`` (scripts/test with INFOLETTRE_FAKETIME) the browser is started without
  libfaketime: chromium under it takes ~10 s per page (its timers wait on a shifted clock),
  and the browser's own clock decides nothing here (the server's FixedClock does; the
  session cookie expires 12 h after the server's time, in the future of the real date).
- Without chromium the tests are skipped, with the reason — unless INFOLETTRE_BROWSER is
  « obligatoire » (.ci/run sets it): then they fail, so CI never skips them silently.
- Every page's console is listened to: an error (a CSP refusal of an inline script or
  style, a missing file, a script error) fails the test.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import threading
from urllib.parse import urlsplit
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from infolettre import pipeline
from infolettre.clock import FixedClock
from infolettre.settings import Settings

from ..conftest import REPO

CHROMIUM = Path(os.environ.get("INFOLETTRE_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = ["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--lang=fr-CA"]
PASSWORD = "une longue phrase de passe"
PIVOT = "pivot@example.org"
RELECTEUR = "releve@example.org"
NOW = datetime(2026, 12, 2, 9, 0, tzinfo=ZoneInfo("America/Toronto"))
MONTH = "2026-12"
#: A hang guard for every wait of Playwright (never a measure: nothing asserts a duration).
HANG_GUARD_MS = 30_000
CAPTURES = Path(os.environ.get("INFOLETTRE_CAPTURES", Path(__file__).parent / "captures"))
WIDTHS = (1280, 375)


def pytest_collection_modifyitems(items):
    """Mark every test of this folder « browser » (``-m "not browser"`` leaves them out)."""
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.browser)


def _browser_env() -> dict[str, str]:
    """Return the environment of the test process without libfaketime (see the docstring)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FAKETIME")}
    preload = [p for p in env.get("LD_PRELOAD", "").split() if "faketime" not in p]
    env.pop("LD_PRELOAD", None)
    if preload:
        env["LD_PRELOAD"] = " ".join(preload)
    # The pivot's browser speaks French: date fields read « 2026-11-30 » or « 30/11/2026 »,
    # not « 11/30/2026 » (chromium takes its form locale from these, not from --lang).
    env.update(LANG="fr_CA.UTF-8", LANGUAGE="fr_CA:fr", LC_ALL="fr_CA.UTF-8")
    return env


@pytest.fixture(scope="package")
def browser():
    """Start Debian's chromium once for this folder's tests (skip, or fail in CI, without
    it). Not for the session: while Playwright's sync API is started, its event loop is the
    main thread's, and ``asyncio.run`` (the sending) would fail in the tests that follow."""
    required = os.environ.get("INFOLETTRE_BROWSER", "") == "obligatoire"
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        if required:
            pytest.fail("INFOLETTRE_BROWSER=obligatoire mais le paquet Python « playwright » "
                        "manque : lancez bash scripts/setup.")
        pytest.skip("le paquet Python « playwright » manque (bash scripts/setup l'installe)")
    if not CHROMIUM.exists():
        if required:
            pytest.fail(f"INFOLETTRE_BROWSER=obligatoire mais {CHROMIUM} manque : "
                        "apt-get install chromium (bash scripts/test l'installe).")
        pytest.skip(f"{CHROMIUM} manque : apt-get install chromium (bash scripts/test "
                    "l'installe) ; INFOLETTRE_BROWSER=obligatoire fait échouer ces tests")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS,
                                              env=_browser_env(), timeout=HANG_GUARD_MS * 2)
        yield chromium
        chromium.close()


def copy_sample(root: Path) -> Settings:
    """Copy the sample project's content into ``root`` and return its settings (build/,
    outbox/, data/ and content/ all in ``root``: the repository is never written)."""
    from infolettre.settings import load_settings

    settings = load_settings(REPO / "infolettre.toml")
    shutil.copytree(settings.paths.contenu, root / "content")
    paths = dataclasses.replace(settings.paths, contenu=root / "content",
                                sortie=root / "build", boite_envoi=root / "outbox",
                                donnees=root / "data", site=root / "site")
    return dataclasses.replace(settings, paths=paths)


class Server:
    """The review app served by waitress in a thread, on a free loopback port."""

    def __init__(self, settings: Settings, clock: FixedClock):
        import waitress

        from infolettre.web import create_app

        self.settings, self.clock = settings, clock
        self._server = waitress.create_server(create_app(settings, clock=clock),
                                              host="127.0.0.1", port=0, threads=4,
                                              ident="infolettre")
        self.url = f"http://127.0.0.1:{self._server.effective_port}"
        self._thread = threading.Thread(target=self._server.run, name="waitress", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Close the listening socket and every connection; wait for the loop to end."""
        from waitress import wasyncore

        self._server.task_dispatcher.shutdown()
        wasyncore.close_all(self._server._map)
        self._thread.join(timeout=30)


def start_server(root: Path) -> Server:
    """Return a running server over a fresh copy of the sample, with a pivot and a
    relecteur (Montmagny) account."""
    clock = FixedClock(NOW)
    settings = copy_sample(root)
    pipeline.user_add(settings, PIVOT, PASSWORD, clock=clock)
    pipeline.user_add(settings, RELECTEUR, PASSWORD, role="relecteur", territoire="montmagny",
                      clock=clock)
    return Server(settings, clock)


@pytest.fixture
def server(tmp_path):
    running = start_server(tmp_path)
    yield running
    running.stop()


@pytest.fixture
def console_errors():
    return []


@pytest.fixture
def page(browser, server, console_errors):
    """A fresh context (no cookie) and page; fails the test on any console error."""
    context = browser.new_context(base_url=server.url, locale="fr-CA",
                                  viewport={"width": 1280, "height": 800})
    context.set_default_timeout(HANG_GUARD_MS)
    tab = context.new_page()
    tab.on("console", lambda msg: msg.type == "error" and console_errors.append(msg.text))
    tab.on("pageerror", lambda exc: console_errors.append(str(exc)))
    tab.on("response", lambda answer: answer.status >= 400 and console_errors.append(
        f"{answer.status} {answer.request.method} {urlsplit(answer.url).path}"))
    yield tab
    context.close()
    assert console_errors == [], f"erreurs dans la console du navigateur : {console_errors}"


def sign_in(page, email: str = PIVOT, password: str = PASSWORD, path: str = "/") -> None:
    """Sign in through the form, by its labels (the contract: « Courriel », « Mot de
    passe », « Se connecter »)."""
    page.goto(path)
    page.get_by_label("Courriel").fill(email)
    page.get_by_label("Mot de passe").fill(password)
    page.get_by_role("button", name="Se connecter").click()


def capture(page, name: str) -> list[Path]:
    """Save full-page screenshots of the page as it is at 1280 and 375 px wide (to be
    looked at: tests/browser/captures/NAME-1280.png, NAME-375.png); return their paths.
    Fails if the page is wider than the window (a phone would scroll sideways)."""
    CAPTURES.mkdir(parents=True, exist_ok=True)
    size = page.viewport_size
    shots = []
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 800})
        path = CAPTURES / f"{name}-{width}.png"
        page.screenshot(path=str(path), full_page=True)
        wide = page.evaluate("document.documentElement.scrollWidth")
        assert wide <= width, f"{name} : la page fait {wide} px de large à {width} px ({path})"
        shots.append(path)
    page.set_viewport_size(size)
    return shots


def forgive(console_errors: list[str], status: int) -> None:
    """Drop the console's reports of answers with ``status``, for a test that asks for such
    an answer on purpose (a refused password is a 401, a page that does not exist a 404)."""
    console_errors[:] = [e for e in console_errors
                         if not (e.startswith(f"{status} ") or f"status of {status} " in e)]
