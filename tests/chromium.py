"""Debian's Chromium, headless, for the browser tests: started once per test worker, reached over DevTools.

Each test connects to it with Playwright from its own event loop (where its server runs) and opens fresh
browser contexts, so tests share nothing but the browser process; starting it once per worker rather than
once per test module saves a browser start for each of the six modules that drive it.
"""

from __future__ import annotations

import re
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--no-first-run", "--disable-sync", "--hide-scrollbars", "--mute-audio"]


def _devtools_url(log: Path, process: subprocess.Popen[bytes], timeout: float = 60.0) -> str:
    """Chromium's DevTools address from its log. 20 s was once too short in CI: a cold start beside two test workers,
    each with its own servers and browser, on 2 cores."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = re.search(r"DevTools listening on (ws://\S+)", log.read_text(errors="replace"))
        if found:
            return found.group(1)
        if process.poll() is not None:
            break
        time.sleep(0.05)
    raise RuntimeError(f"Chromium did not start: {log.read_text(errors='replace')[-2000:]}")


@contextmanager
def headless_chromium(profile: Path) -> Iterator[str]:
    """Chromium with its profile in ``profile``; yields its DevTools websocket URL, and stops it afterwards."""
    log = profile / "stderr.log"
    with log.open("wb") as stderr:
        process = subprocess.Popen(
            [str(CHROMIUM), "--headless", "--remote-debugging-port=0", f"--user-data-dir={profile / 'data'}",
             *CHROMIUM_ARGS, "about:blank"], stdout=subprocess.DEVNULL, stderr=stderr)
    try:
        yield _devtools_url(log, process)
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
