"""The activity export through the gateway's REST API, as a client would use it
(scripts/test runs it against scripts/up's cluster):

- a team with a member who proved and stays, one who skipped, a late joiner, one
  who left and one who withdrew;
- the CSV (POST /v1/teams/{team}/activity:export, docs/board.md) parses
  with Python's csv module, starts with a byte-order mark, and its member totals
  equal GetGoalBoard's ranking counts; the leaver is in it, the withdrawn member
  only under a pseudonym and "(탈퇴한 회원)"; a formula-looking title is inert;
- the PDF has one page (pdfinfo), the Korean team name and the period
  (pdftotext), and is rendered to a PNG (pdftoppm) for a person to look at;
- a non-member gets 404 as for a made-up team;
- ExportMyData (POST /v1/members/me:export): the member's own proof, skip and
  comment are in it, another member's words, nickname and id are not, and an
  anonymous vote they took part in appears without their choice.

usage: export.py <gateway-url> <png-path>
"""
import base64
import csv
import io
import json
import secrets
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import date, timedelta
from pathlib import Path

import rest_client



def fail(msg: str) -> None:
    sys.exit(f"export.py: {msg}")


class Api(rest_client.Api):
    def __init__(self, base: str) -> None:
        super().__init__(base, fail, timeout=30)

    def member(self, prefix: str) -> dict:
        for _ in range(8):
            nickname = prefix + str(secrets.randbelow(10 ** (10 - len(prefix))))
            r = self.ok("POST", "/v1/auth/sign-in", body={
                "development": {"nickname": nickname},
                "device": {"name": "export check", "platform": "DEVICE_PLATFORM_WEB"},
            })
            status, up = self.call("POST", "/v1/auth/sign-up", r["tokens"]["accessToken"],
                                   {"nickname": nickname})
            if status == 409:
                continue
            if status >= 300:
                fail(f"sign-up: {status} {up}")
            me = self.ok("GET", "/v1/members/me", up["accessToken"])
            return {"token": up["accessToken"], "nickname": nickname, "id": me["member"]["memberId"]}
        fail("eight random nicknames were all taken")
        return {}


def main() -> None:
    base, png = sys.argv[1], Path(sys.argv[2])
    api = Api(base)
    leader, stays, skipper, late, leaver, gone = (
        api.member(p) for p in ("ex리더", "ex멤버", "ex건너", "ex늦게", "ex떠남", "ex탈퇴"))
    today = rest_client.team_today()

    def d(x: date) -> dict:
        return {"year": x.year, "month": x.month, "day": x.day}

    name = f"수출확인{secrets.randbelow(1000)}"
    team = api.ok("POST", "/v1/teams", leader["token"], {
        "name": name, "category": "TEAM_CATEGORY_STUDY",
        "startDate": d(today), "endDate": d(today + timedelta(days=30))})["team"]["teamId"]
    code = api.ok("POST", f"/v1/teams/{team}/invites", leader["token"], {})["invite"]["code"]
    for m in (stays, skipper, leaver, gone):
        api.ok("POST", f"/v1/invites/{code}:accept", m["token"], {})
    repeat = api.ok("POST", f"/v1/teams/{team}/missions", leader["token"], {
        "title": "=SUM(1,2)", "kind": "MISSION_KIND_REPEAT", "way": "PROOF_WAY_TEXT",
        "timesPerWeek": 3})["mission"]["id"]
    once = api.ok("POST", f"/v1/teams/{team}/missions", leader["token"], {
        "title": "책 한 권 읽기", "kind": "MISSION_KIND_ONCE", "way": "PROOF_WAY_LINK",
        "deadline": (rest_client.now() + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M:%SZ"),
    })["mission"]["id"]

    def prove(m: dict, mission: str, body: dict) -> None:
        api.ok("POST", f"/v1/teams/{team}/missions/{mission}/proofs", m["token"], body)

    prove(leader, repeat, {"text": "완료"})
    prove(leader, once, {"linkUrl": "https://example.com/book"})
    prove(stays, repeat, {"text": "완료"})
    api.ok("POST", f"/v1/teams/{team}/missions/{repeat}:skip", skipper["token"], {"reason": "출장"})
    prove(leaver, repeat, {"text": "완료"})
    prove(gone, repeat, {"text": "완료"})
    api.ok("POST", f"/v1/teams/{team}/members/me:leave", leaver["token"], {})
    status, out = api.call("POST", "/v1/members/me:withdraw", gone["token"], {})
    if status >= 300:
        fail(f"withdraw: {status} {out}")
    api.ok("POST", f"/v1/invites/{code}:accept", late["token"], {})
    prove(late, once, {"linkUrl": "https://example.com/late"})

    def export(token: str, fmt: str, scope: str = "EXPORT_SCOPE_TEAM", extra: dict | None = None):
        body = {"format": fmt, "scope": scope, **(extra or {})}
        t = time.monotonic()
        status, out = api.call("POST", f"/v1/teams/{team}/activity:export", token, body)
        return status, out, time.monotonic() - t

    # The withdrawal's effects travel by events: wait until moim has let go.
    deadline = time.monotonic() + 15
    while True:
        members = api.ok("GET", f"/v1/teams/{team}/members", leader["token"])
        ids = {m.get("memberId") for m in members.get("members", [])}
        if gone["id"] not in ids or time.monotonic() > deadline:
            break
        time.sleep(0.2)

    status, out, took_csv = export(stays["token"], "EXPORT_FORMAT_CSV")
    if status != 200:
        fail(f"CSV export: {status} {out}")
    raw = base64.b64decode(out["content"])
    if not raw.startswith("\ufeff".encode()):
        fail("the CSV has no byte-order mark")
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    totals = {r["member_id"]: r for r in rows if r["row_type"] == "member_total"}
    board = api.ok("GET", f"/v1/teams/{team}/goal-board", stays["token"])["goalBoard"]
    ranking = board.get("ranking", [])
    if len(ranking) != 4:
        fail(f"ranking of 4 active members expected: {ranking}")
    for r in ranking:
        t = totals.get(r["memberId"])
        if t is None:
            fail(f"{r['memberId']} of the board has no CSV total")
        if (int(t["done"]), int(t["required"])) != (r.get("doneCount", 0), r.get("requiredCount", 0)):
            fail(f"{r['memberId']}: CSV {t['done']}/{t['required']} vs board {r}")
    if leaver["id"] not in totals or totals[leaver["id"]]["nickname"] != leaver["nickname"]:
        fail("the member who left is missing from the CSV")
    if gone["id"] in raw.decode("utf-8-sig") or gone["nickname"] in raw.decode("utf-8-sig"):
        fail("the withdrawn member is named in the CSV")
    pseudonyms = [k for k, v in totals.items() if k.startswith("withdrawn-") and v["nickname"] == "(탈퇴한 회원)"]
    if len(pseudonyms) != 1 or int(totals[pseudonyms[0]]["done"]) != 1:
        fail(f"the withdrawn member should appear once, anonymised, with 1 done: {totals}")
    if int(totals[skipper["id"]]["skipped"]) != 1 or int(totals[skipper["id"]]["done"]) != 0:
        fail(f"the skip: {totals[skipper['id']]}")
    if not any(r["mission_title"] == "'=SUM(1,2)" for r in rows):
        fail("a formula-looking title is not neutralised")
    for k, t in totals.items():
        for col in ("required", "done", "skipped", "pending"):
            s = sum(int(r[col]) for r in rows if r["row_type"] == "day" and r["member_id"] == k)
            if s != int(t[col]):
                fail(f"{k}: rows sum {col} {s} != total {t[col]}")
    print(f"[export] CSV: {len(raw)} bytes, {len(rows)} rows, totals equal the goal board for "
          f"{len(ranking)} members, leaver and withdrawn member included; {took_csv * 1000:.0f} ms")

    status, out, took_pdf = export(stays["token"], "EXPORT_FORMAT_PDF")
    if status != 200 or out.get("contentType") != "application/pdf":
        fail(f"PDF export: {status} {str(out)[:300]}")
    pdf = base64.b64decode(out["content"])
    with tempfile.TemporaryDirectory() as tmp:
        f = Path(tmp) / out["fileName"]
        f.write_bytes(pdf)
        info = subprocess.run(["pdfinfo", str(f)], capture_output=True, text=True, check=True).stdout
        pages = [l for l in info.splitlines() if l.startswith("Pages:")]
        if not pages or pages[0].split()[-1] != "1":
            fail(f"the PDF is not one page: {info}")
        text = subprocess.run(["pdftotext", str(f), "-"], capture_output=True, text=True, check=True).stdout
        if name not in text or today.isoformat() not in text:
            fail(f"the PDF lacks the team name or the period: {text[:400]}")
        png.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(["pdftoppm", "-png", "-r", "60", "-singlefile", str(f), str(png.with_suffix(""))],
                       check=True)
    print(f"[export] PDF: {len(pdf)} bytes, 1 page, team name and period in its text, "
          f"rendered to {png}; {took_pdf * 1000:.0f} ms")

    my_data(api, team, repeat, leader, stays, skipper)

    outsider = api.member("ex밖")
    for t in (team, str(uuid.uuid4())):
        status, out = api.call("POST", f"/v1/teams/{t}/activity:export", outsider["token"],
                               {"format": "EXPORT_FORMAT_CSV", "scope": "EXPORT_SCOPE_TEAM"})
        if status != 404:
            fail(f"a non-member got {status} {out}")
    print("[export] a non-member gets 404, as for a made-up team")


def my_data(api: Api, team: str, mission: str, leader: dict, me: dict, skipper: dict) -> None:
    run = secrets.randbelow(10**6)
    proofs = api.ok("GET", f"/v1/teams/{team}/missions/{mission}/proofs", me["token"]).get("proofs", [])
    theirs = next(p for p in proofs if p.get("author", {}).get("memberId") == leader["id"])
    mine = next(p for p in proofs if p.get("author", {}).get("memberId") == me["id"])
    base = f"/v1/teams/{team}/missions/{mission}/proofs"
    api.ok("POST", f"{base}/{theirs['id']}/comments", me["token"], {"content": f"내 댓글 {run}"})
    api.ok("PUT", f"{base}/{theirs['id']}/heart", me["token"], {})
    api.ok("POST", f"{base}/{mine['id']}/comments", leader["token"], {"content": f"남의 댓글 {run}"})
    secret = f"비밀선택{run}"
    anon = api.ok("POST", f"/v1/teams/{team}/votes", leader["token"], {
        "title": "익명 투표", "options": [secret, "다른 선택"], "anonymous": True})["vote"]
    named = api.ok("POST", f"/v1/teams/{team}/votes", leader["token"], {
        "title": "기명 투표", "options": [f"공개선택{run}", "다른 선택"]})["vote"]
    api.ok("POST", f"/v1/teams/{team}/votes/{anon['voteId']}:cast", me["token"],
           {"optionIds": [anon["options"][0]["optionId"]]})
    api.ok("POST", f"/v1/teams/{team}/votes/{named['voteId']}:cast", me["token"],
           {"optionIds": [named["options"][0]["optionId"]]})
    t = time.monotonic()
    out = api.ok("POST", "/v1/members/me:export", me["token"], {})
    took = time.monotonic() - t
    raw = base64.b64decode(out["content"]).decode()
    doc = json.loads(raw)
    if doc["account"]["member_id"] != me["id"] or doc["account"]["nickname"] != me["nickname"]:
        fail(f"the account part: {doc['account']}")
    if not doc.get("sessions"):
        fail("no sessions in the export")
    if not any(p["proof_id"] == mine["id"] for p in doc["missions"]["proofs"]):
        fail("my proof is missing")
    if not any(c["content"] == f"내 댓글 {run}" for c in doc["missions"]["comments"]):
        fail("my comment is missing")
    if not doc["missions"]["hearts_given"]:
        fail("my heart is missing")
    if not doc["teams"]["memberships"] or doc["teams"]["memberships"][0]["team_id"] != team:
        fail(f"my membership is missing: {doc['teams']}")
    for other in (f"남의 댓글 {run}", leader["nickname"], leader["id"], skipper["nickname"], skipper["id"]):
        if other in raw:
            fail(f"another member's data is in my export: {other!r}")
    anon_in = [v for v in doc["board"]["anonymous_votes_taken_part_in"] if v["vote_id"] == anon["voteId"]]
    if len(anon_in) != 1:
        fail(f"the anonymous vote I took part in is missing: {doc['board']}")
    if secret in raw or anon["options"][0]["optionId"] in raw:
        fail("my choice in an anonymous vote is in the export")
    if not any(c["option_text"] == f"공개선택{run}" for c in doc["board"]["named_vote_choices"]):
        fail("my choice in a named vote is missing")
    print(f"[export] my data: {len(raw)} bytes JSON from auth, moim, mission, board and notification; "
          f"my proofs and comments in, others' words/names/ids out, the anonymous vote without my choice; "
          f"{took * 1000:.0f} ms")


if __name__ == "__main__":
    main()
