#!/usr/bin/env python3
"""Oversubscription benchmark (issue 23); run through scripts/bench/oversubscription.sh.

A synthetic "business" (one worker process per core, outside meso) whose CPU demand follows
one slow wave from 10% to 90% of the machine and back over DURATION seconds. Each worker,
every 50 ms, spins for demand x 50 ms and sleeps the rest, counting loop iterations: its
work. Beside it run a meso master and agent (`--resource-estimator load --qos-controller
load`, cgroups/cpu,cgroups/mem) on which SLOTS `meso execute --revocable` loops keep
`while true` tasks running on revocable cpus (each relaunched when evicted).

The machine is shared with other work, whose load drifts; so "alone" and "harvested" are
interleaved rather than run one after the other: the wave is cut into WINDOW-second pieces
and each piece is run twice back to back, once with the revocable tasks stopped (SIGSTOP on
every process in the revocable cgroups, repeated while the piece runs so relaunched tasks
stop too) and once with them running, alternating which goes first. Both halves see the same
master, agent and background load; they differ only in the revocable tasks running.

Prints `name: value unit` lines:
  harvested_idle_cpu_fraction  over the harvested halves: the revocable tasks' CPU time
                               (their cgroups' cpuacct) over the CPU time the rest of the
                               machine left to them (that time plus the machine's idle time,
                               /proc/stat); target >= 0.7
  harvested_business_idle_cpu_fraction
                               the revocable CPU time over cores x time minus the business's
                               own CPU time (the issue's definition; on a machine busy with
                               other work this is lower, as others take part of that idle)
  business_slowdown_pct        the business's work in the harvested halves vs the alone
                               halves, as a percentage lost; target <= 5
  eviction_latency_ms_p99      for each evicted container: from the QoS controller's signal
                               crossing its threshold to the container gone; target <= 2000.
                               Both ends are the agent's wall clock, from its log: the
                               eviction line's `signal_at` (the start of the sample window in
                               which the controller began firing, or the container's launch
                               if it was launched while the controller already fired) and the
                               "evicted container gone" line's `gone_at` (its executor reaped,
                               every process of the container killed, the TASK_KILLED updates
                               sent next). Split into the decision's share (signal to the
                               controller naming the container) and the kill's (naming to
                               gone); checked against the agent's own timer
                               `slave/qos_eviction_latency_ms`. Counts the evictions whose
                               clock ran wholly inside harvested halves (tasks running, not
                               SIGSTOPped); `eviction_latency_ms_p99_all` counts every one.
plus the counts behind them.
"""

import argparse
import math
import multiprocessing as mp
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import json

SLOT_S = 0.05


def demand(t, duration):
    """10% at the start and the end, 90% half-way."""
    return 0.5 - 0.4 * math.cos(2 * math.pi * t / duration)


def worker(offset, length, duration, start, out):
    work = 0
    while True:
        now = time.monotonic()
        t = now - start
        if t >= length:
            break
        busy_until = now + demand(offset + t, duration) * SLOT_S
        while time.monotonic() < busy_until:
            for _ in range(200):
                pass
            work += 1
        rest = SLOT_S - (time.monotonic() - now)
        if rest > 0:
            time.sleep(rest)
    ru = os.times()
    out.put((work, ru.user + ru.system))


def business(offset, length, duration, cores):
    """Runs the business over [offset, offset + length) of the wave; returns (work, cpu_secs)."""
    q = mp.Queue()
    start = time.monotonic()
    procs = [mp.Process(target=worker, args=(offset, length, duration, start, q))
             for _ in range(cores)]
    for p in procs:
        p.start()
    results = [q.get() for _ in procs]
    for p in procs:
        p.join()
    return sum(r[0] for r in results), sum(r[1] for r in results)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get_json(port, path, timeout=5):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=timeout) as r:
            return json.loads(r.read())
    except Exception:
        return None


def cgroup_cpu_secs(root):
    v1 = f"/sys/fs/cgroup/cpuacct/{root}/cpuacct.usage"
    if os.path.exists(v1):
        return int(open(v1).read()) / 1e9
    v2 = f"/sys/fs/cgroup/{root}/cpu.stat"
    if os.path.exists(v2):
        for line in open(v2):
            k, v = line.split()
            if k == "usage_usec":
                return int(v) / 1e6
    return 0.0


def machine_idle_secs():
    """The machine's idle + iowait CPU seconds so far (/proc/stat)."""
    with open("/proc/stat") as f:
        fields = f.readline().split()
    hz = os.sysconf("SC_CLK_TCK")
    return (int(fields[4]) + int(fields[5])) / hz


def revocable_pids(root):
    """Every process in the revocable containers' cpu cgroups (v1, then v2)."""
    pids = []
    for base in (f"/sys/fs/cgroup/cpu/{root}_revocable", f"/sys/fs/cgroup/{root}_revocable"):
        if not os.path.isdir(base):
            continue
        for c in os.listdir(base):
            procs = os.path.join(base, c, "cgroup.procs")
            try:
                pids += [int(x) for x in open(procs).read().split()]
            except OSError:
                pass
    return pids


def signal_all(pids, sig):
    for pid in pids:
        try:
            os.kill(pid, sig)
        except OSError:
            pass


def field(line, name):
    """The value of ` name=value` (or ` name="value"`) in one of the agent's log lines."""
    m = re.search(r" " + name + r'=("[^"]*"|\S+)', line)
    return m.group(1).strip('"') if m else None


def evictions(agent_log):
    """Per evicted container: (signal_at, decided_at, gone_at or None), agent wall clock."""
    out = {}
    for line in open(agent_log, errors="replace"):
        if "evicting a revocable container" in line:
            cid = field(line, "container_id")
            out[cid] = [float(field(line, "signal_at")), float(field(line, "decided_at")), None]
        elif "evicted container gone" in line:
            cid = field(line, "container_id")
            if cid in out:
                out[cid][2] = float(field(line, "gone_at"))
    return out


def percentile(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, math.ceil(q * len(values)) - 1)] if values else float("nan")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--meso", required=True)
    ap.add_argument("--duration", type=float, default=300)
    ap.add_argument("--slots", type=int, default=4)
    # 0: the revocable tasks hold revocable mem only (no cpus), so they launch even when the
    # machine has no idle CPU; only eviction latency means anything then (a saturated
    # machine keeps the `cpu` signal firing).
    ap.add_argument("--task-cpus", default="0.5")
    ap.add_argument("--window", type=float, default=10)
    args = ap.parse_args()
    cores = os.cpu_count()
    work_dir = tempfile.mkdtemp(prefix="meso-oversub-bench-")
    root = f"meso-bench-oversub-{os.getpid()}"

    print(f"# {cores} cores, wave over {args.duration:.0f} s in {args.window:.0f} s pieces, "
          "each alone and harvested", file=sys.stderr)

    mport, aport = free_port(), free_port()
    procs = []
    mlog = open(os.path.join(work_dir, "master.log"), "w")
    alog_path = os.path.join(work_dir, "agent.log")
    alog = open(alog_path, "w")
    procs.append(subprocess.Popen([args.meso, "master", "--port", str(mport),
                                   "--work-dir", os.path.join(work_dir, "master")],
                                  stdout=subprocess.DEVNULL, stderr=mlog))
    time.sleep(1)
    procs.append(subprocess.Popen([
        args.meso, "agent", "--master", f"127.0.0.1:{mport}", "--port", str(aport),
        "--work-dir", os.path.join(work_dir, "agent"),
        "--isolation", "cgroups/cpu,cgroups/mem", "--cgroups-root", root,
        "--resource-estimator", "load", "--qos-controller", "load",
    ], stdout=subprocess.DEVNULL, stderr=alog))
    deadline = time.time() + 60
    while time.time() < deadline:
        m = get_json(mport, "/metrics/snapshot")
        want = "master/mem_revocable_total" if float(args.task_cpus) == 0 else \
            "master/cpus_revocable_total"
        if m and m.get(want, 0) > 0:
            break
        time.sleep(0.5)
    else:
        print("no revocable cpus within 60 s (is the machine busy?)", file=sys.stderr)

    stop = threading.Event()
    launched = [0]
    execs = []
    resources = ("mem:16" if float(args.task_cpus) == 0
                 else f"cpus:{args.task_cpus};mem:16")

    def slot(i):
        n = 0
        while not stop.is_set():
            n += 1
            p = subprocess.Popen([
                args.meso, "execute", "--master", f"127.0.0.1:{mport}", "--revocable",
                "--checkpoint=false", "--name", f"batch-{i}-{n}",
                "--command", "while true; do :; done",
                "--resources", resources,
            ], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            execs.append(p)
            launched[0] += 1
            while p.poll() is None and not stop.is_set():
                time.sleep(0.2)
            if stop.is_set():
                p.send_signal(signal.SIGINT)

    threads = [threading.Thread(target=slot, args=(i,), daemon=True) for i in range(args.slots)]
    for t in threads:
        t.start()
    time.sleep(5)

    paused = threading.Event()

    def pauser():
        # Stops the revocable tasks while `paused` is set (new ones too), resumes after.
        while not stop.is_set():
            if paused.is_set():
                signal_all(revocable_pids(root), signal.SIGSTOP)
            time.sleep(0.1)

    threading.Thread(target=pauser, daemon=True).start()
    work_alone = work_h = 0
    cpu_alone = cpu_h = 0.0
    revocable_cpu = machine_idle = harvested_secs = 0.0
    halves = []  # wall-clock (start, end) of each harvested half
    pieces = max(1, round(args.duration / args.window))
    length = args.duration / pieces
    for k in range(pieces):
        for harvested in ((False, True) if k % 2 == 0 else (True, False)):
            if harvested:
                paused.clear()
                signal_all(revocable_pids(root), signal.SIGCONT)
                r0, i0, t0 = cgroup_cpu_secs(root), machine_idle_secs(), time.monotonic()
                wall0 = time.time()
                w, c = business(k * length, length, args.duration, cores)
                halves.append((wall0, time.time()))
                revocable_cpu += cgroup_cpu_secs(root) - r0
                machine_idle += machine_idle_secs() - i0
                harvested_secs += time.monotonic() - t0
                work_h, cpu_h = work_h + w, cpu_h + c
            else:
                paused.set()
                signal_all(revocable_pids(root), signal.SIGSTOP)
                w, c = business(k * length, length, args.duration, cores)
                work_alone, cpu_alone = work_alone + w, cpu_alone + c
    paused.clear()
    signal_all(revocable_pids(root), signal.SIGCONT)
    stop.set()
    for t in threads:
        t.join(timeout=40)
    metrics = get_json(mport, "/metrics/snapshot", 30) or {}
    agent_metrics = get_json(aport, "/metrics/snapshot", 30) or {}
    for p in execs:
        if p.poll() is None:
            p.kill()
    for p in reversed(procs):
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(timeout=20)
        except subprocess.TimeoutExpired:
            p.kill()
    for h in os.listdir("/sys/fs/cgroup"):
        for name in (root, root + "_revocable"):
            try:
                os.rmdir(os.path.join("/sys/fs/cgroup", h, name))
            except OSError:
                pass

    idle = cores * harvested_secs - cpu_h
    left = revocable_cpu + machine_idle
    ev = evictions(alog_path)
    done = [e for e in ev.values() if e[2] is not None]
    lat_all = [(g - s) * 1000 for s, _, g in done]
    inside = [e for e in done if any(a <= e[0] and e[2] <= b for a, b in halves)]
    lat = [(g - s) * 1000 for s, _, g in inside]
    decide = [(d - s) * 1000 for s, d, _ in inside]
    kill = [(g - d) * 1000 for _, d, g in inside]
    print(f"harvested_idle_cpu_fraction: {revocable_cpu / left if left > 0 else float('nan'):.3f}")
    print(f"harvested_business_idle_cpu_fraction: "
          f"{revocable_cpu / idle if idle > 0 else float('nan'):.3f}")
    print(f"business_slowdown_pct: {100.0 * (work_alone - work_h) / work_alone:.2f} %")
    print(f"eviction_latency_ms_p99: {percentile(lat, 0.99):.0f} ms")
    print(f"eviction_latency_ms_p50: {percentile(lat, 0.5):.0f} ms")
    print(f"eviction_latency_ms_max: {max(lat) if lat else float('nan'):.0f} ms")
    print(f"eviction_latency_ms_p99_all: {percentile(lat_all, 0.99):.0f} ms "
          f"(max {max(lat_all) if lat_all else float('nan'):.0f} ms)")
    print(f"eviction_decision_ms_p50_p99: {percentile(decide, 0.5):.0f} "
          f"{percentile(decide, 0.99):.0f} ms")
    print(f"eviction_kill_ms_p50_p99: {percentile(kill, 0.5):.0f} {percentile(kill, 0.99):.0f} ms")
    print(f"evictions: {len(ev)}")
    print(f"evictions_gone: {len(done)}")
    print(f"evictions_inside_harvested_halves: {len(inside)}")
    print(f"agent_eviction_latency_timer: "
          f"count {agent_metrics.get('slave/qos_eviction_latency_ms/count')} "
          f"p99 {agent_metrics.get('slave/qos_eviction_latency_ms/p99_ms')} ms")
    print(f"revocable_tasks_launched: {launched[0]}")
    print(f"revocable_cpu_secs: {revocable_cpu:.1f} s")
    print(f"machine_idle_cpu_secs_harvested: {machine_idle:.1f} s")
    print(f"business_idle_left_cpu_secs: {idle:.1f} s")
    print(f"business_cpu_secs_alone: {cpu_alone:.1f} s")
    print(f"business_cpu_secs_harvested: {cpu_h:.1f} s")
    print(f"business_work_alone: {work_alone}")
    print(f"business_work_harvested: {work_h}")
    print(f"master_evicted_metric: "
          f"{metrics.get('master/task_killed/source_slave/reason_container_preempted')}")
    print(f"# logs in {work_dir}", file=sys.stderr)


if __name__ == "__main__":
    main()
