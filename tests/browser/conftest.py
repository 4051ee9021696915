"""A real HTTP server on a free port and a headless Debian Chromium driven by Playwright."""

import shutil
import threading

import pytest
from werkzeug.serving import make_server

CHROMIUM = "/usr/bin/chromium"
# The machine has no outside network: stop Chromium from trying to reach Google's services.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _closed_before_sending(app):
    """Werkzeug's development server skips closing a response when the browser drops the
    connection mid-send (Chromium does so for the favicon) and the socket then resets: the
    static file stays open until collected, a ResourceWarning. Reading each response whole and
    closing it before anything is written leaves the server nothing to forget."""

    def buffered(environ, start_response):
        response = app(environ, start_response)
        try:
            return [b"".join(response)]
        finally:
            if hasattr(response, "close"):
                response.close()

    return buffered


@pytest.fixture
def live_server(app):
    server = make_server("127.0.0.1", 0, _closed_before_sending(app), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join()


@pytest.fixture(scope="session")
def browser():
    if not shutil.which(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: `make chromium` installs Debian's package")
    from playwright.sync_api import expect, sync_playwright

    # An assertion on the page waits as long as an action may (30 s): a guard against hanging, not a speed test.
    expect.set_options(timeout=30_000)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    yield page
    context.close()
