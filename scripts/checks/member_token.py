"""Signs a fresh development member in and up through the gateway's REST API and
prints its access token (for schemathesis and manual calls).

usage: token.py <gateway-url> <nickname>
"""
import json
import sys
import urllib.request


def post(url: str, body: dict, token: str | None = None) -> dict:
    req = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST")
    req.add_header("content-type", "application/json")
    if token:
        req.add_header("authorization", f"Bearer {token}")
    with urllib.request.urlopen(req, timeout=10) as resp:
        return json.load(resp)


def main() -> None:
    base, nickname = sys.argv[1], sys.argv[2]
    signed_in = post(f"{base}/v1/auth/sign-in", {
        "development": {"nickname": nickname},
        "device": {"name": "script", "platform": "DEVICE_PLATFORM_WEB"},
    })
    up = post(f"{base}/v1/auth/sign-up", {"nickname": nickname}, signed_in["tokens"]["accessToken"])
    print(up["accessToken"])


if __name__ == "__main__":
    main()
