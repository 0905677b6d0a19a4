"""A tiny REST client for the checks that call the gateway as an app would
(rendered_run.py, export.py): JSON in, (status, JSON) out, bearer tokens."""
import json
import urllib.error
import urllib.request
from typing import Callable


class Api:
    def __init__(self, base: str, fail: Callable[[str], None], timeout: float = 10) -> None:
        self.base = base
        self.fail = fail
        self.timeout = timeout

    def call(self, method: str, path: str, token: str | None = None, body=None):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.base + path, data=data, method=method)
        req.add_header("content-type", "application/json")
        if token:
            req.add_header("authorization", f"Bearer {token}")
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as r:
                return r.status, json.loads(r.read() or b"{}")
        except urllib.error.HTTPError as e:
            raw = e.read()
            try:
                return e.code, json.loads(raw or b"{}")
            except ValueError:
                return e.code, {"raw": raw.decode(errors="replace")}

    def ok(self, method: str, path: str, token: str | None = None, body=None) -> dict:
        status, out = self.call(method, path, token, body)
        if status != 200:
            self.fail(f"{method} {path}: {status} {out}")
        return out
