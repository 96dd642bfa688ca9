#!/usr/bin/env python3
"""A PostgreSQL restart under load gives 503s and no 500s (issue 10).

Drives a running broadsheet server (on its own PostgreSQL cluster, which this
script restarts) with reads, writes and logins from several threads, restarts
the cluster twice mid-load (`fast`: sessions are terminated; `immediate`: a
crash and recovery), and fails if any answer was a 500 or anything other than
the expected statuses, if a 503 lacked `Retry-After`, or if the server did not
recover afterwards without a restart of its own.

usage: pg-restart-under-load.py BASE_URL EMAIL PASSWORD PG_VERSION PG_CLUSTER
"""

import collections
import json
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

BASE, EMAIL, PASSWORD, PG_VERSION, PG_CLUSTER = sys.argv[1:6]
THREADS, SECONDS = 6, 16


def call(method, path, body=None, token=None, timeout=15):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(BASE + path, data=data, method=method)
    if data is not None:
        req.add_header("content-type", "application/json")
    if token:
        req.add_header("authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as res:
            return res.status, res.read(), dict(res.headers)
    except urllib.error.HTTPError as e:
        return e.code, e.read(), dict(e.headers)
    except Exception as e:  # connection refused / reset: not an HTTP answer
        return f"error:{type(e).__name__}", b"", {}


def login():
    status, body, _ = call("POST", "/api/v1/auth/login", {"email": EMAIL, "password": PASSWORD})
    assert status == 200, (status, body)
    return json.loads(body)["data"]["access_token"]


token = login()
counts = collections.Counter()
bad = []
missing_retry_after = []
lock = threading.Lock()
stop = time.monotonic() + SECONDS


def worker(n):
    i = 0
    while time.monotonic() < stop:
        i += 1
        kind = ("read", "health", "write", "login")[i % 4]
        if kind == "read":
            status, body, headers = call("GET", "/api/v1/articles?per_page=5")
        elif kind == "health":
            status, body, headers = call("GET", "/health")
        elif kind == "write":
            status, body, headers = call("POST", "/api/v1/series", {"title": f"load {n}-{i}"}, token)
        else:
            status, body, headers = call("POST", "/api/v1/auth/login", {"email": EMAIL, "password": PASSWORD})
        # Logins may also meet the login rate limit (parallel attempts).
        ok = {"read": {200, 503}, "health": {200, 503}, "write": {201, 503}, "login": {200, 429, 503}}[kind]
        with lock:
            counts[(kind, status)] += 1
            if status not in ok:
                bad.append((kind, status, body[:300]))
            elif status == 503 and "Retry-After" not in headers and "retry-after" not in headers:
                missing_retry_after.append(kind)


threads = [threading.Thread(target=worker, args=(n,)) for n in range(THREADS)]
for t in threads:
    t.start()
for at, mode in ((3, "fast"), (9, "immediate")):
    time.sleep(max(0, stop - SECONDS + at - time.monotonic()))
    started = time.monotonic()
    subprocess.run(
        ["pg_ctlcluster", "--skip-systemctl-redirect", PG_VERSION, PG_CLUSTER, "restart", "-m", mode],
        check=True,
    )
    print(f"restarted PostgreSQL ({mode}) in {time.monotonic() - started:.1f} s", flush=True)
for t in threads:
    t.join()

# After the load: the next requests succeed without restarting the server.
recovered = [call("GET", "/api/v1/articles?per_page=5")[0], call("POST", "/api/v1/series", {"title": "after"}, token)[0]]

for (kind, status), n in sorted(counts.items(), key=str):
    print(f"{kind:7} {status}: {n}")
print(f"after the restarts: {recovered}")
failures = []
if bad:
    failures.append(f"unexpected answers: {bad[:5]}")
if missing_retry_after:
    failures.append(f"{len(missing_retry_after)} 503s without Retry-After")
if not any(status == 503 for (_, status) in counts):
    # Possible when every request in the outage window waited for the pool
    # (5 s) and the server was back by then; the run still proves no 500s
    # and the recovery, but say so.
    print("note: no request answered 503; none landed in an outage window longer than the pool's wait")
if recovered != [200, 201]:
    failures.append(f"no recovery after the restarts: {recovered}")
if failures:
    sys.exit("pg-restart-under-load: " + "; ".join(failures))
seen = sorted({str(status) for (_, status) in counts})
print(f"pg-restart-under-load: no 500 during two restarts (statuses seen: {', '.join(seen)}), and recovered")
