"""Sender authentication: only the results our own server stamped are believed (RFC 8601).

A sender can write any header: an ``Authentication-Results: evil.example; dkim=pass`` of its
own used to cancel the ``Received-SPF: fail`` our server added. Now results count only with
our authserv-id (``[courriel_entrant] authserv_id``), in the block our server wrote on top;
without it no « pass » is believed, a reported failure still holds the item, and ``check``
says how to set it.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from infolettre import cli
from infolettre.errors import ConfigError
from infolettre.gather.mail import convert_message

MAIL = Path(__file__).parent / "data" / "mail"


def with_ids(settings, *ids: str):
    intake = dataclasses.replace(settings.mail_intake, authserv_id=ids)
    return dataclasses.replace(settings, mail_intake=intake)


def status(settings, name: str) -> str:
    result = convert_message((MAIL / f"{name}.eml").read_bytes(), settings, month="2026-12")
    assert result.draft is not None, result.rejection
    return result.draft.front_matter["statut"]


@pytest.mark.parametrize("ids", [(), ("mx.example.org",)])
def test_a_dkim_pass_written_by_the_sender_does_not_cancel_our_spf_fail(sample_settings, ids):
    """``Received-SPF: fail`` from our server, ``dkim=pass`` from evil.example below: held,
    with or without ``authserv_id``."""
    assert status(with_ids(sample_settings, *ids),
                  "auth_forged_dkim_pass_below_spf_fail") == "retenu"


def test_results_with_our_id_below_our_hop_are_not_believed(sample_settings):
    """A forged header bearing our own authserv-id, under our ``Received``, is ignored."""
    assert status(with_ids(sample_settings, "mx.example.org"),
                  "auth_forged_own_id_below_our_hop") == "retenu"


def test_our_stamped_results_decide(sample_settings):
    """Gmail's real form (Received-SPF, Authentication-Results, then Received): SPF fails but
    DKIM passes, so the item is « soumis » once mx.google.com is ours; a relay's old
    dmarc=fail below our dmarc=pass does not hold an item either."""
    assert status(with_ids(sample_settings, "MX.Google.com"),
                  "auth_gmail_spf_fail_dkim_pass") == "soumis"
    assert status(with_ids(sample_settings, "mx.example.org"),
                  "auth_stamped_pass_over_relay_fail") == "soumis"


def test_without_our_results_no_pass_is_believed_but_failures_hold(sample_settings):
    """Unset (or not matching) authserv_id: the same messages are held, the note says why."""
    for settings in (sample_settings, with_ids(sample_settings, "autre.example.org")):
        assert status(settings, "auth_gmail_spf_fail_dkim_pass") == "retenu"
        assert status(settings, "auth_stamped_pass_over_relay_fail") == "retenu"
    result = convert_message((MAIL / "auth_gmail_spf_fail_dkim_pass.eml").read_bytes(),
                             sample_settings, month="2026-12")
    assert any("authserv_id" in n for n in result.draft.notes)


def _intake(project, lines: str) -> None:
    with project.config.open("a", encoding="utf-8") as handle:
        handle.write(f'\n[courriel_entrant]\nmaildir = "boite"\n{lines}')


def test_check_warns_when_sender_authentication_is_not_verified(project, capsys):
    """With mail intake and no authserv_id, check warns and says how to set it."""
    _intake(project, "")
    project.write("vide.md", "---\ntitre: X\norganisme: CDC des Etchemins\nrubrique: "
                             "nouvelles\ndate: 2026-11-02\n---\nTexte\n")
    assert cli.main(["--config", str(project.config), "check", "2026-12"]) == 0
    out = capsys.readouterr().out.replace("\n", "")
    assert "n'est pas vérifiée" in out and 'authserv_id = "mx.example.org"' in out


def test_authserv_id_is_read_and_checked(project, capsys):
    """authserv_id takes a name or a list (lowercased); then check has nothing to say."""
    _intake(project, 'authserv_id = ["MX.example.org", "mx2.example.org."]\n')
    assert project.settings().mail_intake.authserv_id == ("mx.example.org", "mx2.example.org")
    project.write("vide.md", "---\ntitre: X\norganisme: CDC des Etchemins\nrubrique: "
                             "nouvelles\ndate: 2026-11-02\n---\nTexte\n")
    assert cli.main(["--config", str(project.config), "check", "2026-12"]) == 0
    assert "vérifiée" not in capsys.readouterr().out
    text = project.config.read_text(encoding="utf-8")
    project.config.write_text(text.replace('["MX.example.org", "mx2.example.org."]',
                                           '"mx.example.org; dkim=pass"'), encoding="utf-8")
    with pytest.raises(ConfigError, match="courriel_entrant.authserv_id"):
        project.settings()
