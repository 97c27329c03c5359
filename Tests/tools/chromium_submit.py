#!/usr/bin/env python3
"""Drives headless Chromium over its DevTools pipe (--remote-debugging-pipe: NUL-terminated JSON on fds
3 and 4, so no WebSocket library is needed): opens URL, saves a screenshot, clicks each CSS selector like
a user (mouse events at the element's centre, so the page needs no JavaScript) and, after the last click
(the submit button), waits for the next page and prints its HTML.

Usage: chromium_submit.py CHROMIUM URL SCREENSHOT.png SELECTOR...
"""
import base64
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time


class DevTools:
    def __init__(self, chromium, profile):
        to_chrome_r, self.to_chrome = os.pipe()
        self.from_chrome, from_chrome_w = os.pipe()

        def wire():
            # Through high numbers first, so that neither pipe end is overwritten on its way to 3 and 4.
            os.dup2(to_chrome_r, 100)
            os.dup2(from_chrome_w, 101)
            os.dup2(100, 3)
            os.dup2(101, 4)

        self.process = subprocess.Popen(
            [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--hide-scrollbars",
             "--remote-debugging-pipe", "--user-data-dir=" + profile, "--window-size=390,1100", "about:blank"],
            preexec_fn=wire, close_fds=False,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(to_chrome_r)
        os.close(from_chrome_w)
        self.buffer = b""
        self.next_id = 0
        self.events = []

    def send(self, method, params=None, session=None):
        self.next_id += 1
        message = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self.to_chrome, json.dumps(message).encode() + b"\0")
        while True:
            reply = self.receive()
            if reply.get("id") == self.next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self.events.append(reply)

    def receive(self, deadline=None):
        deadline = deadline or time.time() + 90
        while b"\0" not in self.buffer:
            if time.time() > deadline:
                raise TimeoutError("no message from Chromium")
            chunk = os.read(self.from_chrome, 65536)
            if not chunk:
                raise RuntimeError("Chromium closed the pipe")
            self.buffer += chunk
        message, self.buffer = self.buffer.split(b"\0", 1)
        return json.loads(message)

    def wait_event(self, name, session):
        deadline = time.time() + 90
        while True:
            for i, event in enumerate(self.events):
                if event.get("method") == name and event.get("sessionId") == session:
                    del self.events[: i + 1]
                    return event
            self.events.append(self.receive(deadline))

    def close(self):
        try:
            self.send("Browser.close")
        except Exception:
            pass
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def main():
    chromium, url, screenshot = sys.argv[1:4]
    selectors = sys.argv[4:]
    profile = tempfile.mkdtemp(prefix="aftersales-chromium-")
    tools = DevTools(chromium, profile)
    try:
        target = tools.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = tools.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        tools.send("Page.enable", session=session)
        # A phone's screen (390 x 844 CSS pixels, as an iPhone 14): the pages must be usable there.
        tools.send("Emulation.setDeviceMetricsOverride",
                   {"width": 390, "height": 844, "deviceScaleFactor": 2, "mobile": True}, session=session)
        tools.send("Page.navigate", {"url": url}, session=session)
        tools.wait_event("Page.loadEventFired", session)
        shot = tools.send("Page.captureScreenshot", {"format": "png"}, session=session)
        with open(screenshot, "wb") as f:
            f.write(base64.b64decode(shot["data"]))
        for selector in selectors:
            root = tools.send("DOM.getDocument", session=session)["root"]["nodeId"]
            node = tools.send("DOM.querySelector", {"nodeId": root, "selector": selector}, session=session)["nodeId"]
            if not node:
                raise RuntimeError(f"no element {selector}")
            tools.send("DOM.scrollIntoViewIfNeeded", {"nodeId": node}, session=session)
            quad = tools.send("DOM.getBoxModel", {"nodeId": node}, session=session)["model"]["content"]
            x, y = sum(quad[0::2]) / 4, sum(quad[1::2]) / 4
            for kind in ("mousePressed", "mouseReleased"):
                tools.send("Input.dispatchMouseEvent", {"type": kind, "x": x, "y": y, "button": "left", "clickCount": 1}, session=session)
        if selectors:
            tools.wait_event("Page.loadEventFired", session)
        root = tools.send("DOM.getDocument", session=session)["root"]["nodeId"]
        print(tools.send("DOM.getOuterHTML", {"nodeId": root}, session=session)["outerHTML"])
    finally:
        tools.close()
        shutil.rmtree(profile, ignore_errors=True)


if __name__ == "__main__":
    main()
