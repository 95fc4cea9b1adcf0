"""Write the small test messages of tests/test_mail_convert.py: one .eml per case.

Run ``python tests/data/mail/make.py`` after changing a case; the .eml files are committed so a
reader can open them. Bytes are written by hand where a client's mistake must be reproduced
(wrong charset, double-encoded UTF-8, odd file names). The huge cases (50 MB attachment,
10,000 parts) are built by the tests themselves, not stored.
"""

from __future__ import annotations

import base64
from pathlib import Path

HERE = Path(__file__).resolve().parent
KNOWN = "CDC des Etchemins <info@cdc-etchemins.example.org>"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(range(256)) * 80  # > 15 KB: not a logo
PDF = b"%PDF-1.4\n% test\n"


def head(subject: str | bytes = "Ouverture d'un frigo communautaire", sender: str = KNOWN,
         extra: str = "", msgid: str = "case") -> bytes:
    subject = subject if isinstance(subject, bytes) else subject.encode("ascii")
    lines = (f"From: {sender}\nTo: infolettre@example.org\n"
             f"Date: Tue, 24 Nov 2026 10:00:00 -0500\nMessage-ID: <{msgid}@example.org>\n"
             f"MIME-Version: 1.0\n{extra}").encode()
    return lines + b"Subject: " + subject + b"\n"


def plain(body: bytes | str, charset: str = "utf-8", cte: str = "8bit") -> bytes:
    data = body.encode(charset) if isinstance(body, str) else body
    return (f"Content-Type: text/plain; charset={charset}\n"
            f"Content-Transfer-Encoding: {cte}\n\n").encode() + data + b"\n"


def part(ctype: str, data: bytes, name_param: str = "", disposition: str = "attachment",
         extra: str = "") -> bytes:
    b64 = base64.encodebytes(data).decode()
    return (f"Content-Type: {ctype}\nContent-Transfer-Encoding: base64\n"
            f"Content-Disposition: {disposition}{name_param}\n{extra}\n{b64}").encode()


def mixed(*parts: bytes, boundary: str = "XYZ") -> bytes:
    out = f'Content-Type: multipart/mixed; boundary="{boundary}"\n\n'.encode()
    for p in parts:
        out += f"--{boundary}\n".encode() + p + b"\n"
    return out + f"--{boundary}--\n".encode()


def body_only(text: str, charset: str = "utf-8") -> bytes:
    return plain(text, charset)


CASES: dict[str, bytes] = {}


def case(name: str, data: bytes) -> None:
    CASES[name] = data


# --- who ---------------------------------------------------------------------------------
DELEGATE_BODY = ("Rubrique : bons coups\n\nLe frigo communautaire de Lac-Etchemin ouvre ses "
                 "portes : fruits, légumes et repas préparés, à partager. Merci à "
                 "l'équipe bénévole !\n")
case("delegate_latin1_photo_pdf", head() + mixed(
    plain(DELEGATE_BODY, "iso-8859-1"),
    part("image/jpeg", JPEG, '; filename="frigo.jpg"'),
    part("application/pdf", PDF, '; filename="horaire.pdf"')))
case("unknown_sender", head(sender="Inconnu <quelquun@ailleurs.example.com>")
     + body_only("Une nouvelle d'un organisme inconnu.\n"))
case("forged_known_dmarc_fail", head(extra="Authentication-Results: mx.example.org; "
                                     "spf=pass smtp.mailfrom=x.example; dkim=none; "
                                     "dmarc=fail header.from=cdc-etchemins.example.org\n")
     + body_only("Nouvelle au nom de la CDC, mais pas envoyée par elle.\n"))
case("spf_softfail_no_dkim", head(extra="Authentication-Results: mx.example.org; "
                                  "spf=softfail smtp.mailfrom=cdc-etchemins.example.org; "
                                  "dkim=none\n")
     + body_only("SPF en échec doux, aucune signature DKIM.\n"))
case("spf_fail_dkim_pass", head(extra="Authentication-Results: mx.example.org; "
                                "spf=fail smtp.mailfrom=cdc-etchemins.example.org; "
                                "dkim=pass header.d=cdc-etchemins.example.org; dmarc=pass\n")
     + body_only("Relayé par une liste : SPF échoue mais la signature DKIM est bonne.\n"))
# Authentication results: only those our server (authserv-id mx.example.org) stamped on top
# are believed; the sender writes whatever it likes below.
OUR_HOP = ("Received: from evil.example (evil.example [203.0.113.9]) by mx.example.org "
           "with ESMTPS id 4Xyz; Tue, 24 Nov 2026 10:00:02 -0500\n")
case("auth_forged_dkim_pass_below_spf_fail",
     ("Received-SPF: fail (mx.example.org: domain of cdc-etchemins.example.org does not "
      "designate 203.0.113.9 as permitted sender) client-ip=203.0.113.9;\n" + OUR_HOP).encode()
     + head(extra="Authentication-Results: evil.example; dkim=pass "
                  "header.d=cdc-etchemins.example.org\n")
     + body_only("L'expéditeur a écrit lui-même un dkim=pass.\n"))
case("auth_forged_own_id_below_our_hop",
     ("Authentication-Results: mx.example.org; spf=fail "
      "smtp.mailfrom=cdc-etchemins.example.org; dkim=none\n" + OUR_HOP).encode()
     + head(extra="Authentication-Results: mx.example.org; dkim=pass "
                  "header.d=cdc-etchemins.example.org; dmarc=pass\n")
     + body_only("L'expéditeur imite notre serveur, sous notre propre en-tête.\n"))
case("auth_gmail_spf_fail_dkim_pass",
     ("Received-SPF: fail (google.com: domain of info@cdc-etchemins.example.org does not "
      "designate 192.0.2.222 as permitted sender) client-ip=192.0.2.222;\n"
      "Authentication-Results: mx.google.com;\n"
      "       dkim=pass header.i=@cdc-etchemins.example.org header.s=s1 header.b=RJNz7oaY;\n"
      "       spf=fail (google.com: domain of info@cdc-etchemins.example.org does not "
      "designate 192.0.2.222 as permitted sender) smtp.mailfrom=info@cdc-etchemins.example.org;"
      "\n       dmarc=pass (p=NONE sp=NONE dis=NONE) header.from=cdc-etchemins.example.org\n"
      "Received: from liste.example.org (liste.example.org. [192.0.2.222])\n"
      "        by mx.google.com with ESMTPS id x5si1;\n"
      "        Tue, 24 Nov 2026 10:00:02 -0500 (EST)\n").encode()
     + head() + body_only("Relayé par une liste, reçu par Gmail.\n"))
case("auth_stamped_pass_over_relay_fail",
     ("Authentication-Results: mx.example.org; dkim=pass header.d=cdc-etchemins.example.org; "
      "spf=pass smtp.mailfrom=relais.example; dmarc=pass\n"
      "Received: from relais.example by mx.example.org; Tue, 24 Nov 2026 10:00:03 -0500\n"
      "Authentication-Results: relais.example; dmarc=fail header.from=cdc-etchemins.example.org\n"
      "Received: from poste.example by relais.example; Tue, 24 Nov 2026 10:00:01 -0500\n").encode()
     + head() + body_only("Notre serveur vérifie : réussite ; un relais disait échec.\n"))
case("known_sender_uppercase_address",
     head(sender="CDC <INFO@CDC-Etchemins.Example.org>") + body_only("Adresse en majuscules.\n"))

# --- automatic mail ------------------------------------------------------------------------
case("bounce_multipart_report", head(subject="Undelivered Mail Returned to Sender",
                                     sender="MAILER-DAEMON@mx.example.org")
     .replace(b"MIME-Version: 1.0\n", b"MIME-Version: 1.0\nContent-Type: multipart/report; "
              b"report-type=delivery-status; boundary=\"B\"\n")
     + b"\n--B\nContent-Type: text/plain\n\nThis is the mail system.\n--B--\n")
case("bounce_postmaster", head(subject="Delivery Status Notification",
                               sender="postmaster@example.net") + body_only("Echec.\n"))
case("auto_submitted", head(extra="Auto-Submitted: auto-replied\n") + body_only("Merci.\n"))
case("x_autoreply", head(extra="X-Autoreply: yes\n") + body_only("Je suis absente.\n"))
case("out_of_office_reponse_automatique",
     head(subject=b"=?utf-8?q?R=C3=A9ponse_automatique_=3A_Frigo?=")
     + body_only("Je suis absente jusqu'au 3 janvier.\n"))
case("out_of_office_absent", head(subject="Absent du bureau") + body_only("De retour lundi.\n"))
case("out_of_office_english", head(subject="Automatic reply: Frigo")
     + body_only("I am out of the office.\n"))
case("precedence_bulk", head(extra="Precedence: bulk\n") + body_only("Infolettre d'un autre.\n"))
case("mailing_list", head(extra="List-Id: <nouvelles.example.org>\nList-Unsubscribe: "
                          "<mailto:unsub@example.org>\n") + body_only("Message de liste.\n"))

# --- subject --------------------------------------------------------------------------------
case("subject_prefixes", head(subject=b"=?utf-8?q?RE=3A_Fwd=3A_TR=3A_R=C3=89F_=3A_AW=3A_WG="
                              b"3A_=5BCDC=5D_Ouverture_du_frigo?=") + body_only("Texte.\n"))
case("subject_tag_agenda", head(subject="Re: [Agenda] Souper communautaire")
     + body_only("Debut : 2026-12-05 17 h 30\nLieu : Salle municipale\n\nVenez souper.\n"))
case("agenda_event_mid_december", head(subject="[Agenda] Marche aux flambeaux de Noel")
     + body_only("Début : 16 décembre 2026 18 h 00\nLieu : Parc municipal\n\nVenez marcher "
                 "avec nous, chocolat chaud offert.\n"))
case("subject_tag_bons_coups", head(subject="[BONS COUPS] Un frigo qui deborde")
     + body_only("Texte.\n"))
case("subject_tag_financement", head(subject=b"=?utf-8?q?=5BFinancement=5D_Appel_de_projets?=")
     + body_only("Date limite : 15 janvier 2027\n\nDéposez vos projets.\n"))
case("empty_subject", head(subject="") + body_only(
    "Le comptoir alimentaire agrandit ses heures d'ouverture pour les fêtes de fin d'année "
    "et cherche des bénévoles\n\nSuite du texte.\n"))
case("undeclared_8bit_subject", head(subject="Fête de quartier à Montmagny".encode("cp1252"))
     + body_only("Texte.\n"))

# --- body -----------------------------------------------------------------------------------
case("html_only", head() + (
    'Content-Type: text/html; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n'
    '<html><head><title>x</title><style>p{color:red}</style></head><body>'
    '<h1>Grande nouvelle</h1><p>Le <b>frigo</b> ouvre <a href="https://exemple.org/frigo">'
    'ici</a> et <a href="javascript:alert(1)">pas là</a>.</p><script>alert(1)</script>'
    '<ul><li>fruits</li><li>légumes</li></ul><p>Merci,<br>Marie</p>'
    '<div class="gmail_quote">Le mar. 24 nov. 2026 à 09:00, Pivot &lt;pivot@example.org&gt; '
    'a écrit :<br><blockquote>Avez-vous des nouvelles ?</blockquote></div>'
    '</body></html>\n').encode())
case("alternative_prefers_plain", head() + (
    b'Content-Type: multipart/alternative; boundary="A"\n\n--A\n'
    b'Content-Type: text/plain; charset=utf-8\n\nVersion texte.\n--A\n'
    b'Content-Type: text/html; charset=utf-8\n\n<p>Version <b>HTML</b>.</p>\n--A--\n'))
case("quoted_reply_french", head(subject="RE: Appel de nouvelles") + body_only(
    "Voici notre nouvelle pour décembre.\n\nLe mar. 24 nov. 2026 à 09 h 00, Pivot régional "
    "<pivot@example.org>\na écrit :\n> Envoyez-nous vos nouvelles.\n> Merci\n"))
case("outlook_message_origine", head(subject="TR: Appel de nouvelles") + body_only(
    "Notre nouvelle est ci-dessous.\n\nEnvoyé de mon iPhone\n\n"
    "-----Message d'origine-----\nDe : Pivot <pivot@example.org>\n"
    "Envoyé : 24 novembre 2026 09:00\nÀ : CDC\nObjet : Appel de nouvelles\n\n"
    "Envoyez-nous vos nouvelles.\n"))
case("outlook_de_envoye_block", head(subject="RE: Appel") + body_only(
    "Texte de la nouvelle.\n\n-- \nMarie Tremblay\nCDC des Etchemins\n\n"
    "De : Pivot <pivot@example.org>\nEnvoyé : mardi 24 novembre 2026 09:00\n"
    "À : info@cdc-etchemins.example.org\nObjet : Appel\n\nAncien texte.\n"))
case("signature_with_sender_name", head(sender="Marie Tremblay <info@cdc-etchemins.example.org>")
     + body_only("Le souper aura lieu samedi.\n\nInformation :\nMarie Tremblay\n418-555-1234\n\n"
                 "Merci,\nMarie Tremblay\nCoordonnatrice\nCDC des Etchemins\n"))
case("key_lines", head() + body_only(
    "Rubrique : Financement\nTerritoire : Lotbinière\nDate : 2026-11-20\n"
    "Lien : https://exemple.org/appel\nÉchéance : 15 janvier 2027\nContact : Marie Tremblay\n\n"
    "Un appel de projets pour les initiatives locales.\n"))
case("key_lines_event", head() + body_only(
    "rubrique : AGENDA\nterritoire : les-etchemins\nDébut : 5 décembre 2026 10h30\n"
    "Fin : 2026-12-05 14 h 00\nLieu : Salle municipale de Lac-Etchemin\n"
    "Texte alternatif : Affiche du souper, fond orange\n\nVenez nombreux.\n"))
case("key_lines_bad_values", head() + body_only(
    "Rubrique : potins\nTerritoire : Gaspésie\nLien : javascript:alert(1)\n\nTexte.\n"))
case("template_syntax", head() + body_only(
    "Bonjour {{ destinataire.nom }} !\n{% include '/etc/passwd' %}\n{{ 7*7 }}\n"))
case("format_flowed", head() + (
    "Content-Type: text/plain; charset=utf-8; format=flowed\n\n"
    "Une longue phrase coupée \nen deux lignes.\n").encode())

# --- charsets -------------------------------------------------------------------------------
FRENCH = "Fête de Noël : l’équipe a préparé « 200 repas » à Saint-Éphrem — été comme hiver.\n"
case("charset_cp1252_declared_utf8", head() + plain(FRENCH.encode("cp1252"), "utf-8"))
case("charset_cp1252_declared_latin1", head() + plain(FRENCH.encode("cp1252"), "iso-8859-1"))
case("charset_latin1_quoted_printable", head() + plain(
    b"F=EAte de No=EBl =E0 Saint-=C9phrem, =E9t=E9 comme hiver.", "iso-8859-1",
    "quoted-printable"))
case("charset_utf8_base64", head() + plain(base64.encodebytes(FRENCH.encode()), "utf-8",
                                           "base64"))
case("charset_double_encoded_utf8", head() + plain(
    FRENCH.encode("utf-8").decode("cp1252").encode("utf-8"), "utf-8"))
case("charset_utf8_declared_latin1", head() + plain(FRENCH.encode("utf-8"), "iso-8859-1"))
case("charset_undeclared_8bit", head() + b"Content-Type: text/plain\n\n"
     + FRENCH.encode("utf-8"))
case("charset_unknown_name", head() + plain(FRENCH.encode("cp1252"), "x-inconnu"))

# --- attachments ----------------------------------------------------------------------------
case("attachment_names_hostile", head() + mixed(
    plain("Pièces jointes aux noms dangereux.\n"),
    part("application/pdf", PDF, '; filename="../../etc/passwd.pdf"'),
    part("application/pdf", PDF, '; filename="..\\\\..\\\\windows\\\\evil.PDF"'),
    part("application/pdf", PDF, '; filename="nul\x00byte.pdf"'),
    part("application/pdf", PDF, '; filename=".htaccess.pdf"')))
case("attachment_names_encoded", head() + mixed(
    plain("Noms encodés.\n"),
    part("application/pdf", PDF, "; filename*=utf-8''affiche%20%C3%A9t%C3%A9%202026.pdf"),
    part("application/pdf", PDF, '; filename="=?utf-8?q?programme_No=C3=ABl.pdf?="')))


def raw_named(name_params: bytes) -> bytes:
    """A PDF part whose name parameters hold raw 8-bit bytes (no RFC 2231 or 2047 encoding)."""
    return (b"Content-Type: application/pdf" + name_params
            + b"\nContent-Transfer-Encoding: base64\n\n" + base64.encodebytes(PDF))


# Raw Latin-1 names in a Latin-1 message (older Outlook, webmails); a cp1252 name (« ’ »)
# in a message whose text is UTF-8: the names are decoded, never turned into U+FFFD.
case("attachment_names_8bit_latin1", head() + mixed(
    plain("Noms de fichiers en 8 bits bruts.\n", charset="iso-8859-1"),
    raw_named(b'; name="affiche-f\xeate.pdf"\nContent-Disposition: attachment; '
              b'filename="affiche-f\xeate \xe0 Lac-\xc9tchemin.pdf"'),
    raw_named(b'; name="proc\xe8s-verbal.pdf"')))
case("attachment_names_8bit_cp1252_in_utf8", head() + mixed(
    plain("Nom de fichier en Windows-1252 dans un message UTF-8.\n"),
    raw_named(b'\nContent-Disposition: attachment; filename="l\x92affiche-d\xe9cembre.pdf"')))
case("attachment_duplicates", head() + mixed(
    plain("Trois fois la même affiche.\n"),
    part("application/pdf", PDF, '; filename="affiche.pdf"'),
    part("application/pdf", PDF, '; filename="affiche.pdf"'),
    part("application/pdf", PDF, '; filename="Affiche.PDF"')))
case("attachment_refused", head() + mixed(
    plain("Programmes et archives.\n"),
    part("application/octet-stream", b"MZ\x90\x00", '; filename="rapport.exe"'),
    part("application/zip", b"PK\x03\x04", '; filename="photos.zip"'),
    part("application/x-msdownload", b"MZ\x90\x00", '; filename="facture.pdf"'),
    part("application/pdf", b"MZ\x90\x00", '; filename="deguise.pdf"'),
    part("text/javascript", b"alert(1)", '; filename="script.js"')))
case("attachment_winmail_dat", head() + mixed(
    plain("Envoyé depuis Outlook en RTF.\n"),
    part("application/ms-tnef", b"\x78\x9f\x3e\x22", '; filename="winmail.dat"')))
case("attachment_image_alt_from_key", head() + mixed(
    plain("Texte alternatif : Bénévoles devant le frigo\n\nLe frigo est ouvert.\n"),
    part("image/png", b"\x89PNG\r\n\x1a\n" + bytes(20000), '; filename="frigo.png"'),
    part("image/jpeg", JPEG, '; filename="deuxieme.jpg"')))
case("attachment_signature_logo", head() + (
    'Content-Type: multipart/related; boundary="R"\n\n--R\n'
    'Content-Type: text/html; charset=utf-8\n\n<p>Texte</p><img src="cid:logo">\n--R\n'
    'Content-Type: image/png\nContent-ID: <logo>\nContent-Transfer-Encoding: base64\n'
    'Content-Disposition: inline; filename="image001.png"\n\n'
    + base64.encodebytes(b"\x89PNG\r\n\x1a\n" + bytes(200)).decode() + '--R--\n').encode())

# --- limits ---------------------------------------------------------------------------------
case("no_body_no_subject", head(subject=""))
case("no_body_with_subject", head(subject="Nouvelle sans texte"))
case("attachments_only", head(subject="") + mixed(
    part("application/pdf", PDF, '; filename="affiche.pdf"')))


def main() -> None:
    for old in HERE.glob("*.eml"):
        old.unlink()
    for name, data in CASES.items():
        (HERE / f"{name}.eml").write_bytes(data)
    print(f"{len(CASES)} messages written to {HERE}")


if __name__ == "__main__":
    main()
