"""The README's picture of `overhang-jax explore`: the trajectory page after the cap's length is set to
8 years, taken with headless Chromium (the tests' DevTools driver).

    python docs/make_explore_screenshot.py [docs/explore.png]
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

import jax

jax.config.update("jax_num_cpu_devices", os.cpu_count() or 1)
sys.path.insert(0, str(Path(__file__).parents[1] / "tests" / "present"))
from browser import Session  # noqa: E402

from overhang_jax.present._explore import free_port, start_server  # noqa: E402

HEADLINE = "__deep('.explore-headline li').map(e => e.textContent)"


def main() -> None:
    out = Path(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).parent / "explore.png")
    port = free_port()
    server = start_server("trajectory", port=port, threaded=True)
    time.sleep(2)
    try:
        with Session(f"http://127.0.0.1:{port}/", Path(tempfile.mkdtemp()), width=1400, height=1000) as page:
            first = page.wait_until(f"(() => {{ const h = {HEADLINE}; return h.length ? h : null; }})()", 600)
            page.evaluate("""(() => { const i = __deep('.explore-lever-D')[0].shadowRoot.querySelector('input');
                             i.value = '8'; i.dispatchEvent(new Event('change', {bubbles: true})); })()""")
            while page.evaluate(HEADLINE) in ([], first):
                time.sleep(0.1)
            time.sleep(2)  # the figures follow the headline
            page.screenshot(out, height=1250)
    finally:
        server.stop()
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
