"""scripts/setup speaks French: it waits for a busy package manager, and explains a failure
before apt's own English; the README says how to run ``infolettre`` afterwards."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from .conftest import REPO

LOCKED = ("E: Could not get lock /var/lib/dpkg/lock-frontend. It is held by process 4242 "
          "(unattended-upgr)\nE: Unable to acquire the dpkg frontend lock "
          "(/var/lib/dpkg/lock-frontend), is another process using it?")
BROKEN = "E: Unable to locate package infolettre-paquet-absent"


def fake(folder: Path, name: str, body: str) -> None:
    path = folder / name
    path.write_text(f"#!/usr/bin/env bash\n{body}\n", encoding="utf-8")
    path.chmod(0o755)


@pytest.fixture
def setup_copy(tmp_path):
    """A copy of scripts/setup whose .venv is ready, with fake apt-get, sudo, sleep, pgrep."""
    root = tmp_path / "projet"
    (root / "scripts").mkdir(parents=True)
    shutil.copy(REPO / "scripts" / "setup", root / "scripts" / "setup")
    (root / "pyproject.toml").write_text("", encoding="utf-8")
    (root / ".venv" / "bin").mkdir(parents=True)
    fake(root / ".venv" / "bin", "python", "exit 0")
    (root / ".venv" / ".installed").touch()
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake(bin_dir, "sudo", 'exec "$@"')
    fake(bin_dir, "sleep", "exit 0")  # the waits, without waiting
    fake(bin_dir, "pgrep", "exit 1")
    return root, bin_dir


def run_setup(root: Path, bin_dir: Path, apt_body: str) -> subprocess.CompletedProcess:
    fake(bin_dir, "apt-get", f'echo "$*" >> "{bin_dir}/apt.log"\n{apt_body}')
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}",
           "INFOLETTRE_APT_EXTRA": "infolettre-paquet-absent"}
    return subprocess.run(["bash", str(root / "scripts" / "setup")], env=env,
                          capture_output=True, text=True, timeout=60)


def test_setup_waits_for_the_package_manager_lock(setup_copy):
    """apt's lock held twice by another program: a French message, a wait, then it goes on."""
    root, bin_dir = setup_copy
    counter = bin_dir / "tries"
    result = run_setup(root, bin_dir, f'n=$(($(cat "{counter}" 2>/dev/null || echo 0) + 1))\n'
                                      f'echo "$n" > "{counter}"\n'
                                      f'[ "$n" -gt 2 ] || {{ echo "{LOCKED}" >&2; exit 100; }}')
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("le gestionnaire de paquets est occupé") == 1
    assert "Could not get lock" not in result.stdout + result.stderr
    calls = (bin_dir / "apt.log").read_text().splitlines()
    assert len(calls) == 4 and all("DPkg::Lock::Timeout=" in c for c in calls)
    assert calls[-1].endswith("infolettre-paquet-absent")


def test_setup_says_in_french_when_the_lock_is_never_released(setup_copy):
    """A lock held past the wait: a French explanation, apt's text after it as a detail."""
    root, bin_dir = setup_copy
    result = run_setup(root, bin_dir, f'echo "{LOCKED}" >&2; exit 100')
    assert result.returncode != 0
    french = result.stderr.index("resté occupé plus de")
    assert french < result.stderr.index("Détail technique") < result.stderr.index("Could not")


def test_setup_explains_another_apt_failure_in_french_first(setup_copy):
    """Any other apt failure is explained in French, apt's English following as a detail."""
    root, bin_dir = setup_copy
    result = run_setup(root, bin_dir, f'[ "$1" = update ] || {{ echo "{BROKEN}" >&2; exit 100; }}')
    assert result.returncode != 0
    assert result.stderr.index("a échoué") < result.stderr.index(BROKEN)
    assert "attente" not in result.stdout


def test_readme_says_how_to_run_the_command_after_the_demo():
    """The README tells a newcomer to activate .venv, or to give the command's path."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    demo = readme[readme.index("bash scripts/demo"):readme.index("## Au quotidien")]
    assert "source .venv/bin/activate" in demo and ".venv/bin/infolettre" in demo
