#!/usr/bin/env python3
"""A tiny fake Mesos master + agent for the self-test of scheduler.py and executor.py.

Not a model of Mesos: just enough of the v1 scheduler and executor APIs, spoken over
real sockets, to prove the clients right before meso's master and agent exist. It is
strict where the clients could go wrong (Content-Type, Mesos-Stream-Id, uuids, sources,
acknowledgements, resources within the offer) and records every violation, and it splits
its event stream at random byte offsets across HTTP chunks so that the clients'
incremental RecordIO parsing is exercised. Started by selftest.py only.

  fake_master.py [--port 0] [--task-state TASK_FINISHED] [--no-offers] [--seed N]
                 [--stray-newline] [--error-event] [--forget-stream-id]
                 [--redirect-to HOST:PORT] [--unavailable N] [--checkpoint] [--restart-agent]

Prints "listening HOST:PORT" on stdout, then serves until killed. GET /fake/report
answers what it saw (pending acknowledgements, violations, executor exit codes).
"""

import argparse
import base64
import json
import os
import random
import subprocess
import sys
import tempfile
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rawhttp  # noqa: E402

MASTER_ID = "fake-master"
AGENT_ID = MASTER_ID + "-S0"
SCHEDULER_PATHS = {"/api/v1/scheduler", "/master/api/v1/scheduler"}
EXECUTOR_PATHS = {"/api/v1/executor", "/slave(1)/api/v1/executor"}


class Outbox:
    """Records waiting to be written to one event stream."""

    def __init__(self, stray_newline=False):
        self.cond = threading.Condition()
        self.records = []
        self.closed = False
        self.stray_newline = stray_newline

    def push(self, event):
        data = json.dumps(event, separators=(",", ":")).encode()
        # --stray-newline: the framing bug some servers have (and clients stall on).
        tail = b"\n" if self.stray_newline else b""
        with self.cond:
            self.records.append(rawhttp.encode_record(data) + tail)
            self.cond.notify_all()

    def close(self):
        with self.cond:
            self.closed = True
            self.cond.notify_all()

    def take(self):
        """Blocks for records; returns (bytes, closed)."""
        with self.cond:
            while not self.records and not self.closed:
                self.cond.wait(1.0)
            data = b"".join(self.records)
            self.records = []
            return data, self.closed


class Cluster:
    def __init__(self, opts, endpoint):
        self.opts = opts
        self.endpoint = endpoint
        self.lock = threading.Lock()
        self.rng = random.Random(opts.seed)
        self.frameworks = {}  # id -> dict(info, stream_id, outbox, offers)
        self.executors = {}  # (framework id, executor id) -> dict
        self.pending_acks = {}  # uuid b64 -> (framework id, task id)
        self.problems = []
        self.launched = 0
        self.sandbox = tempfile.mkdtemp(prefix="fake-agent-")
        self.unavailable_left = opts.unavailable
        self.seen_uuids = set()  # executor updates already forwarded (the agent dedups)
        self.carried_updates = 0  # unacknowledged updates carried by executor re-SUBSCRIBEs

    def problem(self, text):
        with self.lock:
            self.problems.append(text)
        print("fake: VIOLATION: " + text, file=sys.stderr, flush=True)

    def report(self):
        with self.lock:
            return {
                "problems": list(self.problems),
                "pending_acks": sorted(self.pending_acks),
                "tasks_launched": self.launched,
                "frameworks": len(self.frameworks),
                "executor_subscriptions": {eid: e["subscriptions"] for (_, eid), e in self.executors.items()},
                "carried_updates": self.carried_updates,
                "executors": {
                    eid: e["process"].poll() if e["process"] else None
                    for (_, eid), e in self.executors.items()
                },
            }

    def offers(self, framework_id):
        half_cpus, half_mem = self.opts.cpus / 2, self.opts.mem / 2
        offers = []
        for n in range(2):
            offer_id = "%s-O%d" % (MASTER_ID, self.rng.randrange(1 << 30))
            offers.append({
                "id": {"value": offer_id},
                "framework_id": {"value": framework_id},
                "agent_id": {"value": AGENT_ID},
                "hostname": "localhost",
                "allocation_info": {"role": "*"},
                "resources": [
                    {"name": "cpus", "type": "SCALAR", "scalar": {"value": half_cpus}, "allocation_info": {"role": "*"}},
                    {"name": "mem", "type": "SCALAR", "scalar": {"value": half_mem}, "allocation_info": {"role": "*"}},
                ],
            })
        return offers

    def status_update(self, framework, status):
        """Sends an UPDATE with a uuid to the scheduler and expects its ACKNOWLEDGE."""
        status = dict(status)
        status.setdefault("uuid", base64.b64encode(uuid.uuid4().bytes).decode())
        status["agent_id"] = {"value": AGENT_ID}
        with self.lock:
            self.pending_acks[status["uuid"]] = (framework["id"], status["task_id"]["value"])
        framework["outbox"].push({"type": "UPDATE", "update": {"status": status}})

    def start_executor(self, framework, info):
        eid = info["executor_id"]["value"]
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "MESOS_AGENT_ENDPOINT": self.endpoint,
            "MESOS_FRAMEWORK_ID": framework["id"],
            "MESOS_EXECUTOR_ID": eid,
            "MESOS_DIRECTORY": self.sandbox,
            "MESOS_SANDBOX": self.sandbox,
            "MESOS_CHECKPOINT": "1" if self.opts.checkpoint else "0",
            "MESOS_RECOVERY_TIMEOUT": "30secs",
            "MESOS_SUBSCRIPTION_BACKOFF_MAX": "1secs",
            "MESOS_SLAVE_ID": AGENT_ID,
        }
        for name in ("HTTP_EXECUTOR_TASK_SECONDS", "HTTP_EXECUTOR_FINAL_STATE", "HTTP_EXECUTOR_TIMEOUT", "PYTHONPATH"):
            if name in os.environ:
                env[name] = os.environ[name]
        process = subprocess.Popen(["/bin/sh", "-c", info["command"]["value"]], env=env,
                                   cwd=self.sandbox, start_new_session=True)
        return process


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    cluster = None  # set in main

    def log_message(self, *args):
        pass

    def answer(self, status, body=b"", content_type="text/plain"):
        if isinstance(body, str):
            body = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        if self.path == "/fake/report":
            self.answer(200, json.dumps(self.cluster.report()), "application/json")
        elif self.path.rstrip("/") in SCHEDULER_PATHS | EXECUTOR_PATHS:
            self.send_response(405)
            self.send_header("Allow", "POST")
            self.send_header("Content-Length", "0")
            self.end_headers()
        else:
            self.answer(404, "no such path")

    def do_POST(self):
        path = self.path.rstrip("/")
        length = int(self.headers.get("Content-Length", "0"))
        raw = self.rfile.read(length)
        ctype = self.headers.get("Content-Type")
        if ctype is None:
            self.cluster.problem("%s without Content-Type" % path)
            return self.answer(400, "Expecting 'Content-Type' to be present")
        if ctype != "application/json":
            self.cluster.problem("%s with Content-Type %r" % (path, ctype))
            return self.answer(415, "Expecting 'Content-Type' of application/json")
        try:
            call = json.loads(raw)
        except ValueError as e:
            self.cluster.problem("%s with a body that is not JSON: %s" % (path, e))
            return self.answer(400, "Failed to parse body into JSON: %s" % e)
        if path in SCHEDULER_PATHS:
            return self.scheduler_call(call)
        if path in EXECUTOR_PATHS:
            return self.executor_call(call)
        self.answer(404, "no such path")

    def stream(self, outbox, headers):
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        rng = random.Random(self.cluster.rng.random())
        try:
            while True:
                data, closed = outbox.take()
                # Re-chunk at random offsets: records split across chunks, several per chunk.
                while data:
                    cut = rng.randint(1, len(data))
                    piece, data = data[:cut], data[cut:]
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
                    self.wfile.flush()
                if closed:
                    self.wfile.write(b"0\r\n\r\n")
                    self.wfile.flush()
                    break
        except OSError:
            pass
        finally:
            self.close_connection = True

    # --- scheduler API ---------------------------------------------------------------

    def scheduler_call(self, call):
        c = self.cluster
        kind = call.get("type")
        if kind == "SUBSCRIBE" and c.opts.redirect_to:
            self.send_response(307)
            self.send_header("Location", "//%s/master/api/v1/scheduler" % c.opts.redirect_to)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return None
        if kind == "SUBSCRIBE" and c.unavailable_left > 0:
            with c.lock:
                c.unavailable_left -= 1
            return self.answer(503, "No leader elected")
        if kind == "SUBSCRIBE":
            if "Mesos-Stream-Id" in self.headers:
                c.problem("SUBSCRIBE carried Mesos-Stream-Id")
                return self.answer(400, "Subscribe calls should not include the 'Mesos-Stream-Id' header")
            info = call.get("subscribe", {}).get("framework_info", {})
            if not info.get("user") or not info.get("name"):
                c.problem("SUBSCRIBE without framework_info.user/name")
                return self.answer(400, "Failed to validate scheduler::Call: framework_info needs user and name")
            with c.lock:
                fid = "%s-%04d" % (MASTER_ID, len(c.frameworks))
                framework = {"id": fid, "info": dict(info, id={"value": fid}),
                             "stream_id": str(uuid.uuid4()), "offers": set(),
                             "outbox": Outbox(stray_newline=c.opts.stray_newline)}
                c.frameworks[fid] = framework
            framework["outbox"].push({"type": "SUBSCRIBED", "subscribed": {
                "framework_id": {"value": fid}, "heartbeat_interval_seconds": 15.0}})
            framework["outbox"].push({"type": "HEARTBEAT"})
            if c.opts.error_event:
                framework["outbox"].push({"type": "ERROR", "error": {"message": "fake master says no"}})
                framework["outbox"].close()
            elif not c.opts.no_offers:
                offers = c.offers(fid)
                framework["offers"] = {o["id"]["value"] for o in offers}
                framework["offered"] = {o["id"]["value"]: o for o in offers}
                framework["outbox"].push({"type": "OFFERS", "offers": {"offers": offers}})
            headers = {} if c.opts.forget_stream_id else {"Mesos-Stream-Id": framework["stream_id"]}
            return self.stream(framework["outbox"], headers)
        fid = call.get("framework_id", {}).get("value")
        framework = c.frameworks.get(fid)
        if framework is None:
            c.problem("%s for unknown framework %r" % (kind, fid))
            return self.answer(400, "Framework cannot be found")
        sent = self.headers.get("Mesos-Stream-Id")
        if sent is None:
            c.problem("%s without Mesos-Stream-Id" % kind)
            return self.answer(400, "All non-subscribe calls should include the 'Mesos-Stream-Id' header")
        if sent != framework["stream_id"]:
            c.problem("%s with a wrong Mesos-Stream-Id" % kind)
            return self.answer(400, "The stream ID '%s' included in this request didn't match" % sent)
        if kind == "ACCEPT":
            self.accept(framework, call.get("accept", {}))
        elif kind == "DECLINE":
            for offer_id in call.get("decline", {}).get("offer_ids", []):
                if offer_id["value"] not in framework["offers"]:
                    c.problem("DECLINE of unknown offer %s" % offer_id["value"])
                framework["offers"].discard(offer_id["value"])
        elif kind == "ACKNOWLEDGE":
            ack = call.get("acknowledge", {})
            uuid_b64 = ack.get("uuid", "")
            with c.lock:
                expected = c.pending_acks.pop(uuid_b64, None)
            if expected is None:
                c.problem("ACKNOWLEDGE of unknown uuid %r" % uuid_b64)
            elif expected[1] != ack.get("task_id", {}).get("value") or ack.get("agent_id", {}).get("value") != AGENT_ID:
                c.problem("ACKNOWLEDGE with wrong task or agent id: %r" % ack)
        elif kind == "TEARDOWN":
            framework["outbox"].close()
            for (owner, _), executor in list(c.executors.items()):
                if owner == fid:
                    executor["outbox"].push({"type": "SHUTDOWN"})
                    executor["outbox"].close()
        self.answer(202)

    def accept(self, framework, accept):
        c = self.cluster
        for offer_id in accept.get("offer_ids", []):
            if offer_id["value"] not in framework["offers"]:
                c.problem("ACCEPT of unknown offer %s" % offer_id["value"])
                return
        offered = {"cpus": 0.0, "mem": 0.0}
        for offer_id in accept.get("offer_ids", []):
            framework["offers"].discard(offer_id["value"])
            for r in framework["offered"][offer_id["value"]]["resources"]:
                offered[r["name"]] += r["scalar"]["value"]
        used = {"cpus": 0.0, "mem": 0.0}
        for operation in accept.get("operations", []):
            if operation.get("type") != "LAUNCH":
                c.problem("unexpected operation %s" % operation.get("type"))
                continue
            for task in operation.get("launch", {}).get("task_infos", []):
                for field in ("name", "task_id", "agent_id"):
                    if field not in task:
                        c.problem("TaskInfo without %s" % field)
                if task.get("agent_id", {}).get("value") != AGENT_ID:
                    c.problem("TaskInfo for agent %r" % task.get("agent_id"))
                for r in task.get("resources", []) + task.get("executor", {}).get("resources", []):
                    if r.get("name") in used:
                        used[r["name"]] += r.get("scalar", {}).get("value", 0.0)
                with c.lock:
                    c.launched += 1
                if "executor" in task:
                    self.launch_with_executor(framework, task)
                elif "command" in task:
                    self.launch_command(framework, task)
                else:
                    c.problem("TaskInfo with neither command nor executor")
        for name in used:
            if used[name] > offered[name] + 1e-6:
                c.problem("ACCEPT uses %s %.3f of %.3f offered" % (name, used[name], offered[name]))

    def launch_command(self, framework, task):
        base = {"task_id": task["task_id"], "source": "SOURCE_EXECUTOR",
                "executor_id": {"value": task["task_id"]["value"]}}
        self.cluster.status_update(framework, dict(base, state="TASK_RUNNING"))
        self.cluster.status_update(framework, dict(base, state=self.cluster.opts.task_state))

    def launch_with_executor(self, framework, task):
        c = self.cluster
        info = task["executor"]
        key = (framework["id"], info["executor_id"]["value"])
        with c.lock:
            executor = c.executors.get(key)
            if executor is None:
                executor = {"info": info, "outbox": Outbox(), "queued": [], "subscribed": False,
                            "process": None, "subscriptions": 0}
                c.executors[key] = executor
                start = True
            else:
                start = False
            if executor["subscribed"]:
                executor["outbox"].push({"type": "LAUNCH", "launch": {"task": task}})
            else:
                executor["queued"].append(task)
        if start:
            executor["process"] = c.start_executor(framework, info)

    # --- executor API ----------------------------------------------------------------

    def executor_call(self, call):
        c = self.cluster
        kind = call.get("type")
        fid = call.get("framework_id", {}).get("value")
        eid = call.get("executor_id", {}).get("value")
        if fid is None or eid is None:
            c.problem("executor %s without framework_id/executor_id" % kind)
            return self.answer(400, "Failed to validate Executor::Call: ids are required")
        if kind == "HEARTBEAT":
            return self.answer(202)
        framework = c.frameworks.get(fid)
        if framework is None:
            c.problem("executor %s for unknown framework %s" % (kind, fid))
            return self.answer(400, "Framework cannot be found")
        executor = c.executors.get((fid, eid))
        if executor is None:
            c.problem("executor %s for unknown executor %s" % (kind, eid))
            return self.answer(400, "Executor cannot be found")
        if kind == "SUBSCRIBE":
            carried = call.get("subscribe", {}).get("unacknowledged_updates", [])
            with c.lock:
                executor["subscribed"] = True
                executor["subscriptions"] += 1
                outbox = executor["outbox"] = Outbox()
                outbox.push({"type": "SUBSCRIBED", "subscribed": {
                    "executor_info": executor["info"], "framework_info": framework["info"],
                    "agent_info": {"hostname": "localhost", "id": {"value": AGENT_ID}, "port": 5051},
                    "container_id": {"value": str(uuid.uuid4())}}})
                for task in executor["queued"]:
                    outbox.push({"type": "LAUNCH", "launch": {"task": task}})
                executor["queued"] = []
                if executor["subscriptions"] == 1 and c.opts.restart_agent:
                    # An agent restart right after the launch: the stream ends, acks are lost.
                    outbox.close()
                c.carried_updates += len(carried)
            for update in carried:
                status = update.get("status", {})
                if status.get("uuid") is None or "task_id" not in status:
                    c.problem("re-SUBSCRIBE carried a malformed update: %r" % update)
                    continue
                self.forward_executor_update(framework, executor, status)
            return self.stream(outbox, {})
        if not executor["subscribed"]:
            return self.answer(403, "Executor is not subscribed")
        if kind == "UPDATE":
            status = call.get("update", {}).get("status", {})
            try:
                raw_uuid = base64.b64decode(status.get("uuid", ""), validate=True)
            except ValueError:
                raw_uuid = b""
            why = None
            if len(raw_uuid) != 16:
                why = "uuid must be 16 bytes"
            elif status.get("source") != "SOURCE_EXECUTOR":
                why = "source must be SOURCE_EXECUTOR"
            elif status.get("state") in (None, "TASK_STAGING"):
                why = "bad state %r" % status.get("state")
            elif status.get("executor_id", {"value": eid}).get("value") != eid:
                why = "status.executor_id differs"
            elif "task_id" not in status:
                why = "task_id missing"
            if why:
                c.problem("executor UPDATE: " + why)
                return self.answer(400, "Failed to validate Executor::Call: " + why)
            self.answer(202)
            self.forward_executor_update(framework, executor, status)
            return None
        self.answer(202)

    def forward_executor_update(self, framework, executor, status):
        """Acknowledges an executor's update and forwards it once (by uuid) to the scheduler."""
        c = self.cluster
        executor["outbox"].push({"type": "ACKNOWLEDGED", "acknowledged": {
            "task_id": status["task_id"], "uuid": status["uuid"]}})
        with c.lock:
            fresh = status["uuid"] not in c.seen_uuids
            c.seen_uuids.add(status["uuid"])
        if fresh:
            c.status_update(framework, status)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--task-state", default="TASK_FINISHED", help="final state of command tasks")
    p.add_argument("--no-offers", action="store_true")
    p.add_argument("--cpus", type=float, default=4.0)
    p.add_argument("--mem", type=float, default=4096.0)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--stray-newline", action="store_true", help="break RecordIO: a newline after each record")
    p.add_argument("--error-event", action="store_true", help="send ERROR after SUBSCRIBED and close")
    p.add_argument("--checkpoint", action="store_true", help="tell executors MESOS_CHECKPOINT=1")
    p.add_argument("--restart-agent", action="store_true",
                   help="end each executor's first stream right after its LAUNCHes")
    p.add_argument("--redirect-to", help="answer SUBSCRIBE with 307 to this HOST:PORT")
    p.add_argument("--unavailable", type=int, default=0, help="answer the first N SUBSCRIBEs with 503")
    p.add_argument("--forget-stream-id", action="store_true", help="answer SUBSCRIBE without Mesos-Stream-Id")
    opts = p.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", opts.port), Handler)
    server.daemon_threads = True
    endpoint = "127.0.0.1:%d" % server.server_address[1]
    Handler.cluster = Cluster(opts, endpoint)
    print("listening " + endpoint, flush=True)
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
