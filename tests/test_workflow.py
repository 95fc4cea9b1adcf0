"""The pivot's workflow: a preview never touches the approved build; approving an issue
already (partly) sent says who the change will and will not reach; every command takes the
latest month by default, except ``send``."""

from __future__ import annotations

from infolettre import cli

APPROVED = ("---\ntitre: Frigo communautaire\norganisme: CDC des Etchemins\nrubrique: nouvelles\n"
            "date: 2026-11-02\nstatut: approuve\n---\nTexte\n")
SUBMITTED = ("---\ntitre: Nouvelle à relire\norganisme: CDC des Etchemins\nrubrique: nouvelles\n"
             "date: 2026-11-03\nstatut: soumis\n---\nTexte\n")
BANNER = "Aperçu\u00a0: ce document n’est pas approuvé"  # our typography (render's environment)


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


def _sent_to_two(project, capsys):
    """Approve and send the issue to a@ and b@; c@ is then planned but not reached yet."""
    from infolettre.deliver.ledger import Ledger
    from infolettre.state import state_file

    project.write("frigo.md", APPROVED)
    listing = project.root / "recipients.csv"
    listing.write_text("courriel,nom,territoire,format\n"
                       "a@example.org,Aline,les-etchemins,courriel\n"
                       "b@example.org,Benoît,regional,courriel\n", encoding="utf-8")
    assert run(capsys, project, "approve", "2026-12", "--par", "Julie Roy")[0] == 0
    assert run(capsys, project, "send", "2026-12")[0] == 0
    # An interrupted send leaves people planned and not reached: c@ is one of them.
    with listing.open("a", encoding="utf-8") as handle:
        handle.write("c@example.org,Céline,les-etchemins,courriel\n")
    with Ledger(state_file(project.root / "data")) as ledger:
        ledger.plan("2026-12", [("c@example.org", "les-etchemins")])
    project.write("frigo.md", APPROVED.replace("Texte", "Texte corrigé"))


def test_approving_again_after_a_send_is_refused_saying_who_would_get_it(project, capsys):
    """A changed issue already sent to some: approve refuses, naming who gets what."""
    _sent_to_two(project, capsys)
    code, text = run(capsys, project, "approve", "2026-12", "--par", "Julie Roy")
    text = " ".join(text.split())
    assert code == 2
    assert "envoyé à 2 personnes : elles ne recevront pas cette nouvelle version" in text
    assert "1 personne pas encore jointe recevra la nouvelle version" in text
    assert "1 nouvelle modifiée : « Frigo communautaire »" in text
    assert "--malgre-envoi" in text
    code, text = run(capsys, project, "send", "2026-12")
    assert code == 2 and "a changé depuis son approbation" in text  # nothing was approved


def test_approving_again_despite_the_send_reaches_only_those_not_reached(project, capsys):
    """approve --malgre-envoi approves, says who will not get it; send reaches only c@."""
    _sent_to_two(project, capsys)
    code, text = run(capsys, project, "approve", "2026-12", "--par", "Julie Roy",
                     "--malgre-envoi")
    assert code == 0 and "approuvé par Julie Roy" in text
    assert "ne recevront pas cette nouvelle version" in " ".join(text.split())
    code, text = run(capsys, project, "send", "2026-12")
    assert code == 0 and "envoyés 1, déjà faits 2" in text
    assert run(capsys, project, "approve", "2026-12", "--par", "Julie Roy")[0] == 0  # unchanged


def test_commands_take_the_latest_month_but_send_asks_for_it(project, capsys):
    """approve, status and postal take the latest month of content/; send names it and asks."""
    project.write("ancien.md", APPROVED, month="2026-11")
    project.write("frigo.md", APPROVED)
    (project.root / "recipients.csv").write_text(
        "courriel,nom,territoire,format,adresse_postale\n"
        "a@example.org,Aline,les-etchemins,les-deux,\"1, rue A\"\n", encoding="utf-8")
    code, text = run(capsys, project, "approve", "--par", "Julie Roy")
    assert code == 0 and "Numéro 2026-12 approuvé par Julie Roy" in text
    code, text = run(capsys, project, "send")
    assert code == 2 and "infolettre send 2026-12" in text and "ne se défait pas" in text
    code, text = run(capsys, project, "status")
    assert code == 0 and "2026-12 : aucun envoi enregistré" in text  # nothing was sent
    code, text = run(capsys, project, "postal")
    assert code == 0 and (project.root / "build" / "2026-12" / "envoi-postal.csv").is_file()
