"""`make bench`'s dashboard part: time to the board's first row in Chromium at 1,000 leads, and
the JS bundle's size gzipped."""

from __future__ import annotations

import gzip
import statistics
from collections.abc import Callable
from pathlib import Path
from typing import Any, Final

import httpx

DASHBOARD_LEADS: Final = 1_000
RUNS: Final = 7
CHROMIUM: Final = Path("/usr/bin/chromium")
TARGET_FIRST_ROW_MS: Final = 1_500
TARGET_BUNDLE_KB: Final = 250
# The agency the board is opened for: demo2 has no leads of its own (the api part fills demo).
TENANT: Final = "demo2"
USER: Final = "demo2_agent"
# Stamps performance.now() (ms since navigation start) when the first lead row is laid out.
_WATCH_FIRST_ROW: Final = """
(() => {
  const seen = () => {
    const row = document.querySelector("table.leads tbody tr");
    if (row && row.getBoundingClientRect().height > 0) {
      window.__firstRow = performance.now();
      return true;
    }
    return false;
  };
  new MutationObserver((_, observer) => { if (seen()) observer.disconnect(); })
    .observe(document, { childList: true, subtree: true });
})();
"""


def bundle_gzip_bytes(dist: Path) -> int:
    """The build's JavaScript as a browser downloads it compressed: each file gzipped (-9)."""
    scripts = sorted((dist / "assets").glob("*.js"))
    if not scripts:
        raise FileNotFoundError(f"{dist}/assets has no .js: build the dashboard (make dashboard)")
    return sum(len(gzip.compress(path.read_bytes(), 9)) for path in scripts)


def first_row_times(url: str, token: str, runs: int = RUNS) -> list[float]:
    """Milliseconds from navigation start to the first lead row visible, a fresh browser
    profile (cold cache) each run, signed in already (the token in localStorage)."""
    from playwright.sync_api import sync_playwright

    if not CHROMIUM.is_file():
        raise FileNotFoundError(f"{CHROMIUM} is missing: `make browser` installs it")
    times = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=["--headless", "--no-sandbox", "--disable-gpu"]
        )
        try:
            for _ in range(runs + 1):  # the first warms the gateway's and the JVM's paths
                context = browser.new_context(base_url=url, viewport={"width": 1280, "height": 900})
                context.add_init_script(
                    f"localStorage.setItem('leadbot.id_token', {token!r});" + _WATCH_FIRST_ROW
                )
                page = context.new_page()
                page.goto("/")
                page.wait_for_function("() => window.__firstRow !== undefined", timeout=30_000)
                times.append(float(page.evaluate("() => window.__firstRow")))
                context.close()
        finally:
            browser.close()
    return times[1:]


def dashboard_figures(
    url: str, dist: Path, write_leads: Callable[[str, int], float]
) -> dict[str, Any]:
    loaded = write_leads(TENANT, DASHBOARD_LEADS)
    token = httpx.get(f"{url}/_local/tokens").json()[USER]
    times = first_row_times(url, token)
    return {
        "load_seconds": loaded,
        "median_ms": statistics.median(times),
        "min_ms": min(times),
        "max_ms": max(times),
        "runs": len(times),
        "bundle_bytes": bundle_gzip_bytes(dist),
    }


def report_dashboard(
    url: str, dist: Path, write_leads: Callable[[str, int], float], say: Callable[[str], None]
) -> None:
    say(f"\n12. Dashboard in Chromium: the board of a tenant of {DASHBOARD_LEADS:,} leads")
    result = dashboard_figures(url, dist, write_leads)
    say(
        f"   time to first row (navigation start → first lead row visible), median of "
        f"{result['runs']} cold loads: {result['median_ms']:.0f} ms "
        f"(min {result['min_ms']:.0f}, max {result['max_ms']:.0f}; "
        f"target ≤ {TARGET_FIRST_ROW_MS} ms)"
    )
    say(
        f"   JS bundle gzipped: {result['bundle_bytes'] / 1024:.1f} KB "
        f"(target ≤ {TARGET_BUNDLE_KB} KB)"
        f"   (writing the leads took {result['load_seconds']:.1f} s)"
    )
