#!/usr/bin/env python3
"""`make docs`: build the documentation site into docs/_build/html.

1. Stage the Sphinx source in docs/_build/rst: docs/conf.py and every guide in docs/ (Markdown via
   myst-parser, or reStructuredText).
2. Generate the reference of every module, lookup and role with antsibull-docs
   (``antsibull-docs collection --use-current``) into docs/_build/rst/collections, from this
   checkout linked as ansible_collections/processmaker/core in a private temporary directory.
3. ``sphinx-build -b html`` into docs/_build/html, warnings as errors (``--strict``, the default;
   ``--no-strict`` to only print them).

Needs antsibull-docs, Sphinx, sphinx-ansible-theme and myst-parser (requirements-dev.txt) and
ansible-core, all in the interpreter running this script. Nothing is fetched from the network.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DOCS = REPO / "docs"
BUILD = DOCS / "_build"
SOURCE = BUILD / "rst"
HTML = BUILD / "html"
COLLECTION = "processmaker.core"

# Files of docs/ that are not pages of their own.
NOT_PAGES = {"README.md"}
TOOLS = ("antsibull-docs", "sphinx-build", "ansible-doc")


def bin_dir() -> Path:
    """The directory of this interpreter's scripts (the virtualenv's bin/)."""
    return Path(sys.executable).parent


def missing_tools() -> list:
    """Which of the needed commands or packages are not installed next to this interpreter."""
    missing = [tool for tool in TOOLS if not (bin_dir() / tool).exists() and shutil.which(tool) is None]
    for module in ("myst_parser", "sphinx_ansible_theme", "sphinx_antsibull_ext"):
        try:
            __import__(module)
        except ImportError:
            missing.append(module)
    return missing


def stage() -> None:
    """Copy conf.py and the guides into the staging source directory."""
    if SOURCE.exists():
        shutil.rmtree(SOURCE)
    SOURCE.mkdir(parents=True)
    for path in sorted(DOCS.iterdir()):
        if path.is_file() and (path.suffix in (".md", ".rst") or path.name == "conf.py") and path.name not in NOT_PAGES:
            shutil.copy2(path, SOURCE / path.name)
    static = DOCS / "_static"
    if static.is_dir():
        shutil.copytree(static, SOURCE / "_static")


def generate_reference(env: dict) -> None:
    """antsibull-docs: one page per module, lookup and role, plus the indexes."""
    with tempfile.TemporaryDirectory(prefix="pm-docs-") as tmp:
        link = Path(tmp) / "ansible_collections" / "processmaker" / "core"
        link.parent.mkdir(parents=True)
        link.symlink_to(REPO, target_is_directory=True)
        dest = Path(tmp) / "out"
        dest.mkdir(mode=0o700)  # antsibull-docs wants a directory only its owner may write
        env = dict(env, ANSIBLE_COLLECTIONS_PATH=tmp, ANSIBLE_COLLECTIONS_SCAN_SYS_PATH="false")
        run(["antsibull-docs", "collection", "--use-current", "--dest-dir", str(dest), COLLECTION], env)
        shutil.copytree(dest / "collections", SOURCE / "collections")


def run(command: list, env: dict) -> None:
    print("==> " + " ".join(command), flush=True)
    subprocess.run(command, env=env, check=True, cwd=REPO)


def main(argv: list | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-strict", dest="strict", action="store_false",
                        help="do not turn Sphinx warnings into errors")
    parser.add_argument("--check-tools", action="store_true",
                        help="only say whether the docs tooling is installed (exit 0 when it is, 3 when not)")
    args = parser.parse_args(argv)

    missing = missing_tools()
    if args.check_tools or missing:
        if missing:
            print(f"docs tooling not installed: {', '.join(missing)}; run `make setup`"
                  " (requirements-dev.txt lists antsibull-docs, Sphinx, sphinx-ansible-theme, myst-parser)",
                  file=sys.stderr)
            return 3
        return 0

    started = time.monotonic()
    env = dict(os.environ)
    env["PATH"] = str(bin_dir()) + os.pathsep + env.get("PATH", "")  # antsibull-docs runs ansible-doc
    env.setdefault("ANSIBLE_NOCOLOR", "1")
    stage()
    generate_reference(env)
    if HTML.exists():
        shutil.rmtree(HTML)
    sphinx = ["sphinx-build", "-b", "html", "-q", "-j", "auto", "-d", str(BUILD / "doctrees"), str(SOURCE), str(HTML)]
    if args.strict:
        sphinx[1:1] = ["-W", "--keep-going"]
    run(sphinx, env)
    pages = sorted(str(path.relative_to(HTML)) for path in HTML.rglob("*.html"))
    print(f"==> {len(pages)} pages in {HTML.relative_to(REPO)} ({time.monotonic() - started:.1f}s);"
          f" open {HTML.relative_to(REPO)}/index.html")
    return 0


if __name__ == "__main__":
    sys.exit(main())
