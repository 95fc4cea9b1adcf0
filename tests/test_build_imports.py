"""What ``infolettre build`` loads: only what it uses (issue 16, the build's wall time).

The package ``infolettre.pipeline`` gives each action on first use; WeasyPrint loads without
its library search (54 processes). Each check runs in a fresh interpreter: what a module
imports depends on what was imported before.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
import types

from infolettre import pipeline

from .conftest import REPO


def run(code: str, *path: str) -> str:
    prefix = "".join(f"import sys; sys.path.insert(0, {p!r})\n" for p in path)
    done = subprocess.run([sys.executable, "-c", prefix + textwrap.dedent(code)],
                          capture_output=True, text=True, cwd=REPO)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_the_build_command_imports_neither_sending_nor_archive_nor_weasyprint():
    """The PDF is laid out by a second process; the command itself needs none of these."""
    loaded = run("""
        import sys
        import infolettre.cli
        from infolettre.pipeline import build
        heavy = ("weasyprint", "infolettre.deliver.ledger", "infolettre.publish.site",
                 "infolettre.pipeline.bounces", "infolettre.pipeline.issue", "icalendar",
                 "httpx", "flask")
        print(sorted(m for m in heavy if m in sys.modules))
    """)
    assert loaded == "[]"


def test_every_action_is_found_where_it_always_was():
    for name in pipeline.__all__:
        assert callable(getattr(pipeline, name)), name
    for module in ("held", "previews", "review", "review_edit", "dashboard", "schedule"):
        assert isinstance(getattr(pipeline, module), types.ModuleType), module
    assert not hasattr(pipeline, "pas_une_action")


def test_publish_stays_the_action_once_its_module_is_imported():
    """Python puts a submodule under its name in the package: not over the action."""
    kinds = run("""
        import types
        import infolettre.pipeline.publish
        from infolettre import pipeline
        from infolettre.pipeline import publish
        print(isinstance(pipeline.publish, types.FunctionType),
              isinstance(publish, types.FunctionType))
    """)
    assert kinds == "True True"


def test_weasyprint_loads_without_running_a_single_process():
    spawned = run("""
        import subprocess
        started = []
        real = subprocess.Popen.__init__
        def spy(self, args, *rest, **kwargs):
            started.append(args)
            real(self, args, *rest, **kwargs)
        subprocess.Popen.__init__ = spy
        from infolettre.render.pdf import load_weasyprint
        load_weasyprint()
        print(len(started))
    """)
    assert spawned == "0"


def test_weasyprint_loads_with_the_library_search_where_it_is_needed(tmp_path):
    """A system whose libraries only ``ctypes.util.find_library`` finds: imported again,
    with the search, and the search is given back as it was."""
    fake = tmp_path / "weasyprint"
    fake.mkdir()
    (fake / "__init__.py").write_text(textwrap.dedent("""
        import ctypes.util
        if ctypes.util.find_library("c") is None:
            raise OSError("cannot load library 'libfoo'")
        FOUND = True
    """), encoding="utf-8")
    result = run("""
        import ctypes.util
        before = ctypes.util.find_library
        from infolettre.render.pdf import load_weasyprint
        print(load_weasyprint().FOUND, ctypes.util.find_library is before)
    """, str(tmp_path))
    assert result == "True True"
