#!/usr/bin/env bash
# Runs every example briefly so that examples keep working (called by .ci/run).
# Debug builds: CI already built them with `cargo build --all-targets`.
set -euo pipefail
cd "$(dirname "$0")/.."

# libprocess: two OS processes exchanging messages, then a service embedding the runtime.
cargo run -q --locked -p libprocess --example ping_pong -- --count 2000
cargo run -q --locked -p libprocess --example job_queue

# meso-api: parse the reference's --resources/--attributes examples, and refuse a bad one.
cargo run -q --locked -p meso-api --example parse_flags -- \
  'cpus:24;gpus:2;mem:24576;disk:409600;ports:[21000-24000,30000-34000];bugs(debug_role):{a,b,c}' \
  'rack:abc;zone:west;os:centos5;level:10;keys:[1000-1500]'
if cargo run -q --locked -p meso-api --example parse_flags -- 'ports:[5-1]' 2>/dev/null; then
  echo "parse_flags accepted a bad range" >&2
  exit 1
fi

# meso-master: the allocator's DeclineOffers benchmark on a small cluster.
cargo run -q --locked -p meso-allocator --example allocator_bench -- --quick
# meso-master: GET /master/state from a real master holding 1,000 agents and 10,000 tasks.
cargo run -q --locked -p meso-master --example master_state_bench -- --quick
# meso-master: ACKNOWLEDGE calls over keep-alive HTTP to a real master (2 connections, 0.5 s).
cargo run -q --locked -p meso-master --example scheduler_calls_bench -- 2 0.5

# meso-isolators: one command in a container with cgroups and a pid namespace (CI runs as root).
cargo run -q --locked -p meso-isolators --example run_isolated -- \
  --isolation cgroups/cpu,cgroups/mem,namespaces/pid --cpus 0.5 --mem-mb 64 -- sh -c 'echo "pid in namespace: $$"'
# The raw-HTTP Mesos clients (Python standard library only) against their fake master:
# known-good before they are pointed at `meso master`/`meso agent`.
python3 tests/http_clients/selftest.py

# meso-api: the HTTP front doors' benchmark, briefly.
cargo run -q --locked -p meso-api --example http_front_door_bench -- --quick

# meso: every subcommand documents its flags.
for sub in local master agent execute "batch run" "batch status"; do
  # shellcheck disable=SC2086 # "batch run" is two words
  cargo run -q --locked -- $sub --help > /dev/null
done
# meso-agent: a real agent runs one `sleep` task with the built-in executor (`meso executor`)
# and reports the executor's memory.
cargo run -q --locked -p meso-agent --example executor_rss -- "$PWD/target/debug/meso"
# meso: the failover benchmark, briefly: three masters, 200 emulated agents, two leader kills.
cargo run -q --locked -- agent-emulator --help > /dev/null
cargo run -q --locked --example failover_bench -- --meso "$PWD/target/debug/meso" \
  --kills 2 --agents 200 --tasks-per-agent 2
# meso: the state-at-scale benchmark, briefly: 200 emulated agents with 2 tasks each.
cargo run -q --locked --example state_bench -- --meso "$PWD/target/debug/meso" \
  --agents 200 --tasks-per-agent 2 --runs 1
# meso: the soak benchmark, briefly: 30 s, 100 + 20 churning agents, 10 frameworks, a kill.
cargo run -q --locked --example soak_bench -- --meso "$PWD/target/debug/meso" --minutes 0.5 \
  --agents 100 --churn-agents 20 --churn-every-secs 10 --frameworks 10 \
  --tasks-per-framework 2 --task-life-secs 3 --kill-every-minutes 0.25
# meso: the web UI benchmark, briefly: 100 emulated agents, one cold load, 5 s idle.
cargo run -q --locked --example ui_bench -- --meso "$PWD/target/debug/meso" \
  --agents 100 --tasks-per-agent 2 --loads 1 --idle-secs 5
# meso-frameworks: seed 000's hello world, in Rust on the SDK and in Python over the v1 HTTP
# APIs, against `meso local` (each fetches its own executor from a file:// URI).
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
local_dir=$(mktemp -d)
target/debug/meso local --port "$port" --agent-port "$((port + 1))" --work-dir "$local_dir/work" \
  --resources 'cpus:2;mem:512;disk:100' > "$local_dir/local.log" 2>&1 &
local_pid=$!
python3 -c 'import sys, time, urllib.request
for _ in range(200):
    try:
        urllib.request.urlopen("http://127.0.0.1:%s/master/health" % sys.argv[1], timeout=2); break
    except OSError:
        time.sleep(0.2)' "$port"
cargo run -q --locked -p meso-frameworks --example hello_world -- --master "127.0.0.1:$port" --tasks 3
cargo run -q --locked -p meso-frameworks --example hello_world -- --master "127.0.0.1:$port" --tasks 2 --http
python3 tests/http_clients/hello_world.py --master "127.0.0.1:$port" --tasks 3
# meso batch (the framework on the SDK): a two-stage job on the same cluster, then its status.
echo '{"name": "wc", "stages": [
  {"name": "map", "tasks": 3, "command": "echo map $MESO_BATCH_TASK_INDEX", "resources": "cpus:0.1;mem:32"},
  {"name": "reduce", "tasks": 1, "command": "echo reduce", "resources": "cpus:0.1;mem:32",
   "after": ["map"]}]}' > "$local_dir/wc.json"
target/debug/meso batch run --master "127.0.0.1:$port" --locality-wait 0secs "$local_dir/wc.json"
target/debug/meso batch status --master "127.0.0.1:$port" wc
kill "$local_pid"
wait "$local_pid" 2> /dev/null || true
rm -rf "$local_dir"
