"""Click's own words in French: « Utilisation : », « Options : », « Erreur : … ».

Click writes its help pages and usage errors with the standard ``gettext`` functions,
imported at the top of each of its modules as ``_`` and ``ngettext`` (the process-wide
domain, which has no French catalog). ``install`` replaces those two names with ``translate``
and ``translate_plural``, which look click's English message up here and return the French
text through our own catalog: these strings are in ``locale/infolettre.pot`` like every
other, so another language is added there. A message of a later click that is not listed
stays as click wrote it rather than failing. Placeholders keep click's names (``{name}``,
``{param_hint}``…) because click fills them in after translation; a French text may leave
one out (``str.format`` ignores the rest).

``Group`` (and the ``Command`` and ``Context`` it makes) also writes headings the French
way, « Options : », and names the subcommand « COMMANDE [ARGUMENTS]... ».
"""

from __future__ import annotations

import importlib
from collections.abc import Callable

import click

from ..i18n import _, ngettext

#: Click's modules that call ``_`` or ``ngettext`` (``_winconsole`` only exists on Windows).
CLICK_MODULES = ("core", "decorators", "exceptions", "formatting", "parser", "termui", "types",
                 "utils", "_termui_impl", "shell_completion")


def messages() -> dict[str, str]:
    """Return click's English messages with their French text (in the active language)."""
    return {
        "Usage:": _("Utilisation :"),
        "Options": _("Options"),
        "Commands": _("Commandes"),
        "Positional arguments": _("Arguments"),
        "Show this message and exit.": _("Afficher ce message et quitter."),
        "Show the version and exit.": _("Afficher la version et quitter."),
        "Confirm the action without prompting.": _("Confirmer sans poser la question."),
        "Error: {message}": _("Erreur : {message}"),
        "Try '{command} {option}' for help.": _("Pour l'aide : {command} {option}"),
        "Aborted!": _("Interrompu."),
        "Missing argument": _("Il manque l'argument"),
        "Missing option": _("Il manque l'option"),
        "Missing parameter": _("Il manque un paramètre"),
        "Missing {param_type}": _("Il manque un paramètre ({param_type})"),
        "Missing parameter: {param_name}": _("Il manque le paramètre {param_name}"),
        "Missing command.": _("Il manque la commande."),
        "No such command {name!r}.": _("Commande inconnue : « {name} »."),
        "No such option {name!r}.": _("Option inconnue : « {name} »."),
        "Option {name!r} does not take a value.": _("L'option « {name} » ne prend pas de "
                                                    "valeur."),
        "Invalid value: {message}": _("Valeur invalide : {message}"),
        "Invalid value for {param_hint}: {message}": _("Valeur invalide pour {param_hint} : "
                                                       "{message}"),
        "Invalid start character for option ({option})": _("Caractère invalide au début "
                                                           "d'une option ({option})"),
        "Could not open file {filename!r}: {message}": _("Impossible d'ouvrir le fichier "
                                                         "« {filename} » : {message}"),
        "unknown error": _("erreur inconnue"),
        "file": _("fichier"),
        "directory": _("dossier"),
        "path": _("chemin"),
        "{name} {filename!r} does not exist.": _("{name} introuvable : « {filename} »."),
        "{name} {filename!r} is a file.": _("{name} « {filename} » : c'est un fichier."),
        "{name} {filename!r} is a directory.": _("{name} « {filename} » : c'est un dossier."),
        "{name} {filename!r} is not readable.": _("{name} « {filename} » : lecture non "
                                                  "permise."),
        "{name} {filename!r} is not writable.": _("{name} « {filename} » : écriture non "
                                                  "permise."),
        "{name} {filename!r} is not executable.": _("{name} « {filename} » : exécution non "
                                                    "permise."),
        "{value!r} is not a valid {number_type}.": _("« {value} » n'est pas un nombre "
                                                     "valide."),
        "{value} is not in the range {range}.": _("{value} n'est pas dans l'intervalle "
                                                  "{range}."),
        "{value!r} is not a valid boolean. Recognized values: {states}": _(
            "« {value} » n'est pas une valeur oui ou non. Valeurs reconnues : {states}"),
        "{value!r} is not a valid UUID.": _("« {value} » n'est pas un UUID valide."),
        "Choose from:\n\t{choices}": _("Choix possibles :\n\t{choices}"),
        "default: {default}": _("défaut : {default}"),
        "env var: {var}": _("variable d'environnement : {var}"),
        "deprecated": _("périmé"),
        "(dynamic)": _("(dynamique)"),
        "DeprecationWarning: The command {name!r} is deprecated.{extra_message}": _(
            "Attention : la commande « {name} » est périmée.{extra_message}"),
        "DeprecationWarning: The {param_type} {name!r} is deprecated.{extra_message}": _(
            "Attention : « {name} » est périmé.{extra_message}"),
        "Do you want to continue?": _("Voulez-vous continuer ?"),
        "Repeat for confirmation": _("Répétez pour confirmer"),
        "Error: The two entered values do not match.": _("Erreur : les deux valeurs saisies "
                                                         "sont différentes."),
        "Error: invalid input": _("Erreur : saisie invalide"),
        "Press any key to continue...": _("Appuyez sur une touche pour continuer…"),
        "{editor}: Editing failed": _("{editor} : la modification a échoué"),
        "{editor}: Editing failed: {e}": _("{editor} : la modification a échoué : {e}"),
    }


def plurals() -> dict[tuple[str, str], Callable[[int], str]]:
    """Return click's English singular/plural pairs with their French text for a count."""
    return {
        ("Got unexpected extra argument ({args})", "Got unexpected extra arguments ({args})"):
            lambda n: ngettext("Argument en trop : {args}", "Arguments en trop : {args}", n),
        ("Did you mean {possibility}?", "(Did you mean one of: {possibilities}?)"):
            lambda n: ngettext("Vouliez-vous dire {possibility} ?",
                               "(Vouliez-vous dire l'une de ces possibilités : "
                               "{possibilities} ?)", n),
        ("Option {name!r} requires an argument.", "Option {name!r} requires {nargs} arguments."):
            lambda n: ngettext("L'option « {name} » demande une valeur.",
                               "L'option « {name} » demande {nargs} valeurs.", n),
        ("Takes {nargs} values but 1 was given.", "Takes {nargs} values but {len} were given."):
            lambda n: ngettext("Demande {nargs} valeurs, mais 1 a été donnée.",
                               "Demande {nargs} valeurs, mais {len} ont été données.", n),
        ("{len_type} values are required, but {len_value} was given.",
         "{len_type} values are required, but {len_value} were given."):
            lambda n: ngettext("{len_type} valeurs sont demandées, mais {len_value} a été "
                               "donnée.", "{len_type} valeurs sont demandées, mais "
                               "{len_value} ont été données.", n),
        ("{value!r} is not {choice}.", "{value!r} is not one of {choices}."):
            lambda n: ngettext("« {value} » n'est pas {choice}.",
                               "« {value} » ne fait pas partie des choix : {choices}.", n),
        ("{value!r} does not match the format {format}.",
         "{value!r} does not match the formats {formats}."):
            lambda n: ngettext("« {value} » ne correspond pas au format {format}.",
                               "« {value} » ne correspond à aucun des formats {formats}.", n),
    }


def translate(message: str) -> str:
    """Return the French text of one of click's messages (the message itself if unknown)."""
    return messages().get(message, message)


def translate_plural(singular: str, plural: str, n: int) -> str:
    """Return the French text of one of click's plural messages, for the count ``n``."""
    french = plurals().get((singular, plural))
    if french is None:
        return singular if n == 1 else plural
    return french(n)


def install() -> None:
    """Make click speak French: its ``_`` and ``ngettext`` become ours (see the docstring)."""
    for name in CLICK_MODULES:
        try:
            module = importlib.import_module(f"click.{name}")
        except ImportError:
            continue
        if hasattr(module, "_"):
            module._ = translate  # type: ignore[attr-defined]
        if hasattr(module, "ngettext"):
            module.ngettext = translate_plural  # type: ignore[attr-defined]


class Formatter(click.HelpFormatter):
    """Click's help formatter, with the space French puts before a colon: « Options : »."""

    def write_heading(self, heading: str) -> None:
        self.write(f"{'':>{self.current_indent}}{heading} :\n")


class Context(click.Context):
    formatter_class = Formatter


class Command(click.Command):
    context_class = Context


class Group(click.Group):
    """A click group whose help, subcommands and subgroups are all in French."""

    context_class = Context
    command_class = Command
    group_class = type  # subgroups (``gather``) are French groups too

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("subcommand_metavar", _("COMMANDE [ARGUMENTS]..."))
        super().__init__(*args, **kwargs)
