"""Open a page in headless Chromium and report what it did, over the DevTools protocol on a pipe.

No port, no web driver: Chromium reads protocol commands on file descriptor 3
and writes replies and events on descriptor 4 (``--remote-debugging-pipe``),
each a JSON message ended by a NUL byte.
"""

from __future__ import annotations

import base64
import fcntl
import json
import os
import select
import shutil
import subprocess
import time
from pathlib import Path

FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--remote-debugging-pipe")


def chromium() -> str | None:
    """The Chromium executable on PATH, if any."""
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if found := shutil.which(name):
            return found
    return None


def _above_nine(fd: int) -> int:
    """The same pipe end on a descriptor numbered 10 or more (the original is closed)."""
    moved = fcntl.fcntl(fd, fcntl.F_DUPFD, 10)
    os.close(fd)
    return moved


class _Pipe:
    def __init__(self, executable: str, profile: Path):
        commands_read, self._commands = os.pipe()
        self._replies, replies_write = os.pipe()
        # bash puts the child's pipe ends on descriptors 3 and 4, where Chromium looks for them. They
        # are moved above 9 first, so that neither is 3 or 4 and overwritten by the other (bash, not
        # sh: dash refuses descriptors above 9).
        commands_read, replies_write = (_above_nine(fd) for fd in (commands_read, replies_write))
        self.process = subprocess.Popen(
            ["bash", "-c", f'exec "$0" "$@" 3<&{commands_read} 4>&{replies_write}', executable, *FLAGS,
             f"--user-data-dir={profile}", "about:blank"],
            pass_fds=(commands_read, replies_write), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(commands_read)
        os.close(replies_write)
        self._buffer = b""
        self._id = 0
        self.events: list[dict] = []

    def call(self, method: str, params: dict | None = None, session: str | None = None, timeout: float = 60):
        self._id += 1
        message = {"id": self._id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self._commands, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while True:
            reply = self._read(deadline)
            if reply.get("id") == self._id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply["result"]
            self.events.append(reply)

    def wait_for(self, method: str, timeout: float = 60) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            for event in self.events:
                if event.get("method") == method:
                    return event
            self.events.append(self._read(deadline))

    def _read(self, deadline: float) -> dict:
        while b"\0" not in self._buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not select.select([self._replies], [], [], remaining)[0]:
                raise TimeoutError("Chromium did not answer in time")
            chunk = os.read(self._replies, 1 << 16)
            if not chunk:
                raise RuntimeError("Chromium closed the DevTools pipe")
            self._buffer += chunk
        raw, _, self._buffer = self._buffer.partition(b"\0")
        return json.loads(raw)

    def close(self) -> None:
        try:
            self.call("Browser.close", timeout=10)
        except (RuntimeError, TimeoutError, OSError):
            pass
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        os.close(self._commands)
        os.close(self._replies)


def open_page(page: Path, profile: Path, screenshot: Path | None = None, width: int = 1200) -> dict:
    """Load ``page`` (a local file) and return what happened.

    ``requests``: every URL the page asked for (the page itself included);
    ``images``: (src prefix, complete, naturalWidth) of each image;
    ``console``: log entries (CSP violations, failed loads); ``links``: every
    src or href attribute in the DOM. A full-page PNG goes to ``screenshot``.
    """
    browser = _Pipe(chromium(), profile)
    try:
        target = browser.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = browser.call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        for domain in ("Page", "Network", "Runtime", "Log"):
            browser.call(f"{domain}.enable", session=session)
        browser.call("Emulation.setDeviceMetricsOverride",
                     {"width": width, "height": 900, "deviceScaleFactor": 1, "mobile": False}, session=session)
        browser.call("Page.navigate", {"url": page.resolve().as_uri()}, session=session)
        browser.wait_for("Page.loadEventFired")

        def evaluate(expression: str):
            return browser.call("Runtime.evaluate", {"expression": expression, "returnByValue": True},
                                session=session)["result"]["value"]

        images = evaluate("Array.from(document.images).map(i => [i.src.slice(0, 30), i.complete, i.naturalWidth])")
        links = evaluate("Array.from(document.querySelectorAll('[src],[href]'))"
                         ".map(e => e.getAttribute('src') || e.getAttribute('href'))")
        if screenshot is not None:
            height = int(evaluate("document.documentElement.scrollHeight"))
            browser.call("Emulation.setDeviceMetricsOverride",
                         {"width": width, "height": min(height, 16000), "deviceScaleFactor": 1, "mobile": False},
                         session=session)
            shot = browser.call("Page.captureScreenshot", {"format": "png"}, session=session)
            screenshot.write_bytes(base64.b64decode(shot["data"]))
        requests = [e["params"]["request"]["url"] for e in browser.events
                    if e.get("method") == "Network.requestWillBeSent"]
        console = [e["params"]["entry"]["text"] for e in browser.events if e.get("method") == "Log.entryAdded"]
        return {"requests": requests, "images": images, "console": console, "links": links}
    finally:
        browser.close()


DEEP_QUERY = """
window.__deep = function (selector) {
  const found = [];
  const walk = (root) => {
    root.querySelectorAll(selector).forEach((e) => found.push(e));
    root.querySelectorAll('*').forEach((e) => { if (e.shadowRoot) walk(e.shadowRoot); });
  };
  walk(document);
  return found;
};
"""
"""``__deep(selector)``: every element matching ``selector`` in the page, inside shadow roots too (Bokeh
draws each widget in its own)."""


class Session:
    """One page of a live web app in headless Chromium: ``evaluate`` JavaScript in it, ``screenshot`` it,
    and read the URLs it asked for (``requests``)."""

    def __init__(self, url: str, profile: Path, width: int = 1400, height: int = 900):
        self.width = width
        self._browser = _Pipe(chromium(), profile)
        try:
            target = self._browser.call("Target.createTarget", {"url": "about:blank"})["targetId"]
            self._session = self._browser.call("Target.attachToTarget", {"targetId": target, "flatten": True}
                                               )["sessionId"]
            for domain in ("Page", "Network", "Runtime", "Log"):
                self._browser.call(f"{domain}.enable", session=self._session)
            self._browser.call("Emulation.setDeviceMetricsOverride",
                               {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False},
                               session=self._session)
            self._browser.call("Page.navigate", {"url": url}, session=self._session)
            self._browser.wait_for("Page.loadEventFired")
            self.evaluate(DEEP_QUERY)
        except BaseException:
            self._browser.close()
            raise

    def evaluate(self, expression: str, timeout: float = 60):
        reply = self._browser.call("Runtime.evaluate", {"expression": expression, "returnByValue": True,
                                                        "awaitPromise": True}, session=self._session,
                                   timeout=timeout)
        if "exceptionDetails" in reply:
            raise RuntimeError(f"JavaScript failed: {reply['exceptionDetails']}")
        return reply["result"].get("value")

    def wait_until(self, expression: str, timeout: float = 120, interval: float = 0.05):
        """The first truthy value of ``expression``, polled."""
        deadline = time.monotonic() + timeout
        while True:
            value = self.evaluate(expression)
            if value:
                return value
            if time.monotonic() > deadline:
                raise TimeoutError(f"still false after {timeout} s: {expression}")
            time.sleep(interval)

    def screenshot(self, path: Path, height: int | None = None) -> None:
        """A PNG of the page's top ``height`` pixels (default: all of it)."""
        full = int(self.evaluate("document.documentElement.scrollHeight"))
        height = min(height or full, full, 16000)
        self._browser.call("Emulation.setDeviceMetricsOverride",
                           {"width": self.width, "height": full, "deviceScaleFactor": 1, "mobile": False},
                           session=self._session)
        shot = self._browser.call("Page.captureScreenshot", {
            "format": "png", "clip": {"x": 0, "y": 0, "width": self.width, "height": height, "scale": 1}},
            session=self._session)
        path.write_bytes(base64.b64decode(shot["data"]))

    @property
    def requests(self) -> list[str]:
        self.evaluate("1")  # read the events waiting on the pipe
        return [e["params"]["request"]["url"] for e in self._browser.events
                if e.get("method") == "Network.requestWillBeSent"]

    def close(self) -> None:
        self._browser.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
