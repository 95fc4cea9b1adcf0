"""Hostile front matter: YAML aliases are refused at once, and errors quote values briefly.

Nine levels of nested aliases (the "billion laughs") made ``check`` hang; six printed 3.8 MB
of error text. Front matter never needs anchors or aliases: they are refused, with the line.
"""

from __future__ import annotations

from infolettre.errors import Severity
from infolettre.content import read_item

HEAD = "---\ntitre: T\norganisme: CDC des Etchemins\nrubrique: nouvelles\n"


def bomb(levels: int, key: str = "date") -> str:
    """Return an item whose ``key`` is ``levels`` levels of nine aliases each."""
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, levels + 1):
        lines.append(f"a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * 9) + "]")
    return HEAD + "\n".join(lines) + f"\n{key}: *a{levels}\n---\nTexte\n"


def _read(project, text: str):
    path = project.write("item.md", text)
    return read_item(path, project.settings(), "2026-12")


def test_nine_level_alias_bomb_is_refused_with_one_short_error(project):
    """The nine-level alias bomb finishes with one error naming the first anchor's line."""
    item, problems = _read(project, bomb(9))
    assert item is None
    errors = [p for p in problems if p.severity is Severity.ERROR]
    assert len(errors) == 1 and errors[0].line == 5
    assert "alias" in errors[0].message and len(str(errors[0])) < 500


def test_six_level_alias_bomb_gives_no_megabytes_of_error(project):
    """Six levels used to print 3.8 MB of error text: now a few hundred characters."""
    item, problems = _read(project, bomb(6))
    assert item is None and sum(len(str(p)) for p in problems) < 1000


def test_a_lone_alias_or_anchor_is_refused_with_the_quoting_advice(project):
    """« titre: *Nouveau* » (an alias to YAML) and « &co » are refused with how to quote."""
    for value, shown in (("*Nouveau* programme", "*Nouveau"), ("*Nouveau programme", "*Nouveau"),
                         ("&co Services", "&co")):
        item, problems = _read(project, HEAD.replace("titre: T", f"titre: {value}")
                               + "date: 2026-11-02\n---\nTexte\n")
        assert item is None
        assert shown in problems[0].message and problems[0].line == 2
        assert "guillemets" in problems[0].fix


def test_long_values_are_cut_in_error_messages(project):
    """A date, rubrique or link of thousands of characters is quoted in 80 at most."""
    long = "x" * 5000
    _, problems = _read(project, HEAD.replace("rubrique: nouvelles", f"rubrique: {long}")
                        + f"date: {long}\nlien: {long}\nstatut: {long}\n---\nTexte\n")
    assert len(problems) >= 4
    assert all(len(p.message) < 200 for p in problems)
    assert any("xxx…" in p.message for p in problems)
