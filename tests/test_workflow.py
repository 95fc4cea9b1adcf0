"""The pivot's workflow: a preview never touches the approved build; approving an issue
already (partly) sent says who the change will and will not reach; every command takes the
latest month by default, except ``send``."""

from __future__ import annotations

from infolettre import cli

APPROVED = ("---\ntitre: Frigo communautaire\norganisme: CDC des Etchemins\nrubrique: nouvelles\n"
            "date: 2026-11-02\nstatut: approuve\n---\nTexte\n")
SUBMITTED = ("---\ntitre: Nouvelle à relire\norganisme: CDC des Etchemins\nrubrique: nouvelles\n"
             "date: 2026-11-03\nstatut: soumis\n---\nTexte\n")
BANNER = "Aperçu : ce document n'est pas approuvé"


def run(capsys, project, *args):
    code = cli.main(["--config", str(project.config), *args])
    out, err = capsys.readouterr()
    return code, out + err


def test_preview_goes_to_its_own_folder_and_never_over_the_approved_build(project, capsys):
    """build --preview writes apercu/AAAA-MM/, leaving build/AAAA-MM/ exactly as it was."""
    project.write("frigo.md", APPROVED)
    project.write("a-relire.md", SUBMITTED)
    assert run(capsys, project, "build", "2026-12", "--sans-pdf")[0] == 0
    approved = project.root / "build" / "2026-12"
    before = {p.name: p.read_bytes() for p in approved.iterdir() if p.is_file()}
    assert BANNER not in before["print.html"].decode()

    code, text = run(capsys, project, "build", "2026-12", "--preview", "--sans-pdf")
    assert code == 0
    assert {p.name: p.read_bytes() for p in approved.iterdir() if p.is_file()} == before
    preview = project.root / "apercu" / "2026-12"
    assert BANNER in (preview / "print.html").read_text(encoding="utf-8")
    assert "Nouvelle à relire" in (preview / "complete.html").read_text(encoding="utf-8")
    assert "apercu" in text.replace("\n", "")


def test_preview_is_refused_into_the_approved_build_and_out_still_works(project, capsys):
    """--out chooses the preview's folder, except the approved build's own."""
    project.write("frigo.md", APPROVED)
    approved = project.root / "build" / "2026-12"
    code, text = run(capsys, project, "build", "--preview", "--sans-pdf", "--out", str(approved))
    assert code == 2 and "--out" in text and not approved.exists()
    elsewhere = project.root / "relecture"
    code, _ = run(capsys, project, "build", "--preview", "--sans-pdf", "--out", str(elsewhere))
    assert code == 0 and BANNER in (elsewhere / "print.html").read_text(encoding="utf-8")
