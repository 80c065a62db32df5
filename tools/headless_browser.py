"""Open local HTML pages in headless Chromium and report what a reader would see.

Used by the browser tests of the pilot report and the course site. Only the standard
library: Chromium is started with ``--remote-debugging-port=0`` and driven over the Chrome
DevTools Protocol through a minimal WebSocket client. For each page,
:meth:`HeadlessChromium.inspect` returns the console errors, uncaught exceptions and failed
loads seen while it loaded, its headings, its images (with whether each one decoded to a
non-empty picture), its inline SVGs and its links.

``find_chromium()`` returns ``None`` when no Chromium is installed (tests then skip with a
reason); install it with ``apt-get install -y chromium`` (Debian) or set ``CHROMIUM``.
"""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import socket
import struct
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

#: Runs in the page after its load event; returns everything the tests assert on.
PAGE_REPORT = """(() => {
  const images = [...document.images].map(img => ({
    src: img.getAttribute('src').slice(0, 40), complete: img.complete,
    width: img.naturalWidth, height: img.naturalHeight}));
  const svgs = [...document.querySelectorAll('svg')].map(svg => {
    const box = svg.getBoundingClientRect(); return {width: box.width, height: box.height}; });
  return JSON.stringify({
    title: document.title,
    headings: [...document.querySelectorAll('h1, h2')].map(h => h.textContent.trim()),
    images, svgs,
    links: [...document.querySelectorAll('a[href]')].map(a => a.getAttribute('href')),
    text_length: document.body ? document.body.innerText.length : 0});
})()"""


def find_chromium() -> str | None:
    """Path of a Chromium/Chrome executable, or ``None``."""
    candidates = [os.environ.get("CHROMIUM"), "chromium", "chromium-browser", "google-chrome"]
    for name in filter(None, candidates):
        path = shutil.which(name)
        if path:
            return path
    return None


class HeadlessChromium:
    """One headless browser process; use as a context manager."""

    def __init__(self, executable: str, timeout: float = 30.0):
        self.timeout = timeout
        self.profile = tempfile.mkdtemp(prefix="recsys-chromium-")
        self.process = subprocess.Popen(
            [
                executable,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                "--disable-extensions",
                "--disable-background-networking",
                "--remote-debugging-port=0",
                f"--user-data-dir={self.profile}",
                "about:blank",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.port = self._devtools_port()

    def __enter__(self) -> HeadlessChromium:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        shutil.rmtree(self.profile, ignore_errors=True)

    def _devtools_port(self) -> int:
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            line = self.process.stderr.readline()
            if not line and self.process.poll() is not None:
                break
            found = re.search(r"DevTools listening on ws://[^:]+:(\d+)/", line)
            if found:
                return int(found.group(1))
        self.close()
        raise RuntimeError("Chromium did not start its DevTools endpoint.")

    def inspect(self, path) -> dict:
        """Load ``path`` (a local file) in a new tab; return the page report plus
        ``errors``: console errors, uncaught exceptions and failed loads, as strings."""
        url = Path(path).resolve().as_uri()
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.port}/json/new?about:blank", method="PUT"
        )
        with urllib.request.urlopen(request, timeout=self.timeout) as response:
            target = json.load(response)
        socket_ = _WebSocket(target["webSocketDebuggerUrl"], self.timeout)
        errors: list[str] = []
        try:
            for method in ("Page.enable", "Runtime.enable", "Log.enable"):
                socket_.call(method)
            socket_.call("Page.navigate", {"url": url})
            socket_.wait_for("Page.loadEventFired", errors)
            result = socket_.call(
                "Runtime.evaluate", {"expression": PAGE_REPORT, "returnByValue": True}, errors
            )
            socket_.drain(errors, seconds=0.2)
        finally:
            socket_.close()
            urllib.request.urlopen(
                f"http://127.0.0.1:{self.port}/json/close/{target['id']}", timeout=self.timeout
            ).close()
        report = json.loads(result["result"]["value"])
        report["errors"] = errors
        return report


def _problem(message: dict) -> str | None:
    """A console error, an uncaught exception or a failed load, as text; else ``None``."""
    method, params = message.get("method"), message.get("params", {})
    if method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
        return "console.error: " + " ".join(str(a.get("value")) for a in params.get("args", []))
    if method == "Runtime.exceptionThrown":
        return "exception: " + params["exceptionDetails"].get("text", "")
    if method == "Log.entryAdded" and params["entry"].get("level") == "error":
        return f"log: {params['entry'].get('text')} {params['entry'].get('url', '')}"
    return None


class _WebSocket:
    """The client side of RFC 6455, text frames only: enough for the DevTools protocol."""

    def __init__(self, url: str, timeout: float):
        found = re.match(r"ws://([^:/]+):(\d+)(/.*)", url)
        host, port, path = found.group(1), int(found.group(2)), found.group(3)
        self.sock = socket.create_connection((host, port), timeout=timeout)
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall(
            f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
            "Sec-WebSocket-Version: 13\r\n\r\n".encode()
        )
        header = b""
        while b"\r\n\r\n" not in header:
            header += self.sock.recv(1)
        if b" 101 " not in header.split(b"\r\n", 1)[0]:
            raise RuntimeError(f"DevTools refused the WebSocket: {header[:80]!r}")
        self.next_id = 0
        self.timeout = timeout

    def call(self, method: str, params: dict | None = None, errors: list | None = None) -> dict:
        self.next_id += 1
        self._send(json.dumps({"id": self.next_id, "method": method, "params": params or {}}))
        while True:
            message = self._receive()
            if message.get("id") == self.next_id:
                if "error" in message:
                    raise RuntimeError(f"{method} failed: {message['error']}")
                return message.get("result", {})
            self._note(message, errors)

    def wait_for(self, event: str, errors: list) -> None:
        while True:
            message = self._receive()
            if message.get("method") == event:
                return
            self._note(message, errors)

    def drain(self, errors: list, seconds: float) -> None:
        self.sock.settimeout(seconds)
        try:
            while True:
                self._note(self._receive(), errors)
        except TimeoutError:
            pass
        finally:
            self.sock.settimeout(self.timeout)

    def close(self) -> None:
        self.sock.close()

    @staticmethod
    def _note(message: dict, errors: list | None) -> None:
        problem = _problem(message)
        if problem and errors is not None:
            errors.append(problem)

    def _send(self, text: str) -> None:
        payload = text.encode()
        header = bytearray([0x81])
        if len(payload) < 126:
            header.append(0x80 | len(payload))
        elif len(payload) < 2**16:
            header += bytes([0x80 | 126]) + struct.pack("!H", len(payload))
        else:
            header += bytes([0x80 | 127]) + struct.pack("!Q", len(payload))
        mask = os.urandom(4)
        masked = bytes(byte ^ mask[i % 4] for i, byte in enumerate(payload))
        self.sock.sendall(bytes(header) + mask + masked)

    def _receive(self) -> dict:
        chunks = []
        while True:
            first, second = self._exactly(2)
            length = second & 0x7F
            if length == 126:
                length = struct.unpack("!H", self._exactly(2))[0]
            elif length == 127:
                length = struct.unpack("!Q", self._exactly(8))[0]
            payload = self._exactly(length)
            opcode = first & 0x0F
            if opcode == 0x8:
                raise RuntimeError("DevTools closed the connection.")
            if opcode in (0x0, 0x1, 0x2):
                chunks.append(payload)
                if first & 0x80:
                    return json.loads(b"".join(chunks))

    def _exactly(self, n: int) -> bytes:
        data = bytearray()
        while len(data) < n:
            chunk = self.sock.recv(n - len(data))
            if not chunk:
                raise RuntimeError("DevTools connection ended.")
            data += chunk
        return bytes(data)
