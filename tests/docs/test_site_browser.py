"""The built site, opened page by page in a real browser (Debian's Chromium, headless).

The site is built once (``mkdocs build --strict``, as ``make docs``), served on 127.0.0.1 and every page
is opened: a console error, a request that leaves 127.0.0.1 (the site must work offline), a same-site
link, image, stylesheet or script that does not answer 200, an image that does not decode, or a page
without its title fails. Search finds a construct by name.

Chromium comes from Debian (``apt-get install chromium``): installed here when missing and running as
root; otherwise the test is skipped with the reason, except with ``CI=true``, where it fails.
"""
from __future__ import annotations

import functools
import http.server
import os
import shutil
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urldefrag, urljoin, urlparse

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def _unavailable(reason: str) -> None:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{reason} (CI=true: the browser test may not be skipped)")
    pytest.skip(reason)


def _chromium() -> str:
    """The path of Debian's Chromium, installed with apt-get when missing and running as root."""
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found:
        return found
    if not shutil.which("apt-get"):
        _unavailable("Chromium is not installed and there is no apt-get to install it (apt-get install chromium)")
    if os.geteuid() != 0:
        _unavailable("Chromium is not installed, and installing it needs root: run `apt-get install -y chromium`")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    install = ["apt-get", "install", "-y", "-qq", "--no-install-recommends", "chromium"]
    if subprocess.run(install, env=env, capture_output=True).returncode != 0:
        subprocess.run(["apt-get", "update", "-qq"], env=env, capture_output=True)
        result = subprocess.run(install, env=env, capture_output=True, text=True)
        if result.returncode != 0:
            _unavailable(f"apt-get install chromium failed: {result.stderr.strip()[-500:]}")
    found = shutil.which("chromium")
    if not found:
        _unavailable("apt-get installed chromium, but there is no `chromium` on the PATH")
    return found


@pytest.fixture(scope="session")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The site, built once with --strict (a warning fails the build, as in `make docs`)."""
    site_dir = tmp_path_factory.mktemp("docs") / "site"
    result = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site_dir)],
                            cwd=ROOT, capture_output=True, text=True, env={**os.environ, "NO_MKDOCS_2_WARNING": "1"})
    assert result.returncode == 0, f"mkdocs build --strict failed:\n{result.stdout}\n{result.stderr}"
    return site_dir


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


class _Server(http.server.ThreadingHTTPServer):
    def handle_error(self, request: object, client_address: tuple) -> None:
        # The browser drops connections it no longer needs when it moves to the next page.
        if not isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            super().handle_error(request, client_address)


@pytest.fixture(scope="session")
def base_url(site: Path) -> Iterator[str]:
    server = _Server(("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(site)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    executable = _chromium()
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("the Python package playwright is not installed (requirements-dev.txt)")
    with sync_playwright() as playwright:
        # Debian's Chromium, never a downloaded one (no `playwright install`).
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def _pages(site: Path) -> list[str]:
    """Every page of the site, as a path relative to its root ('' is the home page)."""
    pages = sorted(str(path.parent.relative_to(site)) for path in site.rglob("index.html"))
    return ["" if page == "." else f"{page}/" for page in pages]


def test_every_page_opens_without_errors_and_its_links_and_images_answer(site: Path, base_url: str, browser) -> None:
    # GIVEN every page of the built site
    pages = _pages(site)
    assert len(pages) >= 30, pages
    problems: list[str] = []
    same_site: dict[str, str] = {}  # URL (no fragment) → the first page that refers to it
    context = browser.new_context()
    page = context.new_page()
    for path in pages:
        url = base_url + path
        errors: list[str] = []
        page.on("console", on_console := lambda message: message.type == "error" and errors.append(message.text))
        page.on("pageerror", on_error := lambda error: errors.append(str(error)))
        page.on("request", on_request := lambda request: urlparse(request.url).scheme in ("http", "https")
                and not request.url.startswith(base_url) and errors.append(f"request leaves the site: {request.url}"))
        page.on("response", on_response := lambda response: response.status >= 400
                and errors.append(f"{response.status} for {response.url}"))
        # WHEN it is opened
        response = page.goto(url, wait_until="load")
        page.wait_for_load_state("networkidle")
        # THEN it answers 200, has its title, logs no error, and every image decodes
        if response is None or response.status != 200:
            problems.append(f"{path or '/'}: HTTP {response.status if response else 'no response'}")
        title = page.title().strip()
        if not title or (path and title == "Serverless logging constructs for AWS CDK"):
            problems.append(f"{path or '/'}: no page title ({title!r})")
        problems += [f"{path or '/'}: {error}" for error in errors]
        broken_images = page.eval_on_selector_all(
            "img", "imgs => imgs.filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.src)")
        problems += [f"{path or '/'}: image does not load: {src}" for src in broken_images]
        for target in page.eval_on_selector_all(
                "a[href], img[src], link[href], script[src]", "els => els.map(e => e.href || e.src)"):
            target = urldefrag(urljoin(url, target)).url
            if target.startswith(base_url):
                same_site.setdefault(target, path or "/")
        for event, handler in (("console", on_console), ("pageerror", on_error),
                               ("request", on_request), ("response", on_response)):
            page.remove_listener(event, handler)
    context.close()
    # AND every same-site link and resource answers 200
    for target, referrer in sorted(same_site.items()):
        try:
            with urllib.request.urlopen(target, timeout=10) as answer:
                status = answer.status
        except urllib.error.HTTPError as error:
            status = error.code
        if status != 200:
            problems.append(f"{referrer}: link to {target[len(base_url) - 1:]} answers {status}")
    assert problems == [], "\n".join(problems)
    assert len(same_site) > len(pages)


def test_search_finds_a_construct_by_name(base_url: str, browser) -> None:
    # GIVEN the home page
    page = browser.new_page()
    page.goto(base_url, wait_until="load")
    # WHEN "LogPipeline" is typed into the search box
    page.click("input.md-search__input")
    page.keyboard.type("LogPipeline")
    # THEN a result links to the construct's page
    page.wait_for_selector(".md-search-result__item", timeout=15_000)
    hrefs = page.eval_on_selector_all(".md-search-result__item a", "links => links.map(a => a.href)")
    page.close()
    assert any("constructs/log-pipeline/" in href for href in hrefs), hrefs
