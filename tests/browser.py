"""A small headless-Chromium driver for the app's browser tests (Chrome DevTools protocol).

Debian's ``/usr/bin/chromium`` is started headless with a fresh profile and the flags that
keep it from calling home; pages are driven over the DevTools websocket (``websockets``,
which the ``[app]`` extra installs). Every page records its console errors, uncaught
exceptions and the URL of every request it made, so a test can assert "no errors, nothing
off localhost". No browser download, no Playwright: only what Debian ships.
"""

from __future__ import annotations

import base64
import contextlib
import itertools
import json
import queue
import shutil
import subprocess
import tempfile
import threading
import time
from pathlib import Path

from websockets.sync.client import connect

CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--no-default-browser-check",
         "--disable-extensions", "--disable-default-apps", "--hide-scrollbars", "--mute-audio",
         "--remote-debugging-port=0", "--remote-debugging-address=127.0.0.1"]


class BrowserError(RuntimeError):
    pass


class Browser:
    """One Chromium process with a throw-away profile; ``with Browser() as b: page = b.new_page()``."""

    def __init__(self, executable: str = CHROMIUM, size: tuple[int, int] = (1400, 1000), timeout: float = 30):
        self.profile = Path(tempfile.mkdtemp(prefix="jiesu-chromium-"))
        self.proc = subprocess.Popen([executable, *FLAGS, f"--user-data-dir={self.profile}",
                                      f"--window-size={size[0]},{size[1]}", "about:blank"],
                                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        port_file, deadline = self.profile / "DevToolsActivePort", time.time() + timeout
        while not (port_file.exists() and len(port_file.read_text().split()) >= 2):
            if self.proc.poll() is not None or time.time() > deadline:
                self.close()
                raise BrowserError(f"{executable} did not open its DevTools port")
            time.sleep(0.05)
        port, path = port_file.read_text().split()[:2]
        self._stack = contextlib.ExitStack()
        self.ws = self._stack.enter_context(connect(f"ws://127.0.0.1:{port}{path}", max_size=None,
                                                    open_timeout=timeout))
        self._ids = itertools.count(1)
        self._waiting: dict[int, queue.Queue] = {}
        self._lock = threading.Lock()
        self.pages: dict[str, Page] = {}
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self):
        try:
            while True:
                msg = json.loads(self.ws.recv())
                if "id" in msg:
                    with self._lock:
                        q = self._waiting.pop(msg["id"], None)
                    if q is not None:
                        q.put(msg)
                elif (page := self.pages.get(msg.get("sessionId"))) is not None:
                    page._event(msg["method"], msg.get("params", {}))
        except Exception:       # the socket closes when the browser does
            pass

    def send(self, method: str, params: dict | None = None, session: str | None = None, timeout: float = 30):
        i, q = next(self._ids), queue.Queue()
        with self._lock:
            self._waiting[i] = q
        msg = {"id": i, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        self.ws.send(json.dumps(msg))
        try:
            reply = q.get(timeout=timeout)
        except queue.Empty:
            raise BrowserError(f"{method}: no answer in {timeout} s") from None
        if "error" in reply:
            raise BrowserError(f"{method}: {reply['error']}")
        return reply.get("result", {})

    def new_page(self) -> Page:
        """A new tab in its own browser context (own cookies: a separate student)."""
        ctx = self.send("Target.createBrowserContext", {"disposeOnDetach": True})["browserContextId"]
        target = self.send("Target.createTarget", {"url": "about:blank", "browserContextId": ctx})["targetId"]
        session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        page = Page(self, session)
        self.pages[session] = page
        for domain in ("Runtime", "Log", "Network", "Page"):
            page.send(f"{domain}.enable")
        return page

    def close(self):
        try:
            if getattr(self, "_stack", None) is not None:
                self._stack.close()
        finally:
            if self.proc.poll() is None:
                self.proc.terminate()
                try:
                    self.proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait(timeout=10)
            shutil.rmtree(self.profile, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class Page:
    """One tab: navigate, evaluate JavaScript, wait for a condition, screenshot, print to PDF; it records
    console errors, uncaught exceptions, failed requests and every requested URL."""

    def __init__(self, browser: Browser, session: str):
        self.browser, self.session = browser, session
        self.requests: list[str] = []
        self.errors: list[str] = []           # console errors and uncaught exceptions
        self.failed: list[str] = []           # requests that failed or answered >= 400
        self._urls: dict[str, str] = {}
        self.pending: set[str] = set()        # requests sent and not yet finished or failed
        self.last_activity = time.time()

    def send(self, method, params=None, timeout=30):
        return self.browser.send(method, params, self.session, timeout)

    def _event(self, method, p):
        if method.startswith("Network."):
            self.last_activity = time.time()
        if method == "Network.requestWillBeSent":
            self.requests.append(p["request"]["url"])
            self._urls[p["requestId"]] = p["request"]["url"]
            if not p["request"]["url"].startswith(("data:", "blob:")):
                self.pending.add(p["requestId"])
        elif method in ("Network.loadingFinished", "Network.loadingFailed"):
            self.pending.discard(p["requestId"])
        elif method == "Network.responseReceived" and p["response"]["status"] >= 400:
            self.failed.append(f"{p['response']['status']} {p['response']['url']}")
        if method == "Network.loadingFailed" and not p.get("canceled"):
            self.failed.append(f"{p.get('errorText')} {self._urls.get(p.get('requestId'), '?')}")
        elif method == "Runtime.consoleAPICalled" and p["type"] in ("error", "assert"):
            self.errors.append(" ".join(str(a.get("value", a.get("description", ""))) for a in p["args"]))
        elif method == "Runtime.exceptionThrown":
            d = p["exceptionDetails"]
            self.errors.append(d.get("exception", {}).get("description") or d.get("text", "exception"))
        elif method == "Log.entryAdded" and p["entry"]["level"] == "error":
            self.errors.append(f"{p['entry'].get('text')} {p['entry'].get('url', '')}".strip())

    def goto(self, url: str):
        self.send("Page.navigate", {"url": url})

    def evaluate(self, js: str, timeout: float = 30):
        """Value of a JavaScript expression (promises awaited)."""
        r = self.send("Runtime.evaluate", {"expression": js, "returnByValue": True, "awaitPromise": True},
                      timeout=timeout)
        if "exceptionDetails" in r:
            raise BrowserError(f"{js[:80]}: {r['exceptionDetails'].get('text')}")
        return r["result"].get("value")

    def wait_for(self, js: str, timeout: float = 30, interval: float = 0.1, what: str | None = None):
        """Wait until a JavaScript expression is truthy; return its value."""
        deadline = time.time() + timeout
        while True:
            value = self.evaluate(js)
            if value:
                return value
            if time.time() > deadline:
                raise BrowserError(f"timed out after {timeout} s waiting for {what or js}")
            time.sleep(interval)

    def wait_idle(self, quiet: float = 1.0, timeout: float = 30):
        """Wait until no request has been pending (the page's websocket aside) for ``quiet`` seconds."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            open_ = [self._urls.get(i, "") for i in self.pending]
            if not [u for u in open_ if not u.startswith("ws")] and time.time() - self.last_activity >= quiet:
                return
            time.sleep(0.1)
        raise BrowserError(f"requests still pending after {timeout} s: {[self._urls.get(i) for i in self.pending]}")

    def click_text(self, text: str, selector: str = "button, .v-tab, .v-list-item, [role=option]"):
        """Click the first visible element matching ``selector`` whose text contains ``text``
        (ignoring case: buttons show their labels in capitals)."""
        js = f"""(() => {{
            const els = [...document.querySelectorAll({json.dumps(selector)})]
                .filter(e => e.offsetParent !== null
                        && e.innerText.toLowerCase().includes({json.dumps(text.lower())}));
            if (!els.length) return false;
            els[0].click(); return true; }})()"""
        if not self.evaluate(js):
            raise BrowserError(f"nothing to click with text {text!r}")

    def text(self) -> str:
        return self.evaluate("document.body ? document.body.innerText : ''")

    def print_pdf(self, path: str | Path | None = None, timeout: float = 60, **params) -> bytes:
        """The page printed to PDF (DevTools ``Page.printToPDF``, print CSS applied); written to
        ``path`` if given. ``params`` go to the call (e.g. ``landscape=True``)."""
        data = base64.b64decode(self.send("Page.printToPDF", {"printBackground": True, **params},
                                          timeout=timeout)["data"])
        if path is not None:
            Path(path).write_bytes(data)
        return data

    def screenshot(self, path: str | Path, full_page: bool = True):
        params = {"format": "png", "captureBeyondViewport": full_page}
        data = self.send("Page.captureScreenshot", params)["data"]
        Path(path).write_bytes(base64.b64decode(data))
        return Path(path)


def start_app(root: Path, env: dict | None = None) -> tuple[subprocess.Popen, str]:
    """Start the classroom app as a teacher does (`jiesu app`, which checks the extra, then becomes the
    solara server) on a free local port, with solara's telemetry off; returns the process and its URL."""
    import os
    import socket
    import sys

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    jiesu = Path(sys.executable).with_name("jiesu")
    cmd = [str(jiesu)] if jiesu.exists() else [sys.executable, "-m", "experiments.cli"]
    env = {**os.environ, "SOLARA_TELEMETRY_MIXPANEL_ENABLE": "false", **(env or {})}
    proc = subprocess.Popen([*cmd, "app", "--host", "127.0.0.1", "--port", str(port)], cwd=root, env=env,
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return proc, f"http://127.0.0.1:{port}/"


def stop_app(proc: subprocess.Popen) -> None:
    """Stop the app server: terminate, then kill if it does not exit within 20 s."""
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=20)
