"""The print PDF: ``print.html`` laid out by WeasyPrint, offline.

Only ``file:`` and ``data:`` URLs are fetched, and only files under the build folder (where
``images/`` is copied). The PDF is written to a temporary file, then moved into place, so a
failed build never leaves a half-written ``print.pdf``. Apart from the HTML (``print``):
the process that lays the PDF out (``pdfjob``) imports this alone, not Jinja2 or Markdown.
"""

from __future__ import annotations

import contextlib
import io
import sys
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit
from urllib.request import url2pathname

from ..errors import BuildError
from ..fsutil import write_durably
from ..i18n import _
from .paging import mark_long, tall_notices


def load_weasyprint():
    """Import WeasyPrint, explaining in French what to install when it cannot load."""
    try:
        weasyprint = _import_weasyprint()
    except (ImportError, OSError) as exc:
        raise BuildError(
            _("WeasyPrint n'a pas pu être chargé ({detail}) : la version PDF ne peut pas être "
              "produite.").format(detail=exc),
            fix=_("Installez les bibliothèques système : sudo apt-get install libpango-1.0-0 "
                  "libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core, puis relancez "
                  "la commande.")) from None
    return weasyprint


def _import_weasyprint():
    """Import WeasyPrint without the library search that costs a build ~0.2 s.

    WeasyPrint opens Pango, HarfBuzz and Fontconfig trying several names for each; for every
    name ``dlopen`` refuses, cffi calls ``ctypes.util.find_library``, which runs ldconfig, gcc
    and ld (54 processes on Debian). Each platform's own file name (``libpango-1.0.so.0``,
    ``….dylib``, ``….dll``) is in WeasyPrint's list and ``dlopen`` finds it by itself: so the
    search answers « not found » during the import. Where that is not enough (a system whose
    libraries only the search finds), the import is done again, with the search.
    """
    if "weasyprint" in sys.modules:
        return sys.modules["weasyprint"]
    import ctypes.util

    search = ctypes.util.find_library
    ctypes.util.find_library = lambda name: None
    try:
        with contextlib.redirect_stdout(io.StringIO()):  # its « could not import » notice
            import weasyprint
        return weasyprint
    except (ImportError, OSError):
        ctypes.util.find_library = search
        import weasyprint
        return weasyprint
    finally:
        ctypes.util.find_library = search


@lru_cache(maxsize=1)
def font_config():
    """One FontConfiguration for the whole process (building it scans the system fonts)."""
    from weasyprint.text.fonts import FontConfiguration
    return FontConfiguration()


def local_fetcher(root: Path):
    """Return a URL fetcher that reads ``data:`` URLs and files under ``root`` only."""
    return _fetcher_class()(root)


@lru_cache(maxsize=1)
def _fetcher_class():
    weasyprint = load_weasyprint()

    class LocalFetcher(weasyprint.URLFetcher):
        """Fetch ``data:`` URLs and files under one folder; anything else is refused."""

        def __init__(self, root: Path):
            super().__init__(allowed_protocols={"file", "data"}, timeout=5)
            self.root = root.resolve()

        def fetch(self, url, headers=None):
            if url.lower().startswith("file:"):
                path = Path(url2pathname(urlsplit(url).path)).resolve()
                if not path.is_relative_to(self.root):
                    raise ValueError(f"file outside the build folder: {url}")
            return super().fetch(url, headers)

    return LocalFetcher


def write_pdf(html: str, base_dir: Path, out: Path) -> None:
    """Write the PDF of ``html`` to ``out``; ``images/…`` resolve against ``base_dir``."""
    out = Path(out)
    try:
        data = lay_out_pdf(html, base_dir)
        save_pdf(data, out)
    except BuildError:
        raise
    except Exception as exc:
        raise pdf_error(exc, out) from exc


def lay_out_pdf(html: str, base_dir: Path) -> bytes:
    """Lay ``html`` out and return its PDF; ``images/…`` resolve against ``base_dir``.

    Raises what WeasyPrint raises (``pdf_error`` says it in French), or a ``BuildError``.
    """
    weasyprint = load_weasyprint()
    base_dir = Path(base_dir).resolve()

    def lay_out(source: str):
        return weasyprint.HTML(string=source, base_url=base_dir.as_uri() + "/",
                               url_fetcher=local_fetcher(base_dir)).render(
            font_config=font_config())

    document = lay_out(html)
    tall = tall_notices(document)
    if tall:  # rare: only then a second layout, where they may continue (render.paging)
        document = lay_out(mark_long(html, tall))
    return document.write_pdf()


def save_pdf(data: bytes, out: Path) -> None:
    """Put the PDF in place at once (a temporary file, then renamed)."""
    # 0644, not mkstemp's 0600: a web server may publish the PDF with the archive.
    write_durably(out, lambda handle: handle.write(data))


def pdf_error(exc: BaseException, out: Path) -> BuildError:
    """Say in French why the PDF of ``out`` could not be made (``exc``: what was raised)."""
    if isinstance(exc, BuildError):
        return exc
    if isinstance(exc, OSError):
        return BuildError(
            _("impossible d'écrire la version PDF ({detail}).").format(
                detail=exc.strerror or exc),
            where=str(out),
            fix=_("Vérifiez que le dossier de sortie existe, qu'il est accessible en écriture, "
                  "que le disque n'est pas plein et que le PDF n'est pas ouvert dans un autre "
                  "programme."))
    # WeasyPrint raises many kinds; all mean "no PDF".
    return BuildError(
        _("la mise en page du PDF a échoué ({kind} : {detail}).").format(
            kind=type(exc).__name__, detail=exc),
        where=str(out),
        fix=_("Vérifiez le gabarit templates/print.html.j2 ; relancez avec --debug pour "
              "voir le détail, et signalez-le à la personne qui maintient l'infolettre."))
