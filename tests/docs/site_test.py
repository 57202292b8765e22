"""The documentation site in a real browser (headless Debian Chromium).

The site is built (reusing the quick runs of the tutorial notebooks), served
from `site/` on 127.0.0.1 at a free port, and driven with Selenium: every
page loads without console errors, every internal link and image resolves,
the formulas on the MLP page are typeset by MathJax, search finds
"backpropagation", and screenshots of the MLP API page and of tutorial 03
are saved under `outputs/screenshots/`.

Chromium and chromedriver come from apt (`make chromium`, run by
`make test`); without them these tests fail and say so.
"""

import concurrent.futures
import functools
import html.parser
import http.server
import re
import shutil
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest
import site_build

REPO = site_build.REPO
SITE = REPO / "site"
SCREENSHOTS = REPO / "outputs" / "screenshots"
CHROMIUM = shutil.which("chromium")
CHROMEDRIVER = shutil.which("chromedriver")
PAGE_TIMEOUT_S = 30

pytestmark = pytest.mark.large


class _Handler(http.server.SimpleHTTPRequestHandler):
    """Serves the site and remembers every path answered with 404."""

    missing = []

    def log_message(self, format, *args):
        pass

    def send_error(self, code, message=None, explain=None):
        if code == 404:
            self.missing.append(self.path)
        super().send_error(code, message, explain)


@pytest.fixture(scope="module")
def site():
    site_build.write_notebooks()
    site_build.execute_all()  # no-op for the runs the notebook test made
    site_build.write_tutorial_pages()
    site_build.write_api_pages()
    site_build.mkdocs_build()
    assert (SITE / "index.html").exists()
    return SITE


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        # A browser that drops a connection it no longer needs is no error.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


@pytest.fixture(scope="module")
def server(site):
    _Handler.missing = []
    handler = functools.partial(_Handler, directory=str(site))
    httpd = _Server(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()
    httpd.server_close()
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser():
    if not (CHROMIUM and CHROMEDRIVER):
        pytest.fail(
            "the browser test needs Debian's chromium and chromium-driver "
            f"(found chromium={CHROMIUM}, chromedriver={CHROMEDRIVER}): "
            "run `make chromium` (apt-get install -y chromium chromium-driver)"
        )
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="refnn-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        "--window-size=1280,1600",
        f"--user-data-dir={profile}",
    ):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(
        options=options, service=Service(executable_path=CHROMEDRIVER)
    )
    driver.set_page_load_timeout(PAGE_TIMEOUT_S)
    yield driver
    driver.quit()
    shutil.rmtree(profile, ignore_errors=True)


def _wait(condition, what, timeout=PAGE_TIMEOUT_S):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def _status(url):
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def _pages(site):
    return sorted(
        p.relative_to(site).as_posix()
        for p in site.glob("**/*.html")
        if p.name != "404.html"
        and "javascripts" not in p.parts
        and "assets" not in p.parts
    )


class _Links(html.parser.HTMLParser):
    """The `href` and `src` targets of one HTML page."""

    def __init__(self):
        super().__init__()
        self.targets = []

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name in ("href", "src") and value:
                self.targets.append(value)


def test_every_internal_link_and_image_resolves(site, server):
    pages = _pages(site)
    assert "index.html" in pages and "api/models/MLP.html" in pages
    assert len([p for p in pages if p.startswith("tutorials/")]) == 16
    found = {}  # url -> first page linking to it
    for page in pages:
        parser = _Links()
        parser.feed((site / page).read_text())
        for target in parser.targets:
            url = urllib.parse.urldefrag(
                urllib.parse.urljoin(server + page, target)
            )
            if url.url.startswith(server):
                found.setdefault(url.url, page)
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        status = dict(zip(found, pool.map(_status, found)))
    broken = [f"{found[u]} -> {u} ({c})" for u, c in status.items() if c != 200]
    assert broken == [], "broken links or images:\n" + "\n".join(broken)
    assert len(found) > len(pages)
    assert any(u.endswith(".png") for u in found), "no figure is linked"
    assert any(u.endswith(".ipynb") for u in found), "no notebook is linked"


def test_every_page_loads_without_console_errors(site, server, browser):
    errors, unrendered = [], []
    _Handler.missing = []
    for page in _pages(site):
        browser.get(server + page)
        _wait(
            lambda: browser.execute_script("return document.readyState")
            == "complete",
            f"{page} to load",
        )
        for entry in browser.get_log("browser"):
            if entry["level"] in ("SEVERE", "ERROR"):
                errors.append(f"{page}: {entry['message']}")
        unrendered += [
            f"{page}: {src}"
            for src in browser.execute_script(
                "return [...document.images]"
                ".filter(i => i.complete && i.naturalWidth === 0)"
                ".map(i => i.src)"
            )
        ]
    assert errors == [], "console errors:\n" + "\n".join(errors)
    assert unrendered == [], "images that did not render:\n" + "\n".join(
        unrendered
    )
    assert _Handler.missing == [], f"404s: {sorted(set(_Handler.missing))}"


def test_math_renders_on_the_mlp_page(server, browser):
    browser.get(server + "api/models/MLP.html")
    typeset = _wait(
        lambda: browser.find_elements("css selector", "mjx-container"),
        "MathJax to typeset the MLP formulas",
    )
    assert len(typeset) >= 5
    # Typeset math has a size; a raw "\(" left in the text means it failed.
    assert all(e.size["width"] > 0 for e in typeset)
    body = browser.find_element("css selector", "article").text
    assert "\\(" not in body and "\\[" not in body
    assert "compute_gradients" in body  # the docstring's members are there
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    shot = SCREENSHOTS / "api_models_MLP.png"
    assert browser.save_screenshot(str(shot))
    assert shot.stat().st_size > 20_000


def test_search_finds_backpropagation(server, browser):
    browser.get(server + "index.html")
    box = _wait(
        lambda: browser.find_element("css selector", "input.md-search__input"),
        "the search box",
    )
    box.click()
    box.send_keys("backpropagation")  # results appear as one types
    links = _wait(
        lambda: [
            a.get_attribute("href")
            for a in browser.find_elements(
                "css selector", "a.md-search-result__link"
            )
            if "03_backpropagation" in a.get_attribute("href")
        ],
        "tutorial 03 among the results for 'backpropagation'",
        timeout=60,
    )
    assert links
    results = browser.find_elements("css selector", "li.md-search-result__item")
    assert "backprop" in " ".join(r.text for r in results).lower()


def test_tutorial_03_shows_its_figures(server, browser):
    browser.get(server + "tutorials/03_backpropagation.html")
    figures = _wait(
        lambda: [
            i
            for i in browser.find_elements("css selector", "article img")
            if "figures/03_backpropagation/" in i.get_attribute("src")
        ],
        "tutorial 03's figures",
    )
    assert len(figures) >= 2
    figure = figures[0]
    browser.execute_script("arguments[0].scrollIntoView(true);", figure)
    _wait(
        lambda: browser.execute_script(
            "return arguments[0].complete && arguments[0].naturalWidth",
            figure,
        ),
        "the first figure to load",
    )
    body = browser.find_element("css selector", "article").text
    assert "Download the notebook" in body
    assert "Seed sections:" in body
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    shot = SCREENSHOTS / "tutorial_03_backpropagation.png"
    assert browser.save_screenshot(str(shot))
    assert shot.stat().st_size > 20_000


def test_the_site_needs_no_network(site):
    """No page loads a script, style, font or image from another host."""
    remote = re.compile(
        r"<(?:script|img|iframe)[^>]+src=[\"']https?:"
        r"|<link[^>]+href=[\"']https?:"
        r"|url\([\"']?https?:"
    )
    loads = [
        page.relative_to(site).as_posix()
        for page in sorted(site.glob("**/*.html"))
        if remote.search(page.read_text())
    ]
    assert loads == [], f"pages that load remote resources: {loads}"
    styles = [
        css.relative_to(site).as_posix()
        for css in sorted(site.glob("assets/**/*.css"))
        if re.search(r"url\([\"']?https?:", css.read_text())
    ]
    assert styles == [], f"stylesheets that load remote resources: {styles}"
    assert (site / "javascripts" / "mathjax" / "tex-chtml.js").exists()
    assert (site / "search" / "search_index.js").exists()
