"""The print PDF laid out in a second process (render.pdfjob): the same PDF as in process,
written only when the build writes its files, the same French errors, nothing left behind."""

from __future__ import annotations

import dataclasses
import subprocess
import sys

import pytest

from infolettre import cli
from infolettre.errors import BuildError
from infolettre.pipeline import build
from infolettre.render.pdfjob import PdfJob

from .conftest import REPO
from .pdf_pages import page_texts

HTML = ("<!doctype html><html lang='fr-CA'><body><h1>Le Fil régional</h1>"
        "<p>Décembre à Lévis : « œuvres » et ça.</p></body></html>")


def no_images(folder):
    (folder / "images").mkdir()


def test_the_pdf_is_written_only_at_the_commit(tmp_path):
    out = tmp_path / "print.pdf"
    with PdfJob() as job:
        job.submit(HTML, no_images)
        folder = job._folder
        assert (folder / "print.html").is_file() and not out.exists()
        job.commit(out)
        job.wait()
    assert out.read_bytes().startswith(b"%PDF")
    assert "Décembre à Lévis : « œuvres » et ça." in " ".join(page_texts(out))
    assert not folder.exists()  # the job's temporary folder is removed
    assert sorted(p.name for p in tmp_path.iterdir()) == ["print.pdf"]


def test_a_job_never_committed_writes_nothing(tmp_path):
    """The build stopped between the hand-over and its files: no PDF, no process left."""
    with PdfJob() as job:
        job.submit(HTML, no_images)
        folder = job._folder
    assert job._process.poll() is not None
    assert not folder.exists()
    assert list(tmp_path.iterdir()) == []


def test_a_job_closed_before_the_hand_over_stops(tmp_path):
    with PdfJob() as job:
        pass
    assert job._process.poll() is not None


def test_a_write_failure_comes_back_in_french(tmp_path):
    blocker = tmp_path / "pas-un-dossier"
    blocker.write_text("fichier")
    with PdfJob() as job, pytest.raises(BuildError) as info:
        job.submit(HTML, no_images)
        job.commit(blocker / "print.pdf")
        job.wait()
    assert "impossible d'écrire la version PDF" in info.value.message
    assert info.value.where == str((blocker / "print.pdf").resolve())
    assert "accessible en écriture" in info.value.fix


def test_a_layout_process_that_dies_is_a_french_build_error(tmp_path):
    with PdfJob() as job, pytest.raises(BuildError) as info:
        job.submit(HTML, no_images)
        job._process.kill()
        job.commit(tmp_path / "print.pdf")
        job.wait()
    assert "processus de mise en page s'est arrêté" in info.value.message
    assert "--sans-pdf" in info.value.fix
    assert not (tmp_path / "print.pdf").exists()


def test_the_command_writes_the_same_pdf_as_in_process(sample_here, tmp_path):
    """``infolettre build`` (second process) and ``pipeline.build`` (in process): same text,
    same pages, same images beside them."""
    command_out, process_out = tmp_path / "commande", tmp_path / "processus"
    code = cli.main(["--config", str(REPO / "infolettre.toml"), "build", "2026-12",
                     "--out", str(command_out)])
    assert code in (0, 1)  # 1: the sample has warnings, never errors
    build(sample_here, "2026-12", out=process_out, pdf=True)
    assert page_texts(command_out / "print.pdf") == page_texts(process_out / "print.pdf")
    assert (sorted(p.name for p in (command_out / "images").iterdir())
            == sorted(p.name for p in (process_out / "images").iterdir()))


def test_a_build_that_fails_after_the_hand_over_writes_no_pdf(sample_here, tmp_path):
    """The print HTML goes to the PDF process before the emails; an email too heavy stops
    the build then: neither the PDF nor anything else of the build is written."""
    tiny = dataclasses.replace(sample_here, max_email_bytes=10_000)
    out = tmp_path / "build"
    with PdfJob() as job:
        with pytest.raises(BuildError):
            build(tiny, "2026-12", out=out, pdf=True, pdf_job=job)
        assert job.submitted
    assert not out.exists()


def test_a_build_whose_pdf_process_died_lays_the_pdf_out_itself(sample_here, tmp_path):
    """Killed, or no Python to run it: the PDF is laid out in the command's process, as
    without a job (an error the process reports, layout or writing, is not retried)."""
    out = tmp_path / "build"
    with PdfJob() as job:
        job._process.kill()
        build(sample_here, "2026-12", out=out, pdf=True, pdf_job=job)
    assert "Le Fil régional" in " ".join(page_texts(out / "print.pdf"))


def test_the_layout_process_loads_neither_jinja_nor_markdown():
    """It starts first and is the longest path of a build: it imports WeasyPrint's side."""
    code = ("import sys, infolettre.render.pdfjob, infolettre.render.pdf; "
            "print(sorted(m for m in ('jinja2', 'markdown_it', 'mjml', 'css_inline', "
            "'infolettre.settings') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True, cwd=REPO)
    assert done.stdout.strip() == "[]"


@pytest.mark.parametrize("argv, wanted", [
    (["/usr/bin/infolettre", "build", "2026-12"], True),
    (["-m", "build"], True),
    (["infolettre", "--config", "x.toml", "--debug", "build", "--out", "b"], True),
    (["infolettre", "-c", "x.toml", "--strict", "build"], True),
    (["infolettre", "--config=x.toml", "build"], True),
    (["infolettre", "build", "--sans-pdf"], False),
    (["infolettre", "build", "--help"], False),
    (["infolettre", "check", "2026-12"], False),
    (["infolettre", "--inconnue", "build"], False),
    (["infolettre", "--config"], False),
    (["/usr/bin/pytest", "-k", "build"], False),
    (["scheduler.py", "build"], False),
    ([], False),
])
def test_only_the_build_command_starts_its_pdf_process_early(argv, wanted):
    from infolettre.cli.early import wants_pdf

    assert wants_pdf(argv) is wanted


def test_the_command_in_its_own_process_writes_the_pdf(tmp_path):
    """``python -m infolettre.cli build``: the process started before the command's imports
    (cli.early) is the one that writes the PDF."""
    out = tmp_path / "build"
    done = subprocess.run([sys.executable, "-m", "infolettre.cli", "--config",
                           str(REPO / "infolettre.toml"), "build", "2026-12", "--out", str(out)],
                          capture_output=True, text=True, cwd=tmp_path)
    assert done.returncode in (0, 1), done.stderr
    assert (out / "print.pdf").read_bytes().startswith(b"%PDF")
    assert "Le Fil régional" in " ".join(page_texts(out / "print.pdf"))


def test_the_temporary_folder_goes_even_if_the_command_is_killed(tmp_path):
    """The process removes the HTML and images it was given as soon as it has laid them
    out: a command killed before its end (kill -9) leaves no copy in the temporary folder."""
    job = PdfJob()
    try:
        job.submit(HTML, no_images)
        folder = job._folder
        job._folder = None  # as if this process were gone: nobody else cleans up
        job._end_input()  # its end of the pipe closes, as when it is killed
        job._process.wait(timeout=60)
        assert not folder.exists()
    finally:
        job.close()
