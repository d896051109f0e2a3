"""The documentation site, opened in headless Chromium.

Builds the site with tools/build_docs.py (what `make docs` runs) when docs/_build/html is missing,
serves it from a local http.server on 127.0.0.1, visits every page (every HTML file of the build
and every internal link found on the way), and checks that each loads with a title and that every
internal link resolves: to a page the server has (no 404) and, when it has a #fragment, to an
element with that id on the target page. Every resource the pages load (CSS, scripts, images) must
be served too. External links are listed in tests/output/docs_external_links.txt, not fetched.
A screenshot of the index is saved as tests/output/docs_site_index.png.

Skipped only when the docs tooling (antsibull-docs, Sphinx, ...) or Chromium is not installed.
"""

from __future__ import annotations

import functools
import http.server
import shutil
import subprocess
import sys
import threading
from collections import deque
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import unquote, urldefrag, urlsplit

import pytest
from headless_chromium import headless_chromium

REPO = Path(__file__).resolve().parent.parent.parent
HTML = REPO / "docs" / "_build" / "html"
OUTPUT = REPO / "tests" / "output"
SCREENSHOT = OUTPUT / "docs_site_index.png"
EXTERNAL_LINKS = OUTPUT / "docs_external_links.txt"
BUILD = [sys.executable, str(REPO / "tools" / "build_docs.py")]

# Pages the build must have: one per guide, plugin and role.
EXPECTED_PAGES = [
    "index.html",
    "quickstart.html",
    "authentication.html",
    "bootstrap.html",
    "configuration.html",
    "approvals.html",
    "promotion.html",
    "awx.html",
    "troubleshooting.html",
    "performance.html",
    "reliability.html",
    "collections/processmaker/core/index.html",
    *(f"collections/processmaker/core/{name}_module.html" for name in ("pm_token", "pm_api", "pm_resource",
                                                                       "pm_package", "pm_auth_client", "pm_request",
                                                                       "pm_task")),
    *(f"collections/processmaker/core/{name}_lookup.html" for name in ("pm_token", "pm_api")),
    *(f"collections/processmaker/core/{name}_role.html" for name in ("token", "configure", "service_account")),
]

pytestmark = pytest.mark.slow


SOURCES = ("docs/*.md", "docs/conf.py", "README.md", "plugins/**/*.py", "roles/*/meta/*.yml", "roles/*/README.md")


def stale() -> bool:
    """No build yet, or a source of the site changed since the last one (a developer's own build is reused
    only while it is current)."""
    index = HTML / "index.html"
    if not index.exists():
        return True
    built = index.stat().st_mtime
    return any(path.stat().st_mtime > built for pattern in SOURCES for path in REPO.glob(pattern))


@pytest.fixture(scope="module")
def site() -> Path:
    """The built site; built here when it is missing or older than its sources."""
    if stale():
        check = subprocess.run([*BUILD, "--check-tools"], capture_output=True, text=True, check=False)
        if check.returncode == 3:
            pytest.skip(f"docs tooling not installed: {check.stderr.strip()}")
        build = subprocess.run(BUILD, capture_output=True, text=True, check=False, cwd=REPO, timeout=600)
        assert build.returncode == 0, f"make docs failed:\n{build.stdout[-3000:]}\n{build.stderr[-3000:]}"
    return HTML


class Server:
    """http.server on a free loopback port, recording the status of every request."""

    def __init__(self, root: Path) -> None:
        self.statuses: dict[str, int] = {}
        server = self

        class Handler(http.server.SimpleHTTPRequestHandler):
            def log_request(self, code="-", size="-"):
                server.statuses[urlsplit(self.path).path] = int(getattr(code, "value", code))

            def log_message(self, format, *args):
                pass

        handler = functools.partial(Handler, directory=str(root))
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}/"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> Server:  # noqa: PYI034 (a final class in a test)
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def chromium(tmp_path: Path) -> Iterator:
    with headless_chromium(tmp_path / "chromium-profile") as driver:
        yield driver


LINKS_JS = "return Array.from(document.querySelectorAll('a[href]')).map(a => a.href);"
IDS_JS = ("return Array.from(document.querySelectorAll('[id]')).map(e => e.id)"
          ".concat(Array.from(document.querySelectorAll('a[name]')).map(a => a.name));")


# building the site is ~20 s of CPU: make test-deep (CI runs it), and make docs
@pytest.mark.deep
def test_every_page_loads_and_every_internal_link_resolves(site: Path, chromium) -> None:
    missing = [page for page in EXPECTED_PAGES if not (site / page).is_file()]
    assert not missing, f"pages missing from the build: {missing}"
    with Server(site) as server:
        base = server.base
        todo = deque([base + "index.html"] + sorted(base + str(p.relative_to(site)) for p in site.rglob("*.html")))
        visited: dict[str, dict] = {}
        links: list[tuple[str, str]] = []  # (page, internal link with its fragment)
        external: set[str] = set()
        while todo:
            url = todo.popleft()
            if url in visited:
                continue
            chromium.get(url)
            page = {
                "title": chromium.title.strip(),
                "status": server.statuses.get(urlsplit(url).path),
                "ids": set(chromium.execute_script(IDS_JS)),
            }
            visited[url] = page
            if url == base + "index.html":
                OUTPUT.mkdir(parents=True, exist_ok=True)
                chromium.save_screenshot(str(SCREENSHOT))
            for href in chromium.execute_script(LINKS_JS):
                if href.startswith(base):
                    links.append((url, href))
                    target, _ = urldefrag(href)
                    if target.endswith("/"):
                        target += "index.html"
                    if target.endswith(".html") and target not in visited:
                        todo.append(target)
                elif href.startswith(("http://", "https://")):
                    external.add(href)
                elif not href.startswith(("mailto:", "javascript:")):
                    pytest.fail(f"{url}: unexpected link {href}")

        problems = []
        for url, page in visited.items():
            if page["status"] != 200:
                problems.append(f"{url}: HTTP {page['status']}")
            if not page["title"] or "404" in page["title"] or "Error response" in page["title"]:
                problems.append(f"{url}: bad title {page['title']!r}")
        for source, href in links:
            target, fragment = urldefrag(href)
            if target.endswith("/"):
                target += "index.html"
            if target in visited:
                if fragment and unquote(fragment) not in visited[target]["ids"]:
                    problems.append(f"{source}: link {href}: no #{fragment} on that page")
            elif not (site / unquote(urlsplit(target).path).lstrip("/")).is_file():
                problems.append(f"{source}: link {href}: no such file")
        failed_resources = {path: status for path, status in server.statuses.items() if status >= 400}
        if failed_resources:
            problems.append(f"resources the pages asked for and did not get: {failed_resources}")

    EXTERNAL_LINKS.write_text("".join(f"{link}\n" for link in sorted(external)))
    print(f"{len(visited)} pages, {len(links)} internal links, {len(external)} external links"
          f" (listed in {EXTERNAL_LINKS.relative_to(REPO)}, not fetched); screenshot {SCREENSHOT.relative_to(REPO)}")
    assert not problems, "\n".join(problems)
    assert SCREENSHOT.stat().st_size > 10_000
    expected = {base + page for page in EXPECTED_PAGES}
    assert expected <= set(visited)


# building the site is ~20 s of CPU: make test-deep (CI runs it), and make docs
@pytest.mark.deep
def test_index_links_the_guides_and_the_reference(site: Path) -> None:
    """The index names every guide and every plugin and role, so nothing is only reachable by search."""
    index = (site / "index.html").read_text(encoding="utf-8")
    for page in EXPECTED_PAGES[1:]:
        assert f'href="{page}' in index or f'href="{page}#' in index, f"index.html does not link {page}"


def test_build_docs_refuses_to_run_without_the_tooling(tmp_path: Path) -> None:
    """The skip reason above depends on this: --check-tools exits 3 and names what is missing."""
    python = shutil.which("python3") or sys.executable
    bare = tmp_path / "venv"
    subprocess.run([python, "-m", "venv", "--without-pip", str(bare)], check=True)
    result = subprocess.run([str(bare / "bin" / "python"), *BUILD[1:], "--check-tools"], capture_output=True,
                            text=True, check=False, env={"PATH": str(bare / "bin")})
    assert result.returncode == 3, result
    assert "antsibull-docs" in result.stderr and "make setup" in result.stderr
