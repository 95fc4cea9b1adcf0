"""The print PDF laid out in a second process, started before its HTML exists.

WeasyPrint is most of a build's time: about 0.3 s to import it (and load Pango), then the
layout of the pages. ``infolettre build`` starts this process first thing, so that import
runs on the machine's other core while the command reads the news and renders the emails;
the HTML is handed over as soon as it exists, and the PDF is laid out while the emails and
texts are written. A thread would not do: the layout is Python, and one interpreter runs
one thread at a time.

The process is a fresh interpreter (``python -m infolettre.render.pdfjob``), never a fork of
the command (a fork after threads is unsafe). It does what ``print.write_pdf`` does, with
the same guarantees: the PDF is written to a temporary file then moved into place, the same
French ``BuildError`` comes back (what, where, how to fix). If the command stops before the
hand-over, the process sees its input end and leaves without writing anything; a job never
waited for is stopped (``close``).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

from ..errors import BuildError
from ..i18n import _

#: The package's folder's parent: the child imports this very infolettre, wherever it is.
_SOURCE = str(Path(__file__).resolve().parents[2])


class PdfJob:
    """One PDF to lay out in a second process: ``submit`` the HTML, then ``wait``."""

    def __init__(self, langue: str):
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [_SOURCE, env.get("PYTHONPATH")]))
        self._process = subprocess.Popen(
            [sys.executable, "-m", __name__, langue], stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, env=env)
        self._out: Path | None = None

    def submit(self, html: str, base_dir: Path, out: Path) -> None:
        """Hand over the print HTML; ``images/…`` must already be in ``base_dir``."""
        self._out = Path(out)
        request = json.dumps({"base_dir": str(Path(base_dir).resolve()),
                              "out": str(Path(out).resolve())})
        try:
            self._process.stdin.write(request.encode("utf-8") + b"\n" + html.encode("utf-8"))
            self._process.stdin.close()
        except OSError:  # the process already stopped: ``wait`` says why
            pass

    def wait(self) -> None:
        """Wait for the PDF; raise the ``BuildError`` the layout raised, if any."""
        if self._process.stdin and not self._process.stdin.closed:
            self._process.stdin.close()
        answer = self._process.stdout.read()
        code = self._process.wait()
        try:
            reply = json.loads(answer or b"null")
        except ValueError:
            reply = None
        if isinstance(reply, dict) and reply.get("ok"):
            return
        if isinstance(reply, dict) and "message" in reply:
            raise BuildError(reply["message"], where=reply.get("where"), fix=reply.get("fix"))
        raise BuildError(
            _("la mise en page du PDF a échoué (le processus de mise en page s'est arrêté, "
              "code {code}).").format(code=code),
            where=str(self._out) if self._out else None,
            fix=_("Relancez la commande ; si cela se répète, produisez le numéro avec "
                  "--sans-pdf et signalez-le à la personne qui maintient l'infolettre."))

    def close(self) -> None:
        """Stop the process if it still runs (the build stopped before the PDF)."""
        if self._process.poll() is None:
            self._process.kill()
        self._process.wait()
        for stream in (self._process.stdin, self._process.stdout):
            if stream and not stream.closed:
                stream.close()

    def __enter__(self) -> PdfJob:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()


def serve(langue: str, source, reply) -> int:
    """The second process: load WeasyPrint, then lay out the one HTML read from ``source``.

    Writes to ``reply`` ``{"ok": true}`` or the ``BuildError`` as JSON; returns the exit code.
    """
    from .. import i18n
    from .pdf import font_config, load_weasyprint, write_pdf

    i18n.activate(langue)
    try:
        load_weasyprint()
        font_config()  # scans the system's fonts: done while the HTML is being rendered
        header = source.readline()
        if not header:  # the command stopped before the hand-over: nothing to write
            return 0
        request = json.loads(header)
        write_pdf(source.read().decode("utf-8"), Path(request["base_dir"]),
                  Path(request["out"]))
    except BuildError as exc:
        reply.write(json.dumps({"message": exc.message, "where": exc.where,
                                "fix": exc.fix}).encode("utf-8"))
        return 1
    reply.write(b'{"ok": true}')
    return 0


if __name__ == "__main__":
    # Ctrl-C reaches the whole terminal's process group: the command stops this process.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # The answer gets its own copy of stdout; whatever a library prints goes to stderr.
    answer = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    with answer:
        code = serve(sys.argv[1], sys.stdin.buffer, answer)
    sys.exit(code)
