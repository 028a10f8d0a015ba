#!/usr/bin/env python3
"""A bot farm against a room: N clients, each from an address of its own (sent as
X-Forwarded-For: start the room with WAITING_ROOM_TRUSTED_PROXIES=127.0.0.1/32), each
taking places in one event as fast as it can for a while, solving the join's challenge
whenever one is asked (the solver of join.py). Prints, per challenge level met, the places
taken and the CPU seconds the farm spent on them: what a place costs a bot.

    python3 end2end/bots/farm.py http://127.0.0.1:3000 EVENT CLIENTS SECONDS
"""
import json, multiprocessing, os, sys, time, urllib.error, urllib.request

sys.path.insert(0, os.path.dirname(__file__))
from join import solve  # noqa: E402


def level_of(challenge: str) -> int:
    import base64
    raw = base64.urlsafe_b64decode(challenge + "=" * (-len(challenge) % 4))
    return int(json.loads(raw)["parameters"]["data"]["l"])


def client(args):
    base, event, n, seconds, run = args
    address = f"10.{n // 65536 % 256}.{n // 256 % 256}.{n % 256}"
    places, cpu, tries = {}, {}, 0
    until = time.time() + seconds
    while time.time() < until:
        tries += 1
        user, solution, level = f"bot{run}-{n}-{tries}", None, 0
        started = time.process_time()
        for _ in range(3):
            body = json.dumps({"eventId": event, "userId": user}).encode()
            headers = {"content-type": "application/json", "x-forwarded-for": address}
            if solution:
                headers["vestibule-solution"] = solution
            request = urllib.request.Request(f"{base}/api/waiting-room/sessions", body, headers)
            try:
                with urllib.request.urlopen(request) as answer:
                    answer.read()
                    places[level] = places.get(level, 0) + 1
                break
            except urllib.error.HTTPError as refused:
                refused.read()
                if refused.code == 428:
                    challenge = refused.headers["vestibule-challenge"]
                    level = level_of(challenge)
                    solution = solve(challenge)
                    continue
                if refused.code == 429:
                    time.sleep(float(refused.headers.get("retry-after", "1")))
                break
        cpu[level] = cpu.get(level, 0.0) + time.process_time() - started
    return places, cpu


def main():
    base, event, clients, seconds = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
    with multiprocessing.Pool(clients) as pool:
        run = os.urandom(4).hex()
        results = pool.map(client, [(base, event, n, seconds, run) for n in range(clients)])
    places, cpu = {}, {}
    for p, c in results:
        for level, count in p.items():
            places[level] = places.get(level, 0) + count
        for level, spent in c.items():
            cpu[level] = cpu.get(level, 0.0) + spent
    for level in sorted(set(places) | set(cpu)):
        taken, spent = places.get(level, 0), cpu.get(level, 0.0)
        rate = taken / spent if spent else float("inf")
        print(f"level {level}: {taken} places, {spent:.2f} CPU s, {rate:.1f} places per CPU-second")


if __name__ == "__main__":
    main()
