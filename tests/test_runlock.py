"""One run at a time per data folder: a second send, gather or approve is refused up front,
naming the running one; a lock left by a killed process is taken over, and said so."""

from __future__ import annotations

import dataclasses
import json
import mailbox
import os
import signal
import subprocess
import sys
import threading
from collections import Counter
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from infolettre import cli, pipeline
from infolettre.clock import FixedClock
from infolettre.gather import imap, intake
from infolettre.gather.feeds.run import gather_feeds
from infolettre.state.runlock import RunLocked, current_holder, lock_data_dir, lock_path

from .conftest import REPO
from .sinks import CountingSink, counting_server
from .test_delivery_faults import ITEM, MONTH, child_env, send_command, smtp_project

TZ = ZoneInfo("America/Toronto")
HOLDER_START = "2026-12-02T09:15:00-05:00"  # « mercredi 2 décembre 2026 à 9 h 15 »
HOLD = """
import sys
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo
from infolettre.clock import FixedClock
from infolettre.state.runlock import lock_data_dir
clock = FixedClock(datetime.fromisoformat(sys.argv[3]))
with lock_data_dir(Path(sys.argv[1]), sys.argv[2], tz=ZoneInfo("America/Toronto"), clock=clock):
    print("verrou pris", flush=True)
    sys.stdin.read()
"""


@contextmanager
def held_by_another_process(data_dir: Path, command: str = f"send {MONTH}"):
    """Run a child process that takes the lock and holds it until told (or killed)."""
    child = subprocess.Popen([sys.executable, "-c", HOLD, str(data_dir), command, HOLDER_START],
                             cwd=REPO, env=child_env(), stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline() == "verrou pris\n", child.stderr.read()
        yield child
    finally:
        if child.poll() is None:
            child.stdin.close()
            child.wait(timeout=30)
        child.stdout.close()
        child.stderr.close()


def test_a_second_send_is_refused_up_front_naming_the_running_one(project):
    """While another process holds the lock, send stops before doing anything, and says which
    run holds it: command, process number, start time in Québec time, in French."""
    project.write("item.md", ITEM)
    settings = project.settings()
    pipeline.approve(settings, MONTH, "Julie")
    with held_by_another_process(settings.paths.donnees) as child:
        with pytest.raises(RunLocked) as info:
            pipeline.send(settings, MONTH)
    message = info.value.message
    assert f"« send {MONTH} » (processus {child.pid})" in message
    assert "commencée le mercredi 2 décembre 2026 à 9 h 15" in message
    assert f"kill {child.pid}" in info.value.fix
    assert not (project.root / "outbox").exists()
    assert current_holder(settings.paths.donnees) is None  # released by the child's normal end


def test_send_approve_and_both_gathers_all_take_the_lock(project, tmp_path):
    """The pipeline functions take the lock themselves (the scheduler and the web app call
    them too): send, approve, gather mail (Maildir and IMAP) and gather feeds are refused."""
    project.write("item.md", ITEM)
    settings = project.settings()
    box = mailbox.Maildir(tmp_path / "Maildir", create=True)
    imap_settings = dataclasses.replace(settings, mail_intake=dataclasses.replace(
        settings.mail_intake, imap_hote="127.0.0.1", imap_utilisateur="infolettre"))
    calls = {
        "send": lambda: pipeline.send(settings, MONTH),
        "approve": lambda: pipeline.approve(settings, MONTH, "Julie"),
        "gather mail": lambda: intake.process_maildir(settings, Path(box._path)),
        "gather mail (IMAP)": lambda: imap.poll(imap_settings,
                                                environ={"INFOLETTRE_IMAP_PASSWORD": "x"}),
        "gather feeds": lambda: gather_feeds(settings),
    }
    with held_by_another_process(settings.paths.donnees, "gather feeds") as child:
        for name, call in calls.items():
            with pytest.raises(RunLocked) as info:
                call()
            assert f"(processus {child.pid})" in info.value.message, name
    assert not (settings.paths.donnees / "infolettre.sqlite3").exists()


def test_cli_refusal_is_french_with_exit_2(project, capsys):
    project.write("item.md", ITEM)
    config = ["--config", str(project.config)]
    with held_by_another_process(project.root / "data", "gather mail") as child:
        code = cli.main([*config, "approve", MONTH, "--par", "Julie"])
    err = capsys.readouterr().err
    assert code == 2
    assert "une autre exécution d'infolettre est en cours" in " ".join(err.split())
    assert str(child.pid) in err and "Traceback" not in err


def test_a_lock_left_by_a_killed_process_is_taken_over_and_said_so(project, capsys):
    """SIGKILL leaves the lock file describing a run that no longer exists; the kernel has
    released its flock, so the next run takes it over and tells what was interrupted."""
    project.write("item.md", ITEM)
    settings = project.settings()
    with held_by_another_process(settings.paths.donnees) as child:
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
    left = json.loads(lock_path(settings.paths.donnees).read_text(encoding="utf-8"))
    assert left["pid"] == child.pid and left["commande"] == f"send {MONTH}"
    assert current_holder(settings.paths.donnees) is None
    code = cli.main(["--config", str(project.config), "approve", MONTH, "--par", "Julie"],
                    clock=FixedClock(datetime(2026, 12, 3, 10, 0, tzinfo=TZ)))
    assert code == 0
    err = " ".join(capsys.readouterr().err.split())
    assert f"« send {MONTH} » (processus {child.pid}), commencée le mercredi 2 décembre 2026 " \
           "à 9 h 15, s'est arrêtée sans se terminer" in err
    assert lock_path(settings.paths.donnees).read_text(encoding="utf-8") == ""  # ended well


def test_two_real_sends_the_second_refused_while_the_first_finishes_alone(project, capsys):
    """A slow ``infolettre send`` (SMTP, one connection) and a second one started meanwhile:
    the second stops at once with exit 2; the first sends everyone exactly once."""
    emails = [f"p{i:02}@example.org" for i in range(20)]
    sink = CountingSink(data_delay=0.05)
    with counting_server(sink) as port:
        settings = smtp_project(project, port, emails, connexions=1)
        first = subprocess.Popen(send_command(project.config), cwd=REPO, env=child_env(),
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            started = threading.Event()
            while not started.wait(0.01):
                if sink.total() >= 1:
                    started.set()
                assert first.poll() is None, first.communicate()
            code = cli.main(["--config", str(project.config), "send", MONTH])
            err = " ".join(capsys.readouterr().err.split())
        finally:
            out, first_err = first.communicate(timeout=120)
    assert code == 2 and f"« send {MONTH} » (processus {first.pid})" in err
    assert first.returncode == 0, out + first_err
    assert sink.per_recipient() == Counter(emails)
    assert current_holder(settings.paths.donnees) is None


def test_the_lock_is_reentrant_in_one_thread_and_exclusive_between_threads(tmp_path):
    """A locked function may call another; another thread of the same process is refused."""
    outcome = []

    def other_thread():
        try:
            with lock_data_dir(tmp_path, "gather feeds", tz=TZ):
                outcome.append("pris")
        except RunLocked as exc:
            outcome.append(exc.holder.pid)

    with lock_data_dir(tmp_path, "send 2026-12", tz=TZ):
        with lock_data_dir(tmp_path, "approve 2026-12", tz=TZ):
            pass
        worker = threading.Thread(target=other_thread)
        worker.start()
        worker.join()
        assert current_holder(tmp_path).command == "send 2026-12"
    assert outcome == [os.getpid()]
    with lock_data_dir(tmp_path, "gather feeds", tz=TZ) as previous:
        assert previous is None  # the earlier holder ended normally: nothing taken over


def test_the_lock_file_is_private(tmp_path):
    old = os.umask(0o022)
    try:
        with lock_data_dir(tmp_path / "data", "send 2026-12", tz=TZ):
            pass
    finally:
        os.umask(old)
    assert os.stat(lock_path(tmp_path / "data")).st_mode & 0o777 == 0o600
    assert os.stat(tmp_path / "data").st_mode & 0o777 == 0o700
