"""Benchmark: build the sample issue, and compare our MJML step with the official compiler.

Run from the repository root (see bench/README.md):

    .venv/bin/python bench/build.py            # or /tmp/probe/bin/python bench/build.py
    .venv/bin/python bench/build.py --runs 9 --iterations 30 --no-pdf --no-npm

What it measures, in one process, on the sample issue (``infolettre.toml``, month 2026-12):

1. the whole build in memory, ``--runs`` times (median): gather + organize, then for each
   edition its email HTML (Jinja2 → MJML → mjml-python → css-inline) and its text part, and
   the print HTML; the PDF (WeasyPrint) is timed apart;
2. the MJML source of each edition (the same document ``render/email.py`` compiles), compiled
   (a) by mjml-python, in process, ``--iterations`` times, warm (median);
   (b) by the official npm ``mjml`` 4 in ONE Node process (``mjml2html``, warm, same
       options: no fonts, no comments; validation ``skip`` — MRML has none — and also the
       default ``soft``), ``--iterations`` times (median);
   (c) by the npm ``mjml`` command line, once per document (a fresh Node each time: what a
       build calling the CLI per edition would pay).
   npm ``mjml`` is installed by this script into ``bench/node_modules`` from
   ``bench/package.json`` (``npm install --no-audit --no-fund --prefix bench``).

3. the whole ``infolettre build 2026-12`` as a person runs it: a fresh process
   (``python -m infolettre.cli build 2026-12``) in a throwaway copy of the project (content,
   configuration, recipients; templates read from this repository), a fresh output folder
   each time, one warm-up run then ``--wall-runs`` runs (median of the process wall time),
   with the PDF and with ``--sans-pdf``; beside it, where that time goes: ``import
   infolettre.cli`` and loading WeasyPrint, each in a fresh process. The last line is
   ``RATIO build_wall_seconds <median>`` (with ``--no-pdf``: the build ``--sans-pdf``).

Machines are noisy: the ratios (npm / mjml-python) are the result, not the milliseconds.
Never install the PyPI package ``mjml`` (another port that also imports as ``mjml``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from importlib import metadata
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
if str(REPO / "src") not in sys.path:  # runnable without an editable install
    sys.path.insert(0, str(REPO / "src"))

from infolettre import i18n  # noqa: E402
from infolettre.gather.files import gather_files  # noqa: E402
from infolettre.organize import organize  # noqa: E402
from infolettre.render import email as email_mod  # noqa: E402
from infolettre.render.context import base_context, edition_context  # noqa: E402
from infolettre.render.email import render_email_html  # noqa: E402
from infolettre.render.environment import make_environment, render_template  # noqa: E402
from infolettre.render.personalize import Placeholders  # noqa: E402
from infolettre.render.print import render_print_html  # noqa: E402
from infolettre.render.text import render_text  # noqa: E402
from infolettre.settings import load_settings  # noqa: E402

MONTH = "2026-12"
NPM_PACKAGE = "mjml"

#: Compiles every document of a JSON list read on stdin with mjml2html, warm, in one process.
NODE_DRIVER = r"""
const mjml2html = require('mjml');
const input = JSON.parse(require('fs').readFileSync(0, 'utf8'));
async function compile(src, level) {
  let out = mjml2html(src, {fonts: {}, keepComments: false, validationLevel: level});
  if (out && typeof out.then === 'function') out = await out;  // mjml 5 is async
  return out;
}
function median(xs) { const s = [...xs].sort((a, b) => a - b); const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; }
(async () => {
  const result = {};
  for (let i = 0; i < 5; i++)  // warm the JIT on every document before timing any
    for (const doc of input.docs) { await compile(doc.mjml, 'skip'); await compile(doc.mjml, 'soft'); }
  for (const doc of input.docs) {
    const entry = {};
    for (const level of ['skip', 'soft']) {
      const first = await compile(doc.mjml, level);  // the output we report
      const times = [];
      for (let i = 0; i < input.iterations; i++) {
        const t0 = process.hrtime.bigint();
        await compile(doc.mjml, level);
        times.push(Number(process.hrtime.bigint() - t0) / 1e6);
      }
      entry[level] = {ms: median(times), bytes: Buffer.byteLength(first.html, 'utf8'),
                      errors: (first.errors || []).length, mj_left: /<mj-[a-z]/i.test(first.html)};
    }
    result[doc.name] = entry;
  }
  process.stdout.write(JSON.stringify(result));
})().catch(e => { console.error(e && e.stack || e); process.exit(1); });
"""


def median_ms(seconds: list[float]) -> float:
    return statistics.median(seconds) * 1000


def timed(fn, *args, **kwargs):
    start = time.perf_counter()
    value = fn(*args, **kwargs)
    return value, time.perf_counter() - start


# --- our build ---------------------------------------------------------------------------

def mjml_source(env, ctx) -> str:
    """The MJML document ``render_email_html`` compiles for one edition."""
    if hasattr(email_mod, "render_mjml"):  # if render/email.py grows a helper, use it
        return email_mod.render_mjml(env, ctx)
    return render_template(env, email_mod.TEMPLATE, **ctx, **email_mod.email_helpers())


def build_once(settings) -> dict:
    """Build the sample issue in memory once; return timings (seconds) and the outputs."""
    t = {}
    (items, _problems), t["gather"] = timed(gather_files, settings, MONTH)
    issue, t["organize"] = timed(organize, items, settings, MONTH)
    env = make_environment(settings.paths.gabarits)
    base = base_context(issue, settings, Placeholders())
    editions = {}
    for edition in issue.editions:
        ctx = edition_context(base, issue, edition, settings)
        html, t_html = timed(render_email_html, env, ctx, settings)
        text, t_text = timed(render_text, env, ctx)
        editions[edition.slug] = {"html": html, "text": text, "ctx": ctx,
                                  "t_html": t_html, "t_text": t_text}
    print_html, t["print"] = timed(render_print_html, env, base)
    return {"t": t, "editions": editions, "print_html": print_html, "env": env,
            "issue": issue}


def time_pdf(settings, print_html: str, issue, runs: int) -> list[float]:
    from infolettre.render.outputs import copy_images
    from infolettre.render.context import IMAGES_DIR
    from infolettre.render.print import write_pdf
    from infolettre.models import RenderedIssue

    times = []
    with tempfile.TemporaryDirectory(prefix="infolettre-bench-") as tmp:
        out = Path(tmp)
        copy_images(RenderedIssue(issue=issue, editions=(), print_html=print_html),
                    out / IMAGES_DIR, settings)
        for _ in range(runs):
            _none, seconds = timed(write_pdf, print_html, out, out / "print.pdf")
            times.append(seconds)
        pdf_bytes = (out / "print.pdf").stat().st_size
    return times, pdf_bytes


# --- the whole command, as a person runs it -----------------------------------------------

def scratch_project(folder: Path) -> Path:
    """Copy the sample project into ``folder`` (templates stay in the repository)."""
    for name in ("content",):
        shutil.copytree(REPO / name, folder / name)
    for name in ("recipients.csv",):
        shutil.copy2(REPO / name, folder / name)
    config = (REPO / "infolettre.toml").read_text(encoding="utf-8")
    templates = json.dumps(str(REPO / "templates"))  # a TOML basic string
    config, found = re.subn(r'(?m)^gabarits\s*=\s*"[^"]*"', f"gabarits = {templates}", config)
    if found != 1:
        raise RuntimeError("infolettre.toml: the line « gabarits = … » was not found")
    (folder / "infolettre.toml").write_text(config, encoding="utf-8")
    return folder


def child_env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": os.pathsep.join(
        filter(None, [str(REPO / "src"), os.environ.get("PYTHONPATH")]))}


def wall(command: list[str], cwd: Path, fresh: Path | None = None) -> float:
    """Run ``command`` once (``fresh`` removed first); return its wall time in seconds."""
    if fresh is not None:
        shutil.rmtree(fresh, ignore_errors=True)
    start = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, env=child_env(), capture_output=True)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed ({done.returncode}):\n"
                           f"{done.stderr.decode(errors='replace')[-3000:]}")
    return seconds


def time_command(runs: int, pdf: bool) -> dict[str, list[float]]:
    """Median-able wall times of the whole build, and of its two big imports."""
    python = [sys.executable]
    build = python + ["-m", "infolettre.cli", "build", MONTH]
    result: dict[str, list[float]] = {"build": [], "sans_pdf": [], "import_cli": [],
                                      "import_weasyprint": []}
    with tempfile.TemporaryDirectory(prefix="infolettre-wall-") as tmp:
        root = scratch_project(Path(tmp))
        out = root / "build"
        wall(build + (["--sans-pdf"] if not pdf else []), root, out)  # warm-up (disk cache)
        for _ in range(max(1, runs)):
            if pdf:
                result["build"].append(wall(build, root, out))
                result["pdf_bytes"] = [(out / MONTH / "print.pdf").stat().st_size]
            result["sans_pdf"].append(wall(build + ["--sans-pdf"], root, out))
            result["import_cli"].append(wall(python + ["-c", "import infolettre.cli"], root))
            if pdf:
                result["import_weasyprint"].append(wall(python + [
                    "-c", "from infolettre.render.pdf import load_weasyprint; "
                          "load_weasyprint()"], root))
    return result


# --- MJML compilers ----------------------------------------------------------------------

def time_mjml_python(sources: dict[str, str], iterations: int) -> dict[str, dict]:
    from mjml import mjml2html  # mjml-python (MRML)

    result = {}
    for src in list(sources.values()) * 3:  # warm-up, like the Node driver
        html = mjml2html(src, fonts={}, disable_comments=True)
    for name, src in sources.items():
        html = mjml2html(src, fonts={}, disable_comments=True)
        times = []
        for _ in range(iterations):
            _out, seconds = timed(mjml2html, src, fonts={}, disable_comments=True)
            times.append(seconds)
        result[name] = {"ms": median_ms(times), "bytes": len(html.encode("utf-8"))}
    return result


def ensure_npm_mjml() -> Path | None:
    """Install npm mjml into bench/node_modules if needed; return the CLI path or None."""
    cli = BENCH / "node_modules" / ".bin" / "mjml"
    if cli.exists():
        return cli
    npm = shutil.which("npm")
    if not npm or not shutil.which("node"):
        print("!! node/npm not found: the npm mjml comparison is skipped.", file=sys.stderr)
        return None
    print("Installing npm mjml into bench/node_modules (once)…", file=sys.stderr)
    done = subprocess.run([npm, "install", "--no-audit", "--no-fund", "--prefix", str(BENCH)],
                          cwd=BENCH, capture_output=True, text=True)
    if done.returncode != 0 or not cli.exists():
        print(f"!! npm install failed:\n{done.stderr[-2000:]}", file=sys.stderr)
        return None
    return cli


def time_npm_inprocess(sources: dict[str, str], iterations: int) -> dict[str, dict]:
    payload = json.dumps({"iterations": iterations,
                          "docs": [{"name": n, "mjml": s} for n, s in sources.items()]})
    env = {**os.environ, "NODE_PATH": str(BENCH / "node_modules")}
    done = subprocess.run(["node", "-e", NODE_DRIVER], input=payload, cwd=BENCH, env=env,
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"node driver failed:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout)


CLI_OPTIONS = ["--config.fonts", "{}", "--config.keepComments", "false",
               "--config.validationLevel", "skip"]


def time_npm_cli(cli: Path, sources: dict[str, str]) -> tuple[dict[str, dict], float]:
    """Run the CLI once per document; then once for all documents (one process, -o DIR)."""
    result = {}
    with tempfile.TemporaryDirectory(prefix="infolettre-mjml-") as tmp:
        paths = []
        for name, src in sources.items():
            path = Path(tmp) / f"{name}.mjml"
            path.write_text(src, encoding="utf-8")
            paths.append(str(path))
            command = [str(cli), "-r", str(path), "-s", "--noStdoutFileComment", *CLI_OPTIONS]
            done, seconds = timed(subprocess.run, command, capture_output=True, check=False)
            if done.returncode != 0:
                raise RuntimeError(f"mjml CLI failed on {name}:\n"
                                   f"{done.stderr.decode(errors='replace')[-2000:]}")
            result[name] = {"ms": seconds * 1000, "bytes": len(done.stdout)}
        out = Path(tmp) / "out"
        out.mkdir()
        command = [str(cli), "-r", *paths, "-o", str(out) + "/", *CLI_OPTIONS]
        done, all_seconds = timed(subprocess.run, command, capture_output=True, check=False)
        if done.returncode != 0 or len(list(out.iterdir())) != len(paths):
            raise RuntimeError(f"mjml CLI failed on all documents:\n"
                               f"{done.stderr.decode(errors='replace')[-2000:]}")
    return result, all_seconds * 1000


# --- report ------------------------------------------------------------------------------

def version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "?"


def node_versions() -> str:
    try:
        node = subprocess.run(["node", "--version"], capture_output=True, text=True).stdout.strip()
        pkg = json.loads((BENCH / "node_modules" / "mjml" / "package.json").read_text())
        return f"node {node}, npm mjml {pkg['version']}"
    except (OSError, ValueError, KeyError):
        return "node/npm mjml: not available"


def ratio(a: float | None, b: float) -> str:
    return "—" if a is None or not b else f"{a / b:,.0f}×" if a / b >= 10 else f"{a / b:.1f}×"


def fmt(ms: float | None) -> str:
    if ms is None:
        return "—"
    return f"{ms:.2f}" if ms < 1 else f"{ms:,.1f}" if ms < 100 else f"{ms:,.0f}"


def table(headers: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]
    line = lambda cells: "| " + " | ".join(  # noqa: E731
        c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths))) + " |"
    sep = "|" + "|".join(("-" * (w + 2)) if i == 0 else ("-" * (w + 1) + ":")
                         for i, w in enumerate(widths)) + "|"
    return "\n".join([line(headers), sep] + [line(r) for r in rows])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="builds of the issue (median)")
    parser.add_argument("--iterations", type=int, default=50,
                        help="warm compilations per document and compiler (median)")
    parser.add_argument("--pdf-runs", type=int, default=3, help="PDF renders (0: skip)")
    parser.add_argument("--no-pdf", action="store_true", help="skip the PDF")
    parser.add_argument("--no-npm", action="store_true", help="skip the npm mjml comparison")
    parser.add_argument("--wall-runs", type=int, default=5,
                        help="runs of the whole `infolettre build` command (median)")
    args = parser.parse_args(argv)

    os.chdir(REPO)
    settings = load_settings(REPO / "infolettre.toml")
    i18n.activate(settings.identity.langue)

    print(f"infolettre bench — {dt.date.today().isoformat()} — {platform.node() or 'host'}: "
          f"{os.cpu_count()} CPU, Python {platform.python_version()}, "
          f"mjml-python {version('mjml-python')}, css-inline {version('css-inline')}, "
          f"WeasyPrint {version('weasyprint')}")

    builds = []
    for _ in range(max(1, args.runs)):
        start = time.perf_counter()
        build = build_once(settings)
        build["t"]["total"] = time.perf_counter() - start
        builds.append(build)
    last = builds[-1]
    slugs = list(last["editions"])
    html_ms = {s: median_ms([b["editions"][s]["t_html"] for b in builds]) for s in slugs}
    text_ms = {s: median_ms([b["editions"][s]["t_text"] for b in builds]) for s in slugs}
    editions_total = median_ms([sum(e["t_html"] + e["t_text"] for e in b["editions"].values())
                                for b in builds])
    print_ms = median_ms([b["t"]["print"] for b in builds])
    issue = last["issue"]

    print(f"\nSample issue {MONTH}: {len(issue.items)} items, {len(slugs)} editions; "
          f"median of {len(builds)} builds (each with a fresh Jinja2 environment, as "
          f"`infolettre build` has: template compilation included).")
    print(f"  gather (read + validate files): {fmt(median_ms([b['t']['gather'] for b in builds]))} ms"
          f" · organize: {fmt(median_ms([b['t']['organize'] for b in builds]))} ms")
    print(f"  all editions (email HTML + text): {fmt(editions_total)} ms"
          f" = {fmt(editions_total / len(slugs))} ms per edition")
    print(f"  print HTML: {fmt(print_ms)} ms")
    print(f"  whole build in memory (gather → print HTML): "
          f"{fmt(median_ms([b['t']['total'] for b in builds]))} ms")
    pdf_times: list[float] = []
    if not args.no_pdf and args.pdf_runs > 0:
        pdf_times, pdf_bytes = time_pdf(settings, last["print_html"], issue, args.pdf_runs)
        print(f"  PDF (WeasyPrint, apart): {fmt(median_ms(pdf_times))} ms median of "
              f"{len(pdf_times)} (first {fmt(pdf_times[0] * 1000)} ms), {pdf_bytes / 1024:,.0f} KB")

    sources = {s: mjml_source(last["env"], last["editions"][s]["ctx"]) for s in slugs}
    py = time_mjml_python(sources, args.iterations)
    npm_in = npm_cli = cli_all_ms = None
    if not args.no_npm:
        cli = ensure_npm_mjml()
        if cli:
            npm_in = time_npm_inprocess(sources, args.iterations)
            npm_cli, cli_all_ms = time_npm_cli(cli, sources)

    rows = []
    for s in slugs:
        src_kb = len(sources[s].encode("utf-8")) / 1024
        html_kb = len(last["editions"][s]["html"].encode("utf-8")) / 1024
        skip = npm_in[s]["skip"]["ms"] if npm_in else None
        soft = npm_in[s]["soft"]["ms"] if npm_in else None
        c = npm_cli[s]["ms"] if npm_cli else None
        rows.append([s, f"{src_kb:.1f}", f"{html_kb:.1f}", f"{py[s]['bytes'] / 1024:.1f}",
                     f"{npm_in[s]['skip']['bytes'] / 1024:.1f}" if npm_in else "—",
                     fmt(html_ms[s]), fmt(text_ms[s]), fmt(py[s]["ms"]), fmt(skip), fmt(soft),
                     fmt(c), ratio(skip, py[s]["ms"]), ratio(soft, py[s]["ms"]),
                     ratio(c, py[s]["ms"])])
    tot = lambda d, k=None: sum((d[s][k]["ms"] if k else d[s]["ms"]) for s in slugs)  # noqa: E731
    py_t = tot(py)
    rows.append(["ALL", f"{sum(len(v.encode()) for v in sources.values()) / 1024:.1f}",
                 f"{sum(len(e['html'].encode()) for e in last['editions'].values()) / 1024:.1f}",
                 f"{sum(py[s]['bytes'] for s in slugs) / 1024:.1f}",
                 f"{sum(npm_in[s]['skip']['bytes'] for s in slugs) / 1024:.1f}" if npm_in else "—",
                 fmt(sum(html_ms.values())), fmt(sum(text_ms.values())), fmt(py_t),
                 fmt(tot(npm_in, "skip") if npm_in else None),
                 fmt(tot(npm_in, "soft") if npm_in else None),
                 fmt(tot(npm_cli) if npm_cli else None),
                 ratio(tot(npm_in, "skip") if npm_in else None, py_t),
                 ratio(tot(npm_in, "soft") if npm_in else None, py_t),
                 ratio(tot(npm_cli) if npm_cli else None, py_t)])
    print(f"\nMJML → HTML per edition ({node_versions()}); ms are medians of "
          f"{args.iterations} warm compilations, except the CLI (one fresh process per document).")
    print(table(["edition", "MJML KB", "email KB", "mjml-python KB", "npm KB", "email ms", "text ms",
                 "mjml-python ms", "npm in-proc ms (skip)", "npm in-proc ms (soft)",
                 "npm CLI ms", "ratio in-proc skip", "ratio in-proc soft", "ratio CLI"], rows))
    print("\nemail KB: the email we send (after css-inline); mjml-python KB / npm KB: each "
          "compiler's raw output for the same MJML. email ms / text ms: our whole email step "
          "(Jinja2 → MJML → mjml-python → css-inline → size check) and text part, per edition, "
          "median of the builds (each build makes a fresh Jinja2 environment, as `infolettre "
          "build` does, so the first edition also pays for compiling the templates). Ratios "
          "are npm mjml / mjml-python on the same MJML.")
    if cli_all_ms is not None:
        print(f"npm CLI once for all {len(slugs)} documents (one process, -o DIR): "
              f"{fmt(cli_all_ms)} ms = {ratio(cli_all_ms, py_t)} mjml-python's total.")
    if npm_in:
        build_ms = median_ms([b["t"]["total"] for b in builds])
        print(f"Effect on a whole build ({fmt(build_ms)} ms): npm in-process instead of "
              f"mjml-python adds ~{fmt(tot(npm_in, 'skip') - py_t)} ms "
              f"(+{(tot(npm_in, 'skip') - py_t) / build_ms:.0%}, plus Node's start and the "
              f"hand-over of each document); the CLI per edition adds "
              f"~{fmt(tot(npm_cli) - py_t)} ms (×{(build_ms + tot(npm_cli) - py_t) / build_ms:.1f}).")
        left = [s for s in slugs if npm_in[s]["skip"]["mj_left"] or npm_in[s]["soft"]["mj_left"]]
        if left:
            print(f"!! npm mjml left <mj-…> tags in: {left}")
        errors = {s: npm_in[s]["soft"]["errors"] for s in slugs if npm_in[s]["soft"]["errors"]}
        if errors:
            print(f"npm mjml validation (soft) reported errors: {errors}")
    build_ms = median_ms([b["t"]["total"] for b in builds])
    if pdf_times:  # what the PDF costs next to everything else of a build, in one run
        print(f"PDF (in process) / build in memory: {median_ms(pdf_times) / build_ms:.2f}")
    print(f"Email and text share of the build in memory: {editions_total / build_ms:.2f}")

    pdf = not args.no_pdf
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    command = time_command(args.wall_runs, pdf)
    med = {k: statistics.median(v) for k, v in command.items() if v}
    print(f"\nThe whole `infolettre build {MONTH}` (a fresh process, a fresh output folder; "
          f"median of {args.wall_runs} after one warm-up; load average {load:.2f} before):")
    if pdf:
        print(f"  with the PDF: {med['build']:.3f} s (runs: "
              f"{', '.join(f'{x:.3f}' for x in command['build'])}), print.pdf "
              f"{med['pdf_bytes'] / 1024:,.0f} KB")
    print(f"  --sans-pdf: {med['sans_pdf']:.3f} s")
    print(f"  of which, each in a fresh process: `import infolettre.cli` "
          f"{med['import_cli']:.3f} s" + (f"; loading WeasyPrint {med['import_weasyprint']:.3f} s"
                                          if pdf else ""))
    if pdf:
        print(f"  the PDF (laid out in a second process, beside the rendering) adds "
              f"{med['build'] - med['sans_pdf']:.3f} s to the command; in process it takes "
              f"{median_ms(pdf_times) / 1000:.3f} s once WeasyPrint is loaded"
              if pdf_times else "")
    print(f"RATIO build_wall_seconds {med['build'] if pdf else med['sans_pdf']:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
