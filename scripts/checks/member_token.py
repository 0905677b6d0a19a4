"""Signs a fresh development member in and up through the gateway's REST API and
prints its access token (for schemathesis and manual calls).

usage: member_token.py <gateway-url> <nickname-prefix>

The nickname is the prefix and random digits (10 characters in all), drawn
again while it is taken: a development sign-in with a taken nickname would be
that older member, and the database keeps the members of earlier runs.
"""
import json
import secrets
import sys
import urllib.error
import urllib.request


def post(url: str, body: dict, token: str | None = None) -> dict:
    req = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST")
    req.add_header("content-type", "application/json")
    if token:
        req.add_header("authorization", f"Bearer {token}")
    with urllib.request.urlopen(req, timeout=10) as resp:
        return json.load(resp)


def main() -> None:
    base, prefix = sys.argv[1], sys.argv[2][:6]
    for _ in range(8):
        nickname = prefix + str(secrets.randbelow(10 ** (10 - len(prefix))))
        signed_in = post(f"{base}/v1/auth/sign-in", {
            "development": {"nickname": nickname},
            "device": {"name": "script", "platform": "DEVICE_PLATFORM_WEB"},
        })
        try:
            up = post(f"{base}/v1/auth/sign-up", {"nickname": nickname},
                      signed_in["tokens"]["accessToken"])
        except urllib.error.HTTPError as e:
            if e.code == 409:  # NICKNAME_TAKEN or ALREADY_SIGNED_UP (an older member)
                continue
            raise
        print(up["accessToken"])
        return
    sys.exit("member_token.py: eight random nicknames were all taken")


if __name__ == "__main__":
    main()
