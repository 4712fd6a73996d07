#!/usr/bin/env python3
"""Publishes a new version of IVR flow `main` through kefu's API while calls are running (the IVR
benchmark's "publish under load"): signs in as the demo admin, takes the published graph, changes the
welcome node's label, saves it as a new version and publishes it. Prints the versions and the time
the two requests took.

    ivr_publish.py http://127.0.0.1:18096
"""

import json
import sys
import time
import urllib.request

base = sys.argv[1].rstrip("/")


def call(method, path, body=None, token=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(base + path, data=data, method=method)
    req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(req, timeout=30) as r:
        raw = r.read()
        return json.loads(raw) if raw else None


token = call("POST", "/api/v1/auth/login", {"username": "admin", "password": "Kefu@2026"})["token"]
flows = call("GET", "/api/v1/ivr/flows", token=token)
flows = flows["items"] if isinstance(flows, dict) else flows
main = next(f for f in flows if f["key"] == "main")
old = main["published_version"]
graph = call("GET", f"/api/v1/ivr/flows/{main['id']}/versions/{old}", token=token)
graph = graph.get("graph", graph)
for n in graph["nodes"]:
    if n["id"] == graph["start"]:
        n["label"] = f"{n.get('label', '')}（{time.strftime('%H:%M:%S')} 发布）"
t0 = time.monotonic()
saved = call(
    "POST",
    f"/api/v1/ivr/flows/{main['id']}/versions",
    {"graph": graph, "note": "benchmark: published under load"},
    token=token,
)
t1 = time.monotonic()
call("POST", f"/api/v1/ivr/flows/{main['id']}/versions/{saved['version']}/publish", {}, token=token)
t2 = time.monotonic()
print(
    f"version {old} -> {saved['version']}: save {1000 * (t1 - t0):.0f} ms, publish {1000 * (t2 - t1):.0f} ms"
)
