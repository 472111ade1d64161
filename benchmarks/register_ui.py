"""Register UI timings in a real Chromium against a live server (embedded SQLite):

- first load of the sale screen (navigation start to the load event), cold (new browser
  profile, nothing cached) and warm (the same profile again: HTTP cache and service worker);
- scan-to-line-visible: from the scanner's Enter until the frame that shows the new line's
  row (measured in the page), p50 and p95 over 50 scans; also the whole scan as Playwright
  types it (13 keystrokes sent one by one over the DevTools protocol, then Enter);
- tender-to-receipt: the exact-cash click until the receipt is shown, median of 5 sales.

Targets (issue 8): first load < 1 s on localhost, scan p95 < 100 ms, tender < 300 ms.
Run: .venv/bin/python benchmarks/register_ui.py
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import uvicorn

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.browser.conftest import ARGS, CHROMIUM  # noqa: E402
from tests.browser.register_support import (  # noqa: E402
    make_store,
    ready_register,
    scan,
    wait_priced,
)

from omnitill.api.app import create_app  # noqa: E402
from omnitill.config import Settings  # noqa: E402
from omnitill.services.database import Database, upgrade_schema  # noqa: E402

SCANS = 50
SALES = 5
# In the page: from the scanner's Enter to the frame in which the new line's row exists.
WATCH_SCANS = """() => {
  window.scanMs = [];
  let rows = document.querySelectorAll('#lines tr').length, enterAt = 0;
  document.addEventListener('keydown', (e) => {
    if (e.key === 'Enter') enterAt = performance.now();
  }, true);
  new MutationObserver(() => {
    const n = document.querySelectorAll('#lines tr').length;
    if (n <= rows) return;
    rows = n;
    requestAnimationFrame(() => window.scanMs.push(performance.now() - enterAt));
  }).observe(document.getElementById('lines'), { childList: true });
}"""


def _serve(settings: Settings, db: Database) -> tuple[str, uvicorn.Server]:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings, db), host="127.0.0.1", port=port, log_level="warning")
    )
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.05)
    return f"http://127.0.0.1:{port}", server


def _p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[18]


def _load_ms(page) -> float:  # type: ignore[no-untyped-def]
    return float(
        page.evaluate(
            "() => { const n = performance.getEntriesByType('navigation')[0];"
            " return n.loadEventEnd - n.startTime; }"
        )
    )


def main() -> None:
    from playwright.sync_api import sync_playwright

    work = Path(tempfile.mkdtemp(prefix="omnitill-register-ui-"))
    url = f"sqlite:///{work / 'omnitill.db'}"
    upgrade_schema(url)
    settings = Settings(
        database_url=url, environment="test", data_dir=work, log_json=False, log_level="WARNING"
    )
    db = Database(url)
    store = make_store(db, settings, items=SCANS)
    base, server = _serve(settings, db)
    with sync_playwright() as pw:
        browser = pw.chromium.launch_persistent_context(
            str(work / "profile"),
            executable_path=CHROMIUM,
            headless=True,
            args=ARGS,
            viewport={"width": 1280, "height": 800},
        )
        page = browser.new_page()
        ready_register(page, base)  # the first visit: enrol, sign in, open the shift
        page.close()

        cold_context = pw.chromium.launch_persistent_context(
            str(work / "cold-profile"), executable_path=CHROMIUM, headless=True, args=ARGS
        )
        cold = cold_context.new_page()
        cold.goto(f"{base}/register/display")  # a never-seen profile: nothing cached
        cold_ms = _load_ms(cold)
        cold_context.close()

        page = browser.new_page()
        page.goto(f"{base}/register")
        page.wait_for_selector("#scan:focus")
        first_sale_ms = _load_ms(page)
        page.reload()
        page.wait_for_selector("#scan:focus")
        warm_ms = _load_ms(page)

        # The reference, in the same browser and run: a bare page of the same server (the
        # health check), so the ratios below say what the register adds to any page load.
        reference = []
        for _ in range(5):
            page.goto(f"{base}/healthz")
            reference.append(_load_ms(page))
        reference_ms = statistics.median(reference)
        page.goto(f"{base}/register")
        page.wait_for_selector("#scan:focus")

        page.evaluate(WATCH_SCANS)
        typed_ms = []
        for n, barcode in enumerate(store.barcodes, start=1):
            started = time.perf_counter()
            scan(page, barcode)
            page.wait_for_selector(f"#lines tr:nth-child({n})")
            typed_ms.append((time.perf_counter() - started) * 1000)
        scan_ms = page.evaluate("() => window.scanMs")
        wait_priced(page)

        tender_ms = []
        for _ in range(SALES):
            if page.is_visible("#receipt"):
                page.click("#new-sale")
                scan(page, store.barcodes[0])
                wait_priced(page)
            page.click("#pay-btn")
            page.wait_for_selector("#quick-cash .quick")
            started = time.perf_counter()
            page.click("#quick-cash .quick >> nth=0")
            page.wait_for_selector("#receipt:not([hidden])")
            tender_ms.append((time.perf_counter() - started) * 1000)
        browser.close()
    server.should_exit = True
    db.dispose()

    p95 = _p95(scan_ms)
    figures = [
        ("register first load, cold profile (display page)", cold_ms),
        ("register first load, sale screen, first visit", first_sale_ms),
        ("register first load, sale screen, warm", warm_ms),
        (f"scan-to-line-visible p50 over {SCANS} scans", statistics.median(scan_ms)),
        (f"scan-to-line-visible p95 over {SCANS} scans", p95),
        ("typing 13 digits + Enter to line, p95 (Playwright)", _p95(typed_ms)),
        (f"tender-to-receipt, median of {SALES} sales", statistics.median(tender_ms)),
    ]
    for label, ms in figures:
        print(f"{label:<52} {ms:8.1f} ms")
    print(f"{'reference: a bare page of the same server (healthz)':<52} {reference_ms:8.1f} ms")
    print(f"{'ratio: warm sale screen load / reference':<52} {warm_ms / reference_ms:8.1f}")
    print(f"{'ratio: cold display load / reference':<52} {cold_ms / reference_ms:8.1f}")


if __name__ == "__main__":
    main()
