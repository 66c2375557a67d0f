#!/usr/bin/env python3
"""Self-test of the raw-HTTP Mesos clients against fake_master.py (standard library only).

Proves scheduler.py and executor.py right before meso's master and agent exist:
1. the decoders: chunked and RecordIO split at every offset, and bad RecordIO refused;
2. command tasks: SUBSCRIBE, OFFERS (two, one declined or both used), ACCEPT(LAUNCH),
   UPDATEs acknowledged, TEARDOWN; exit 0 and the fake saw no violation;
3. a custom executor: the fake starts executor.py, which SUBSCRIBEs, gets LAUNCH, sends
   TASK_RUNNING and TASK_FINISHED, gets SHUTDOWN at teardown and exits 0;
3b. an agent restart under a checkpointing framework: the executor re-SUBSCRIBEs with its
   unacknowledged updates and the scheduler still sees each update once;
4. tasks ending TASK_FAILED: the scheduler exits 1;
5. no offers: the scheduler's hard timeout ends it with exit 2;
6. broken masters (a newline between records, an ERROR event, no Mesos-Stream-Id): the
   scheduler exits 1 saying so;
7. a follower that answers 307 and a leader that answers 503 twice: the scheduler follows
   and retries.

Run by scripts/run-examples.sh (CI). Exit 0 if every check passed.
"""

import json
import os
import subprocess
import sys
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import rawhttp  # noqa: E402

PY = sys.executable or "python3"
FAILURES = []


def check(condition, text, detail=""):
    """Records one check; `detail` (e.g. a client's stderr) is shown only on failure."""
    print(("ok    " if condition else "FAIL  ") + text, flush=True)
    if not condition:
        if detail:
            print("      " + detail.strip().replace("\n", "\n      ")[-2000:], flush=True)
        FAILURES.append(text)


class Fake:
    def __init__(self, *args, env=None):
        self.proc = subprocess.Popen([PY, os.path.join(HERE, "fake_master.py"), *args],
                                     stdout=subprocess.PIPE, text=True, env=env)
        line = self.proc.stdout.readline().strip()
        if not line.startswith("listening "):
            self.stop()
            raise RuntimeError("fake master did not start: %r" % line)
        self.endpoint = line.split(" ", 1)[1]

    def report(self):
        with urllib.request.urlopen("http://%s/fake/report" % self.endpoint, timeout=10) as r:
            return json.loads(r.read())

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def scheduler(endpoint, *args, timeout=60):
    cmd = [PY, os.path.join(HERE, "scheduler.py"), "--master", endpoint, "--timeout", str(timeout), *args]
    # The hang guard is generous: the scheduler's own --timeout should end it first.
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout + 60)


def decoders():
    records = [b'{"type":"SUBSCRIBED"}', b"x" * 300, b'{"type":"HEARTBEAT"}']
    stream = b"".join(rawhttp.encode_record(r) for r in records)
    ok = True
    for cut in range(len(stream) + 1):
        d = rawhttp.RecordIODecoder()
        got = d.feed(stream[:cut]) + d.feed(stream[cut:])
        ok = ok and got == records and d.idle()
    check(ok, "RecordIO decoder: records split at every offset")
    chunked = b"5;ext=1\r\nhello\r\n1\r\n \r\n5\r\nworld\r\n0\r\nTrailer: x\r\n\r\n"
    ok = True
    for cut in range(len(chunked) + 1):
        d = rawhttp.ChunkedDecoder()
        got = d.feed(chunked[:cut]) + d.feed(chunked[cut:])
        ok = ok and got == b"hello world" and d.done
    check(ok, "chunked decoder: split at every offset, with extensions and trailers")
    for bad, why in [(b"x", "non-digit"), (b"0\n", "zero length"), (b"3\nabc\n3\nabc", "newline between records"),
                     (b"99999999999999999999999\n", "too many digits"), (b"20000000\n", "over the record limit")]:
        try:
            rawhttp.RecordIODecoder(max_record_bytes=1 << 20).feed(bad)
            check(False, "RecordIO decoder refuses %s" % why)
        except rawhttp.ProtocolError:
            check(True, "RecordIO decoder refuses %s" % why)


def command_tasks():
    fake = Fake()
    try:
        r = scheduler(fake.endpoint, "--tasks", "3", "--command", "true", "-v")
        check(r.returncode == 0, "command tasks: scheduler exits 0 (got %d)" % r.returncode, r.stderr)
        rep = fake.report()
        check(rep["tasks_launched"] == 3, "command tasks: 3 launched (got %d)" % rep["tasks_launched"])
        check(not rep["problems"], "command tasks: no protocol violation (%s)" % rep["problems"])
        check(not rep["pending_acks"], "command tasks: every update acknowledged (%s)" % rep["pending_acks"])
    finally:
        fake.stop()


def custom_executor():
    env = dict(os.environ, HTTP_EXECUTOR_TASK_SECONDS="0.2", HTTP_EXECUTOR_TIMEOUT="60")
    fake = Fake(env=env)
    try:
        executor = "%s %s" % (PY, os.path.join(HERE, "executor.py"))
        r = scheduler(fake.endpoint, "--tasks", "2", "--executor-command", executor, "-v")
        check(r.returncode == 0, "custom executor: scheduler exits 0 (got %d)" % r.returncode, r.stderr)
        deadline = time.monotonic() + 30
        rep = fake.report()
        while None in rep["executors"].values() and time.monotonic() < deadline:
            time.sleep(0.2)
            rep = fake.report()
        check(list(rep["executors"].values()) == [0], "custom executor: executor exits 0 after SHUTDOWN (%s)" % rep["executors"])
        check(not rep["problems"], "custom executor: no protocol violation (%s)" % rep["problems"])
        check(not rep["pending_acks"], "custom executor: every update acknowledged (%s)" % rep["pending_acks"])
    finally:
        fake.stop()


def executor_reconnects():
    env = dict(os.environ, HTTP_EXECUTOR_TASK_SECONDS="0.5", HTTP_EXECUTOR_TIMEOUT="60")
    fake = Fake("--checkpoint", "--restart-agent", env=env)
    try:
        executor = "%s %s" % (PY, os.path.join(HERE, "executor.py"))
        r = scheduler(fake.endpoint, "--tasks", "2", "--executor-command", executor, "-v")
        check(r.returncode == 0, "agent restart: scheduler exits 0 (got %d)" % r.returncode, r.stderr)
        deadline = time.monotonic() + 30
        rep = fake.report()
        while None in rep["executors"].values() and time.monotonic() < deadline:
            time.sleep(0.2)
            rep = fake.report()
        check(rep["executor_subscriptions"] == {"raw-http-executor": 2} and rep["carried_updates"] >= 1,
              "agent restart: the checkpointing executor re-subscribed carrying its unacknowledged updates (%s)" % rep)
        check(list(rep["executors"].values()) == [0] and not rep["problems"] and not rep["pending_acks"],
              "agent restart: executor exits 0, no violation, every update acknowledged once (%s)" % rep)
    finally:
        fake.stop()


def failing_tasks():
    fake = Fake("--task-state", "TASK_FAILED")
    try:
        r = scheduler(fake.endpoint, "--tasks", "2")
        check(r.returncode == 1 and "TASK_FAILED" in r.stderr,
              "failed tasks: scheduler exits 1 naming TASK_FAILED (got %d)" % r.returncode, r.stderr)
    finally:
        fake.stop()


def no_offers():
    fake = Fake("--no-offers")
    try:
        r = scheduler(fake.endpoint, "--tasks", "1", timeout=3)
        check(r.returncode == 2 and "timed out" in r.stderr,
              "no offers: scheduler's hard timeout exits 2 (got %d)" % r.returncode, r.stderr)
    finally:
        fake.stop()


def broken_masters():
    for flag, needle, what in [
        ("--stray-newline", "RecordIO", "a newline between records"),
        ("--error-event", "master sent ERROR", "an ERROR event"),
        ("--forget-stream-id", "Mesos-Stream-Id", "a SUBSCRIBE answer without Mesos-Stream-Id"),
    ]:
        fake = Fake(flag)
        try:
            r = scheduler(fake.endpoint, "--tasks", "1", timeout=20)
            check(r.returncode == 1 and needle in r.stderr,
                  "broken master (%s): scheduler exits 1 (got %d)" % (what, r.returncode), r.stderr)
        finally:
            fake.stop()


def leader_changes():
    leader = Fake("--unavailable", "2")
    follower = Fake("--redirect-to", leader.endpoint)
    try:
        r = scheduler(follower.endpoint, "--tasks", "2", "-v", timeout=30)
        check(r.returncode == 0 and "redirected" in r.stderr and "503" in r.stderr,
              "307 to the leader, then 503 twice: scheduler follows, retries and exits 0 (got %d)" % r.returncode,
              r.stderr)
        rep = leader.report()
        check(rep["tasks_launched"] == 2 and not rep["problems"] and not rep["pending_acks"],
              "307 to the leader: the leader ran the tasks cleanly (%s)" % rep)
    finally:
        follower.stop()
        leader.stop()


def main():
    decoders()
    command_tasks()
    custom_executor()
    executor_reconnects()
    failing_tasks()
    no_offers()
    broken_masters()
    leader_changes()
    if FAILURES:
        print("selftest: %d check(s) failed" % len(FAILURES), file=sys.stderr)
        return 1
    print("selftest: all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
