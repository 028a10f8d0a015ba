#!/usr/bin/env python3
"""Joins a line through the JSON API, solving the join's challenge when one is asked.

    python3 end2end/bots/join.py http://localhost:3000 E1 U1
"""
import base64, hashlib, json, sys, urllib.error, urllib.request


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def solve(header: str) -> str:
    """ALTCHA v2, SHA-256: the counter whose key starts with the prefix."""
    challenge = json.loads(base64.urlsafe_b64decode(header + "=" * (-len(header) % 4)))
    p = challenge["parameters"]
    salt, nonce = bytes.fromhex(p["salt"]), bytes.fromhex(p["nonce"])
    prefix, counter = bytes.fromhex(p["keyPrefix"]), 0
    while True:
        key = hashlib.sha256(salt + nonce + counter.to_bytes(4, "big")).digest()[: p["keyLength"]]
        if key.startswith(prefix):
            solution = {"counter": counter, "derivedKey": key.hex()}
            return b64(json.dumps({"challenge": challenge, "solution": solution}).encode())
        counter += 1


def join(base: str, event: str, user: str, solution: str | None = None):
    body = json.dumps({"eventId": event, "userId": user}).encode()
    headers = {"content-type": "application/json"}
    if solution:
        headers["vestibule-solution"] = solution
    request = urllib.request.Request(f"{base}/api/waiting-room/sessions", body, headers)
    try:
        with urllib.request.urlopen(request) as answer:
            return answer.status, json.load(answer)
    except urllib.error.HTTPError as refused:
        if refused.code == 428 and solution is None:
            return join(base, event, user, solve(refused.headers["vestibule-challenge"]))
        return refused.code, json.load(refused)


if __name__ == "__main__":
    status, answer = join(*sys.argv[1:4])
    print(status, json.dumps(answer))
    sys.exit(0 if status in (200, 202) else 1)
