"""The print PDF laid out in a second process, started before its HTML exists.

WeasyPrint is most of a build's time: about 0.3 s to load it (and Pango), then the layout
of the pages. ``infolettre build`` starts this process first thing (``cli.early``: even
before the command's own imports), so that loading runs on
the machine's other core while the command reads the news; the print HTML is rendered
first and handed over at once, and the PDF is laid out while the emails and texts are
rendered and written. A thread would not do: the layout is Python, and one interpreter
runs one thread at a time.

The process is a fresh interpreter (``python -m infolettre.render.pdfjob``), never a fork of
the command (a fork after threads is unsafe). The hand-over writes nothing of the build:
the HTML and a copy of the issue's images go to a private temporary folder, so the layout
starts before the build is known to succeed. The PDF stays in the process's memory until
``commit`` names where it goes, at the moment the build writes its files: then it is
written as ``print.write_pdf`` writes it (a temporary file moved into place), and the same
French ``BuildError`` comes back (what, where, how to fix). A job never committed — the
build stopped before its files — writes nothing: its process sees its input end, or is
stopped (``close``).

The conversation, on the process's standard input: one JSON line ``{"folder": …,
"langue": …}`` (the temporary folder, holding ``print.html`` and ``images/``; the language
of the errors), then one JSON line ``{"out": …}`` (the commit). On its standard output, one JSON answer: ``{"ok": true}`` or the error.
"""

from __future__ import annotations

import gc
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from ..errors import BuildError
from ..i18n import _, current_locale

#: The package's folder's parent: the child imports this very infolettre, wherever it is.
_SOURCE = str(Path(__file__).resolve().parents[2])
HTML_NAME = "print.html"


class PdfJobLost(BuildError):
    """The process stopped without an answer (killed, or no Python to run it): the build
    lays the PDF out itself instead (``outputs.write_outputs``)."""


class PdfJob:
    """One PDF laid out in a second process: ``submit``, then ``commit`` and ``wait``."""

    def __init__(self):
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [_SOURCE, env.get("PYTHONPATH")]))
        self._process = subprocess.Popen(
            [sys.executable, "-m", __name__], stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, env=env)
        self._folder: Path | None = None
        self._out: Path | None = None

    @property
    def submitted(self) -> bool:
        return self._folder is not None

    def submit(self, html: str, images: Callable[[Path], None]) -> None:
        """Hand over the print HTML; ``images(folder)`` puts its ``images/…`` in ``folder``."""
        self._folder = Path(tempfile.mkdtemp(prefix="infolettre-pdf-"))
        images(self._folder)
        (self._folder / HTML_NAME).write_text(html, encoding="utf-8")
        # The bulletin's language, for the errors: the process may start before it is known.
        self._say({"folder": str(self._folder), "langue": str(current_locale())})

    def commit(self, out: Path) -> None:
        """Let the PDF be written to ``out`` (the build is writing its files)."""
        self._out = Path(out).resolve()
        self._say({"out": str(self._out)})
        self._end_input()

    def wait(self) -> None:
        """Wait for the PDF; raise the ``BuildError`` the layout or the writing raised."""
        self._end_input()
        answer = self._process.stdout.read()
        code = self._process.wait()
        self._clean()
        try:
            reply = json.loads(answer or b"null")
        except ValueError:
            reply = None
        if isinstance(reply, dict) and reply.get("ok"):
            return
        if isinstance(reply, dict) and "message" in reply:
            raise BuildError(reply["message"], where=reply.get("where"), fix=reply.get("fix"))
        raise PdfJobLost(
            _("la mise en page du PDF a échoué (le processus de mise en page s'est arrêté, "
              "code {code}).").format(code=code),
            where=str(self._out) if self._out else None,
            fix=_("Relancez la commande ; si cela se répète, produisez le numéro avec "
                  "--sans-pdf et signalez-le à la personne qui maintient l'infolettre."))

    def close(self) -> None:
        """Stop the process if it still runs (the build stopped before its PDF)."""
        if self._process.poll() is None:
            self._process.kill()
        self._process.wait()
        self._end_input()
        if not self._process.stdout.closed:
            self._process.stdout.close()
        self._clean()

    def __enter__(self) -> PdfJob:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def _say(self, message: dict) -> None:
        try:
            self._process.stdin.write(json.dumps(message).encode("utf-8") + b"\n")
            self._process.stdin.flush()
        except OSError:  # the process already stopped: ``wait`` says why
            pass

    def _end_input(self) -> None:
        try:
            self._process.stdin.close()
        except OSError:
            pass

    def _clean(self) -> None:
        if self._folder is not None:
            shutil.rmtree(self._folder, ignore_errors=True)


def serve(source, reply) -> int:
    """The second process: load WeasyPrint, lay out the one HTML it is given, and write the
    PDF where the commit says. Writes ``{"ok": true}`` or the error to ``reply``."""
    from .. import i18n
    from .pdf import font_config, lay_out_pdf, load_weasyprint, pdf_error, save_pdf

    data: bytes | None = None
    failure: BaseException | None = None
    try:
        load_weasyprint()
        font_config()  # scans the system's fonts: done while the HTML is being rendered
    except BuildError:
        pass  # said below, in the bulletin's language: ``lay_out_pdf`` loads it again
    header = source.readline()
    if not header:  # the command stopped before the hand-over: nothing to write
        return 0
    request = json.loads(header)
    i18n.activate(request["langue"])
    folder = Path(request["folder"])
    try:
        data = lay_out_pdf((folder / HTML_NAME).read_text(encoding="utf-8"), folder)
    except Exception as exc:  # said in French once the destination is known
        failure = exc
    # Read and laid out: the folder goes now, even if the command is killed before its end.
    shutil.rmtree(folder, ignore_errors=True)
    commit = source.readline()
    if not commit:  # the build stopped before writing its files: neither is the PDF
        return 0
    out = Path(json.loads(commit)["out"])
    try:
        if failure is not None:
            raise failure
        save_pdf(data, out)
    except Exception as exc:
        error = pdf_error(exc, out)
        reply.write(json.dumps({"message": error.message, "where": error.where,
                                "fix": error.fix}).encode("utf-8"))
        return 1
    reply.write(b'{"ok": true}')
    return 0


if __name__ == "__main__":
    # One document, then the process ends and its memory goes back: the cyclic collector
    # would spend ~10 % of the layout finding next to nothing (1 MB on the sample issue).
    gc.disable()
    # Ctrl-C reaches the whole terminal's process group: the command stops this process.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # The answer gets its own copy of stdout; whatever a library prints goes to stderr.
    answer = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    with answer:
        code = serve(sys.stdin.buffer, answer)
    # The PDF is in place and the answer sent: the command waits for this process to end,
    # and tearing down WeasyPrint's modules and objects one by one takes ~0.07 s.
    sys.stderr.flush()
    os._exit(code)
