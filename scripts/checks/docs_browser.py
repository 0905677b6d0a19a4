#!/usr/bin/env python3
"""The docs page as a client developer sees it, in a real browser.

Loads the gateway's /docs in headless Chromium (Debian's package) with
GetGoalBoard deep-linked open, and checks the rendered DOM: every operation of
/openapi.json is listed (Swagger UI's `operations-<tag>-<operationId>` blocks)
and GetGoalBoard's description (its errors list) is shown. Writes a screenshot.

usage: docs_browser.py <gateway-url> <state-dir>
"""
import json
import subprocess
import sys
import urllib.request

BROWSER = ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
           "--hide-scrollbars", "--virtual-time-budget=20000"]
GOAL_BOARD = "moing.board.v1.BoardService.GetGoalBoard"


def css_id(text: str) -> str:
    # Swagger UI escapes the dots of tags and operation ids in element ids.
    return text.replace(".", "\\.")


def main() -> int:
    base, state = sys.argv[1].rstrip("/"), sys.argv[2]
    with urllib.request.urlopen(f"{base}/openapi.json", timeout=10) as resp:
        spec = json.load(resp)
    ops = [(op["tags"][0], op["operationId"], op.get("description", ""))
           for item in spec["paths"].values() for op in item.values()]
    link = f"{base}/docs#/moing.board.v1.BoardService/{GOAL_BOARD}"
    dom = subprocess.run(BROWSER + ["--dump-dom", link], capture_output=True, text=True,
                         timeout=120, check=True).stdout
    missing = [op_id for tag, op_id, _ in ops if f'id="operations-{css_id(tag)}-{css_id(op_id)}"' not in dom]
    goal = next(d for _, op_id, d in ops if op_id == GOAL_BOARD)
    # A phrase of the description's errors list, as rendered (Markdown → text).
    phrase = "team missing or caller not a member"
    shows_goal = phrase in goal and phrase in dom
    shot = f"{state}/docs.png"
    subprocess.run(BROWSER + ["--window-size=1280,1600", f"--screenshot={shot}", f"{base}/docs"],
                   capture_output=True, timeout=120, check=True)
    print(f"docs in Chromium: {len(ops) - len(missing)} of {len(ops)} operations rendered; "
          f"GetGoalBoard description shown: {shows_goal}; screenshot {shot}")
    if missing or not shows_goal:
        print(f"missing operations: {missing[:20]}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
