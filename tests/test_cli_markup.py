"""Text from outside (items, senders, config, feeds, file names) is printed as written.

Rich would read « [/] » or « [link=…] » as markup: a title or an organisme could crash
check/build/approve (exit 3, every other problem hidden) or forge a link in the terminal.
"""

from __future__ import annotations

from infolettre import cli

HOSTILE = ("[/]", "[bold]gras[/bold]", "[link=https://evil.example]clic[/link]")


def run(capsys, *args):
    code = cli.main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def _item(project, name: str, *, titre: str, organisme: str, statut: str = "") -> None:
    status = f"statut: {statut}\n" if statut else ""
    project.write(name, f"---\ntitre: '{titre}'\norganisme: '{organisme}'\n"
                        f"rubrique: nouvelles\ndate: 2026-11-02\n{status}---\nTexte\n")


def test_check_prints_hostile_organisme_title_and_file_name_as_written(project, capsys):
    """check reports an organisme « [/] », a title with markup and a file named with
    brackets literally, with exit 1 (a content problem), never 3 (a crash)."""
    _item(project, "[link=https:evil.example]a.md", titre=HOSTILE[2], organisme="[/]")
    _item(project, "b.md", titre=HOSTILE[1], organisme="[bold]Inconnu")
    code, out, err = run(capsys, "--config", str(project.config), "check", "2026-12")
    flat = out.replace("\n", "")
    assert code == 1, err
    assert "organisme « [/] » absent du registre" in flat
    assert "organisme « [bold]Inconnu » absent du registre" in flat
    assert "[link=https:evil.example]a.md" in flat
    assert "MarkupError" not in err


def test_build_and_approve_print_hostile_titles_names_and_territories(project, capsys):
    """build (edition table, problems) and approve (--par) print bracketed text as is."""
    text = project.config.read_text(encoding="utf-8")
    project.config.write_text(text.replace('bellechasse = "Bellechasse"',
                                           'bellechasse = "Bellechasse [/]"'), encoding="utf-8")
    _item(project, "a.md", titre=HOSTILE[0], organisme="CDC des Etchemins", statut="approuve")
    _item(project, "b.md", titre="X", organisme="[/]", statut="soumis")
    config = ["--config", str(project.config)]
    code, out, err = run(capsys, *config, "build", "2026-12", "--sans-pdf")
    assert code == 0, err
    assert "Bellechasse [/]" in out and "« [/] » absent du registre" in out.replace("\n", "")
    code, out, err = run(capsys, *config, "approve", "2026-12", "--par", HOSTILE[2])
    assert code == 0, err
    assert f"approuvé par {HOSTILE[2]}" in out.replace("\n", "")


def test_feed_names_with_brackets_are_shown_as_written(project, capsys):
    """The feed health table shows a feed named with markup literally."""
    with project.config.open("a", encoding="utf-8") as handle:
        handle.write('\n[[flux]]\nurl = "https://flux.example.org/rss"\n'
                     'nom = "[/] [link=https://evil.example]Flux[/link]"\n'
                     'rubrique = "nouvelles"\n')
    code, out, err = run(capsys, "--config", str(project.config), "feeds")
    assert code == 0, err
    assert "[/] [link=https://evil.example]Flux[/link]" in out.replace("\n", "")
