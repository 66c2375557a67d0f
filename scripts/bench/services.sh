#!/usr/bin/env bash
# Services framework benchmark: a release `meso master` (the services framework runs beside
# it) and 10 real `meso agent`s on loopback, then prints `name: value unit` lines:
#   services_deploy_1000_instances_s   POST /v2/apps of 1,000 `sleep` instances (0.01 cpus,
#                                      16 MB, one host port each) until /v2/apps shows all
#                                      1,000 TASK_RUNNING and no deployment
#   services_api_apps_per_s            GET /v2/apps answered per second, one client, one
#                                      request at a time (a new connection each), with
#                                      1,000 apps defined (the 1,000-instance app among
#                                      them); each answer read in full and checked (status
#                                      200, the whole Content-Length), not parsed
#   services_api_apps_parsed_per_s     the same with Python's http.client and json.loads of
#                                      every answer (the figure's first method, until
#                                      session 9: mostly the client's own parsing)
# Usage: scripts/bench/services.sh [INSTANCES (default 1000)] [APPS (default 1000)]
# MESO=path/to/meso skips the release build.
set -euo pipefail
cd "$(dirname "$0")/../.."
INSTANCES="${1:-1000}"
APPS="${2:-1000}"
if [ -z "${MESO:-}" ]; then
  cargo build --release --locked --bin meso >&2
  MESO=target/release/meso
fi
MESO="$(realpath "$MESO")"
WORK="$(mktemp -d)"
MPORT=$((20000 + RANDOM % 10000))
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  # The framework checkpoints, so stopped agents leave executors running: end their
  # sessions, found in one pass over the process table.
  local sids
  sids=$(find "$WORK" -name forked.pid -exec tail -c +9 {} \; -exec echo \; 2>/dev/null | tr '\n' ' ')
  if [ -n "${sids// /}" ]; then
    ps -eo pid=,sid= | awk -v list="$sids" \
      'BEGIN { n = split(list, a, " "); for (i = 1; i <= n; i++) s[a[i]] = 1 } ($2 in s) { print $1 }' |
      xargs -r kill -9 2>/dev/null || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT

"$MESO" master --port "$MPORT" --work-dir "$WORK/master" --allocation-interval 100ms \
  2>"$WORK/master.log" &
PIDS+=($!)
for i in $(seq 10); do
  "$MESO" agent --master "127.0.0.1:$MPORT" --port $((MPORT + i)) --work-dir "$WORK/agent$i" \
    --hostname "bench-$i" --attributes "rack:r$((i % 3))" \
    --resources "cpus:4;mem:8192;disk:1024;ports:[31000-31999]" 2>"$WORK/agent$i.log" &
  PIDS+=($!)
done
for _ in $(seq 600); do
  if curl -sf "http://127.0.0.1:$MPORT/master/state" | grep -q '"activated_slaves":10' &&
    curl -sf "http://127.0.0.1:$MPORT/v2/info" | grep -q '"frameworkId":"'; then
    break
  fi
  sleep 0.1
done

python3 - "$MPORT" "$INSTANCES" "$APPS" <<'PY'
import http.client, json, socket, sys, time
port, instances, apps = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])

def call(method, path, body=None):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    c.request(method, path, body=None if body is None else json.dumps(body),
              headers={"Content-Type": "application/json", "Accept": "application/json"})
    r = c.getresponse()
    data = r.read()
    c.close()
    return r.status, (json.loads(data) if data else None)

app = {"id": "/bench/sleep", "cmd": "sleep 3600", "instances": instances, "cpus": 0.01, "mem": 16}
start = time.monotonic()
status, body = call("POST", "/v2/apps", app)
assert status == 201, (status, body)
while True:
    _, body = call("GET", "/v2/apps/bench/sleep")
    a = body["app"]
    if a["tasksRunning"] == instances and not a["deployments"]:
        break
    if time.monotonic() - start > 600:
        sys.exit(f"hang guard: {a['tasksRunning']} of {instances} running after 600 s")
    time.sleep(0.05)
print(f"services_deploy_{instances}_instances_s: {time.monotonic() - start:.2f} s")

others = [{"id": f"/bench/api/app-{i}", "cmd": "sleep 3600", "instances": 0, "cpus": 0.01,
           "mem": 16, "labels": {"tier": "bench"}} for i in range(apps - 1)]
status, body = call("PUT", "/v2/apps", others)
assert status == 200, (status, body)
_, listed = call("GET", "/v2/apps")
assert len(listed["apps"]) == apps, len(listed["apps"])

def get_raw(path):
    # One request on a new connection; the answer read whole and checked, not parsed.
    s = socket.create_connection(("127.0.0.1", port), timeout=120)
    s.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: application/json\r\n"
              "Connection: close\r\n\r\n".encode())
    chunks = []
    while True:
        b = s.recv(1 << 20)
        if not b:
            break
        chunks.append(b)
    s.close()
    data = b"".join(chunks)
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    assert lines[0].split()[1] == "200", lines[0]
    length = [int(l.split(":", 1)[1]) for l in lines[1:] if l.lower().startswith("content-length:")]
    assert length and length[0] == len(body), (length, len(body))
    return body

assert len(json.loads(get_raw("/v2/apps"))["apps"]) == apps
n, start = 0, time.monotonic()
while time.monotonic() - start < 10 or n < 20:
    get_raw("/v2/apps")
    n += 1
print(f"services_api_apps_per_s: {n / (time.monotonic() - start):.1f} requests/s")
n, start = 0, time.monotonic()
while time.monotonic() - start < 10 or n < 20:
    status, _ = call("GET", "/v2/apps")
    assert status == 200
    n += 1
print(f"services_api_apps_parsed_per_s: {n / (time.monotonic() - start):.1f} requests/s")
status, _ = call("DELETE", "/v2/apps/bench/sleep")
deadline = time.monotonic() + 300
while time.monotonic() < deadline:
    _, t = call("GET", "/v2/tasks")
    if not t["tasks"]:
        break
    time.sleep(0.2)
PY
