"""Browser journeys in Debian's Chromium through Playwright (never a downloaded browser).

Each journey starts a real server on a free port with its own database, and a
``Journey`` that signs in, visits pages and runs axe-core (vendored) on every
page it visits: 0 WCAG 2.2 AA violations allowed. Areas add their journeys as
tests/browser/test_<area>_journey.py using the fixtures below.
"""
from __future__ import annotations

import hashlib
import json
import re
import threading
from pathlib import Path

import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import expect
from werkzeug.serving import make_server

from peerapp import create_app
from peerapp.cli import upgrade_schema
from peerapp.db import db

ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / "static" / "vendor" / "axe-core-4.14.1.min.js"
CHROMIUM = "/usr/bin/chromium"
VIEWPORTS = {"desktop": {"width": 1280, "height": 900}, "tablet": {"width": 768, "height": 1024}}
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]

pytestmark = pytest.mark.browser


@pytest.fixture(scope="session")
def browser_type_launch_args():
    if not Path(CHROMIUM).exists():
        pytest.fail("Debian's chromium is missing: `make test` installs it (apt-get install chromium)")
    return {"executable_path": CHROMIUM, "headless": True,
            "args": ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                     "--disable-quic", "--disable-component-update", "--disable-sync", "--no-first-run"]}


class LiveServer:
    """``mount``: serve the app under that path, as waitress --url-prefix does."""

    def __init__(self, app, mount: str = ""):
        self.app = app
        served = app
        if mount:
            from werkzeug.exceptions import NotFound
            from werkzeug.middleware.dispatcher import DispatcherMiddleware
            served = DispatcherMiddleware(NotFound(), {mount: app})
        self._server = make_server("127.0.0.1", 0, served, threaded=True)
        self.url = f"http://127.0.0.1:{self._server.server_port}{mount}"
        # shutdown() waits for the serving loop's next poll: half a second by default,
        # after every journey.
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)
        self._thread.start()

    def stop(self):
        self._server.shutdown()
        self._thread.join(timeout=5)


@pytest.fixture
def server(database_target):
    """A running peerapp on its own database of the engine under test (schema only;
    seed what you need with ``with server.app.app_context(): ...`` or ``seed_demo``)."""
    app = create_app({"DATABASE": database_target, "SECRET_KEY": "browser-tests",
                      "WTF_CSRF_SSL_STRICT": False, "REPORT_FIGURES_SECONDS": 0})
    with app.app_context():
        upgrade_schema()
    live = LiveServer(app)
    yield live
    live.stop()
    if not db.is_closed():
        db.close()


def _seed_demo(server: LiveServer) -> None:
    from peerapp.demo import load_demo
    with server.app.app_context(), db.connection_context():
        load_demo()


@pytest.fixture
def seed_demo():
    """seed_demo(server): the same demo data `make run` shows, every installed area included."""
    return _seed_demo


_PASSED: set[str] = set()  # fingerprints of pages axe has passed in this test process


class Journey:
    """A person's path through the app. Every visited page is checked with axe."""

    def __init__(self, page, server: LiveServer, java_script: bool = True):
        self.page = page
        self.server = server
        self.java_script = java_script
        self.checked: list[str] = []

    def url(self, path: str) -> str:
        return self.server.url + path

    def visit(self, path: str):
        response = self.page.goto(self.url(path))
        assert response is not None and response.status < 400, f"{path} answered {response and response.status}"
        self.check_accessibility()
        return response

    def login(self, email: str, password: str) -> None:
        self.page.goto(self.url("/login"))
        self.check_accessibility()
        self.page.get_by_label("Email address").fill(email)
        self.page.get_by_label("Password").fill(password)
        self.page.get_by_role("button", name="Sign in").click()
        # click() may return before the POST's redirect lands: wait for the page after it.
        expect(self.page, "sign-in failed").not_to_have_url(re.compile(r"/login(\?|$)"))
        self.page.wait_for_load_state()
        self.check_accessibility()

    def logout(self) -> None:
        self.page.get_by_role("button", name="Log out").click()
        self.page.wait_for_url("**/login**")
        self.check_accessibility()

    MARKUP = """() => {
        let html = document.documentElement.outerHTML;
        for (const e of document.querySelectorAll('input[name=csrf_token], meta[name=csrf-token]')) {
            const token = e.value || e.content;
            if (token) html = html.split(token).join('');
        }
        return window.innerWidth + ' ' + html; }"""

    def _markup(self) -> str:
        """The page's markup without its CSRF tokens. Just after a click on a link the
        next page may still be loading (no document yet): wait for it, then read."""
        try:
            return self.page.evaluate(self.MARKUP)
        except PlaywrightError:
            self.page.wait_for_load_state()
            return self.page.evaluate(self.MARKUP)

    def check_accessibility(self) -> None:
        """Run axe-core on the current page; fail on any WCAG 2.2 AA violation.
        axe needs JavaScript: with it off, the same pages are checked by the JS-on journeys."""
        if not self.java_script:
            return
        # Its stylesheets too: contrast (and a test's sizes after this) depend on them,
        # and a page can be shown before they have arrived.
        self.page.wait_for_load_state()
        # A page whose markup and viewport axe has already passed gives the same
        # answer again (the sign-in page, a list revisited): check each once per run.
        markup = self._markup()
        fingerprint = hashlib.sha256(markup.encode()).hexdigest()
        if fingerprint in _PASSED:
            self.checked.append(self.page.url)
            return
        # Loaded from our own origin: the CSP allows it, as it allows nothing inline.
        if not self.page.evaluate("typeof window.axe !== 'undefined'"):
            self.page.add_script_tag(url=self.url("/static/vendor/axe-core-4.14.1.min.js"))
        result = self.page.evaluate(
            "async (tags) => { const r = await axe.run(document, {runOnly: {type: 'tag', values: tags}});"
            " return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,"
            " nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))})); }", AXE_TAGS)
        self.checked.append(self.page.url)
        assert result == [], f"axe found WCAG violations on {self.page.url}:\n{json.dumps(result, indent=2)}"
        _PASSED.add(fingerprint)


@pytest.fixture(params=list(VIEWPORTS), ids=list(VIEWPORTS))
def device(request) -> str:
    return request.param


@pytest.fixture
def journey(browser, server, device):
    """A Journey in a fresh browser context at the device's viewport (desktop and tablet)."""
    context = browser.new_context(viewport=VIEWPORTS[device], has_touch=(device == "tablet"))
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield Journey(page, server)
    context.close()


@pytest.fixture
def make_journey(browser, server):
    """For journeys with several people: make_journey("tablet", java_script=False)."""
    contexts = []

    def make(device: str = "desktop", java_script: bool = True) -> Journey:
        context = browser.new_context(viewport=VIEWPORTS[device], has_touch=(device == "tablet"),
                                      java_script_enabled=java_script)
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(10_000)
        return Journey(page, server, java_script=java_script)

    yield make
    for context in contexts:
        context.close()
