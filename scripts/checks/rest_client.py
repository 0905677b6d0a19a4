"""A tiny REST client for the checks that call the gateway as an app would
(rendered_run.py, export.py): JSON in, (status, JSON) out, bearer tokens."""
import json
import os
import time
import urllib.error
import urllib.request
from datetime import date, datetime, timedelta, timezone
from typing import Callable

# The teams' zone (PRODUCT.md: every team runs on Asia/Seoul, no summer time).
KST = timezone(timedelta(hours=9))


def now() -> datetime:
    """The instant the cluster lives at: the system clock shifted by
    MOING_CLOCK_OFFSET, the services' own seam (moing_common::clock)."""
    return datetime.now(timezone.utc) + timedelta(
        seconds=int(os.environ.get("MOING_CLOCK_OFFSET") or 0))


def team_today(margin: float = 120) -> date:
    """Today in the teams' zone, as the services compute it. Within `margin`
    seconds of midnight it first waits for the new day, so a check shorter
    than that sees one date from start to end at any hour."""
    until_midnight = 86400 - (now().astimezone(KST) - now().astimezone(KST).replace(
        hour=0, minute=0, second=0, microsecond=0)).total_seconds()
    if until_midnight < margin:
        time.sleep(until_midnight + 1)
    return now().astimezone(KST).date()


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
