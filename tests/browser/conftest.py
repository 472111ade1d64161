"""Headless Chromium from Debian's package, driven by Playwright (never a browser download)."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

CHROMIUM = os.environ.get("OMNITILL_CHROMIUM", "/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="package")
def browser() -> Iterator[object]:
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"Chromium not found at {CHROMIUM}: apt-get install -y chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        yield chromium
        chromium.close()


# --- page watching and screenshots (register and back-office tests) -----------------------

ARTIFACTS = os.path.join(os.path.dirname(__file__), "..", "..", "test-artifacts")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    setattr(item, f"report_{report.when}", report)


# Endpoints that page scripts call and whose refusals they show.
HANDLED_BY_SCRIPTS = ("/api/", "/register/login", "/register/unlock", "/register/logout")


class PageWatch:
    """Every page of a test context reports its console errors and failed requests here.

    A failed request is one the network failed, any 5xx answer, or a 4xx for a page or a
    static file. A 4xx answer to a page script's call (the JSON API, the register's PIN
    endpoints) is an answer the page handles and shows (a refused coupon, a wrong PIN, "no
    open shift"), so it and Chromium's console line about it are not counted.
    """

    def __init__(self) -> None:
        self.console_errors: list[str] = []
        self.failed_requests: list[str] = []
        self.pages: list[object] = []
        self.contexts: list[object] = []

    def context(self, browser: object, **options: object) -> object:
        """A new browser context, closed after the test (and after any screenshots)."""
        context = browser.new_context(**options)  # type: ignore[attr-defined]
        self.contexts.append(context)
        return context

    def watch(self, page: object) -> None:
        self.pages.append(page)
        page.on("console", self._console)  # type: ignore[attr-defined]
        page.on("pageerror", lambda exc: self.console_errors.append(f"pageerror: {exc}"))  # type: ignore[attr-defined]
        page.on(
            "requestfailed",  # type: ignore[attr-defined]
            lambda req: self.failed_requests.append(f"{req.method} {req.url}: {req.failure}"),
        )
        page.on("response", self._response)  # type: ignore[attr-defined]

    def _console(self, msg: object) -> None:
        if msg.type != "error":  # type: ignore[attr-defined]
            return
        url = (msg.location or {}).get("url", "")  # type: ignore[attr-defined]
        handled = any(f"{part}" in url for part in HANDLED_BY_SCRIPTS)
        if "Failed to load resource" in msg.text and handled:  # type: ignore[attr-defined]
            status = int(msg.text.split("status of ")[1][:3]) if "status of " in msg.text else 0  # type: ignore[attr-defined]
            if 400 <= status < 500:
                return
        self.console_errors.append(f"{msg.text} @ {url}")  # type: ignore[attr-defined]

    def _response(self, response: object) -> None:
        status = response.status  # type: ignore[attr-defined]
        url = response.url  # type: ignore[attr-defined]
        scripted = response.request.resource_type in ("fetch", "xhr")  # type: ignore[attr-defined]
        if status >= 500 or (status >= 400 and not scripted):
            self.failed_requests.append(f"{status} {url}")

    def assert_clean(self) -> None:
        assert self.console_errors == []
        assert self.failed_requests == []


@pytest.fixture
def page_watch(request: pytest.FixtureRequest) -> Iterator[PageWatch]:
    """Collects console errors and failed requests; on a failed test, saves a screenshot of
    every watched page to test-artifacts/."""
    watch = PageWatch()
    yield watch
    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed:
        os.makedirs(ARTIFACTS, exist_ok=True)
        for n, page in enumerate(watch.pages):
            name = (
                f"{request.node.name}-{n}.png".replace("/", "_").replace("[", "-").replace("]", "")
            )
            try:
                page.screenshot(path=os.path.join(ARTIFACTS, name), full_page=True)  # type: ignore[attr-defined]
            except Exception as exc:  # a closed page cannot be shot; the failure still shows
                print(f"no screenshot of page {n}: {exc}")
    for context in watch.contexts:
        context.close()  # type: ignore[attr-defined]
