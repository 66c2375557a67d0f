#!/usr/bin/env python3
"""A Mesos v1 HTTP scheduler in plain Python (standard library only, no meso code).

SUBSCRIBEs to the master's /api/v1/scheduler, reads the RecordIO event stream, remembers
the Mesos-Stream-Id, answers OFFERS with ACCEPT(LAUNCH) until --tasks tasks are launched
(command tasks, or tasks of a custom executor given by --executor-command), declines what
it does not use, ACKNOWLEDGEs every UPDATE that carries a uuid, and exits when every task
reached a terminal state. --capability adds framework capabilities (PARTITION_AWARE),
--checkpoint sets checkpoint; with --expect-sequence S1,S2,... each task must go through
those states in order (repeats collapse, terminal ones included; TASK_STAGING and
TASK_STARTING are skipped) and is then KILLed. With --message-hex HEX (custom executor only), when a task is
TASK_RUNNING it sends those bytes to the task's executor in a MESSAGE call, waits for a
MESSAGE event from the executor (one run with executor.py --echo-messages sends them back),
fails unless the bytes are exactly those sent, prints `scheduler: message echoed: HEX` and
KILLs the task. With --task-group, all --tasks tasks go in one ACCEPT as one LAUNCH_GROUP
under the custom executor (ExecutorInfo type --group-executor-type, CUSTOM by default; DEFAULT
runs it on the agent's default executor, with no command and no --executor-command; NONE
leaves the type out, which the master must refuse with TASK_ERROR for every task). It follows a 307 to the leading master (Location
`//host:port/master/api/v1/scheduler`) and retries SUBSCRIBE on 503 until its timeout.

Exit codes:

  exit 0  every task ended in a --want state
  exit 1  a task ended otherwise, the master sent ERROR, refused a call, or closed the stream
  exit 2  --timeout passed first
  exit 3  bad usage or the master could not be reached

Example:
  scheduler.py --master 127.0.0.1:5050 --tasks 3 --command 'echo hi'
  scheduler.py --master 127.0.0.1:5050 --tasks 2 \\
      --executor-command 'python3 tests/http_clients/executor.py'
"""

import argparse
import base64
import json
import os
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rawhttp  # noqa: E402

TERMINAL = {
    "TASK_FINISHED", "TASK_FAILED", "TASK_KILLED", "TASK_ERROR", "TASK_LOST",
    "TASK_DROPPED", "TASK_GONE", "TASK_GONE_BY_OPERATOR",
}
PATH = "/api/v1/scheduler"


class Failure(Exception):
    """Ends the run with an exit code and a message."""

    def __init__(self, code, message):
        super().__init__(message)
        self.code = code


def log(args, text):
    if args.verbose:
        print("scheduler: " + text, file=sys.stderr, flush=True)


def scalar(resources, name):
    """The unreserved, non-revocable amount of a scalar in an offer (what the tasks ask for:
    they name no reservation, so only unreserved resources can satisfy them)."""
    return sum(
        r.get("scalar", {}).get("value", 0.0)
        for r in resources
        if r.get("name") == name
        and r.get("type", "SCALAR") == "SCALAR"
        and not r.get("reservations")
        and r.get("role", "*") == "*"
        and "revocable" not in r
        and "disk" not in r
    )


def resources(cpus, mem):
    return [
        {"name": "cpus", "type": "SCALAR", "scalar": {"value": cpus}},
        {"name": "mem", "type": "SCALAR", "scalar": {"value": mem}},
    ]


def auth_headers(args):
    """HTTP Basic credentials for a master started with --authenticate-http-frameworks."""
    if not args.principal:
        return {}
    secret = args.secret
    if secret is None and args.secret_file:
        with open(args.secret_file) as f:
            secret = f.read().rstrip("\n")
    if secret is None:
        secret = os.environ.get("MESO_SECRET", "")
    token = base64.b64encode(("%s:%s" % (args.principal, secret)).encode()).decode()
    return {"Authorization": "Basic " + token}


class Scheduler:
    def __init__(self, args):
        self.args = args
        self.framework_id = None
        self.stream_id = None
        self.master = args.master
        self.path = PATH
        self.calls = rawhttp.Connection(args.master, timeout=30.0)
        self.launched = 0
        self.final = {}  # task id -> terminal state
        self.agents_with_executor = set()
        self.acks = 0
        self.message = bytes.fromhex(args.message_hex) if args.message_hex else None
        self.message_sent = False
        self.echoed = False
        self.running = {}  # task id -> agent id, of tasks seen TASK_RUNNING
        # --expect-sequence: the states each task must go through before it is killed.
        self.sequence = args.expect_sequence.split(",") if args.expect_sequence else None
        self.seen = {}  # task id -> distinct states seen in a row
        self.killed = set()

    def call(self, kind, payload=None):
        body = {"type": kind, "framework_id": {"value": self.framework_id}}
        if payload is not None:
            body[kind.lower()] = payload
        headers = {
            "Content-Type": "application/json",
            "Accept": "application/json",
            "Mesos-Stream-Id": self.stream_id,
        }
        headers.update(auth_headers(self.args))
        status, _, text = self.calls.post(self.path, json.dumps(body).encode(), headers)
        if status != 202:
            raise Failure(1, "%s answered %d: %s" % (kind, status, text.decode("utf-8", "replace")))

    def executor_info(self):
        args = self.args
        executor = {
            "type": "CUSTOM",
            "executor_id": {"value": args.executor_id},
            "framework_id": {"value": self.framework_id},
            "name": "raw-http executor",
            "command": {"value": args.executor_command, "shell": True},
            "resources": resources(args.executor_cpus, args.executor_mem),
        }
        return executor

    def launch_group(self, offer):
        """ACCEPTs `offer` with one LAUNCH_GROUP of every task, if it holds them all."""
        args = self.args
        cpus = scalar(offer.get("resources", []), "cpus") - args.executor_cpus
        mem = scalar(offer.get("resources", []), "mem") - args.executor_mem
        if self.launched > 0 or cpus < args.tasks * args.cpus - 1e-9 or mem < args.tasks * args.mem - 1e-9:
            refuse = 1.0 if self.launched < args.tasks else 3600.0
            self.call("DECLINE", {"offer_ids": [offer["id"]], "filters": {"refuse_seconds": refuse}})
            return
        executor = self.executor_info()
        if args.group_executor_type == "NONE":
            del executor["type"]
        else:
            executor["type"] = args.group_executor_type
        if args.group_executor_type == "DEFAULT":
            del executor["command"]  # the agent's own executor runs the group
        tasks = []
        for index in range(args.tasks):
            task = self.task_info(index, offer["agent_id"])
            task.pop("executor", None)
            task["command"] = {"value": args.command, "shell": True}
            tasks.append(task)
        self.call("ACCEPT", {
            "offer_ids": [offer["id"]],
            "operations": [{"type": "LAUNCH_GROUP", "launch_group": {
                "executor": executor, "task_group": {"tasks": tasks}}}],
            "filters": {"refuse_seconds": 1.0},
        })
        self.launched = args.tasks
        log(args, "launched a group of %d task(s) on offer %s" % (args.tasks, offer["id"]["value"]))

    def task_info(self, index, agent_id):
        args = self.args
        task = {
            "name": "%s-task-%d" % (args.name, index),
            "task_id": {"value": "%s-task-%d" % (args.name, index)},
            "agent_id": agent_id,
            "resources": resources(args.cpus, args.mem),
        }
        if args.executor_command:
            task["executor"] = self.executor_info()
        else:
            task["command"] = {"value": args.command, "shell": True}
            if args.uri:
                task["command"]["uris"] = [
                    {"value": uri, "executable": args.uri_executable, "cache": args.uri_cache}
                    for uri in args.uri]
        if args.image:
            # Mesos's way to name a container image; meso reads a DOCKER name as a path.
            container = {"type": "MESOS",
                         "mesos": {"image": {"type": "DOCKER", "docker": {"name": args.image}}}}
            (task["executor"] if args.executor_command else task)["container"] = container
        return task

    def on_offers(self, offers):
        args = self.args
        for offer in offers:
            if args.task_group:
                self.launch_group(offer)
                continue
            agent = offer["agent_id"]["value"]
            cpus = scalar(offer.get("resources", []), "cpus")
            mem = scalar(offer.get("resources", []), "mem")
            if args.executor_command and agent not in self.agents_with_executor:
                cpus -= args.executor_cpus
                mem -= args.executor_mem
            tasks = []
            while self.launched + len(tasks) < args.tasks and cpus >= args.cpus - 1e-9 and mem >= args.mem - 1e-9:
                tasks.append(self.task_info(self.launched + len(tasks), offer["agent_id"]))
                cpus -= args.cpus
                mem -= args.mem
            if not tasks:
                refuse = 1.0 if self.launched < args.tasks else 3600.0
                self.call("DECLINE", {"offer_ids": [offer["id"]], "filters": {"refuse_seconds": refuse}})
                log(args, "declined offer %s" % offer["id"]["value"])
                continue
            self.call("ACCEPT", {
                "offer_ids": [offer["id"]],
                "operations": [{"type": "LAUNCH", "launch": {"task_infos": tasks}}],
                "filters": {"refuse_seconds": 1.0},
            })
            if args.executor_command:
                self.agents_with_executor.add(agent)
            self.launched += len(tasks)
            log(args, "launched %d task(s) on offer %s" % (len(tasks), offer["id"]["value"]))

    def on_update(self, status):
        task = status["task_id"]["value"]
        state = status["state"]
        log(self.args, "update %s %s%s%s" % (task, state,
                                           " (%s)" % status["message"] if "message" in status else "",
                                           " [%s]" % status["reason"] if "reason" in status else ""))
        if "uuid" in status:
            uuid = base64.b64decode(status["uuid"])
            if len(uuid) != 16:
                raise Failure(1, "update for %s has a %d-byte uuid" % (task, len(uuid)))
            if "agent_id" not in status:
                raise Failure(1, "update for %s has a uuid but no agent_id to acknowledge it with" % task)
            self.call("ACKNOWLEDGE", {
                "agent_id": status["agent_id"],
                "task_id": status["task_id"],
                "uuid": status["uuid"],
            })
            self.acks += 1
        if self.sequence is not None and task not in self.killed:
            if state in ("TASK_STAGING", "TASK_STARTING"):
                return
            seen = self.seen.setdefault(task, [])
            if not seen or seen[-1] != state:
                seen.append(state)
                print("scheduler: %s went through %s" % (task, ",".join(seen)), flush=True)
            if seen == self.sequence:
                self.killed.add(task)
                self.call("KILL", {"task_id": status["task_id"], "agent_id": status["agent_id"]})
            elif seen != self.sequence[:len(seen)]:
                raise Failure(1, "%s went through %s, expected %s" % (
                    task, ",".join(seen), ",".join(self.sequence)))
            return
        if state in TERMINAL:
            self.final[task] = state
        elif state == "TASK_RUNNING" and self.message is not None:
            self.running[task] = status["agent_id"]
            if not self.message_sent:
                self.message_sent = True
                self.call("MESSAGE", {
                    "agent_id": status["agent_id"],
                    "executor_id": {"value": self.args.executor_id},
                    "data": base64.b64encode(self.message).decode(),
                })
                log(self.args, "sent a message of %d bytes" % len(self.message))

    def on_message(self, message):
        data = base64.b64decode(message.get("data", ""))
        if self.message is None or not self.message_sent:
            raise Failure(1, "unexpected MESSAGE event: %r" % data)
        if data != self.message:
            raise Failure(1, "message came back as %s, sent %s" % (data.hex(), self.message.hex()))
        if message.get("executor_id", {}).get("value") != self.args.executor_id:
            raise Failure(1, "MESSAGE event from executor %r" % message.get("executor_id"))
        self.echoed = True
        print("scheduler: message echoed: %s" % data.hex(), flush=True)
        for task, agent in self.running.items():
            if task not in self.final:
                self.call("KILL", {"task_id": {"value": task}, "agent_id": agent})

    def subscribe(self, body, deadline):
        """Opens the event stream, following 307s to the leader and waiting out 503s."""
        args = self.args
        redirects = 0
        while True:
            try:
                stream = rawhttp.Stream(self.master, self.path, body, dict({
                    "Content-Type": "application/json", "Accept": "application/json",
                }, **auth_headers(args)), timeout=max(1.0, min(deadline - time.monotonic(), 30.0)))
            except OSError as e:
                raise Failure(3, "cannot reach %s: %s" % (self.master, e))
            if stream.status == 200:
                return stream
            text = stream.read_error_body()
            stream.close()
            if stream.status == 307 and "location" in stream.headers and redirects < 5:
                # Mesos answers `Location: //leader:port/master/api/v1/scheduler`.
                location = stream.headers["location"].split("://", 1)[-1].lstrip("/")
                endpoint, _, path = location.partition("/")
                log(args, "redirected from %s to %s" % (self.master, endpoint))
                self.master, self.path = endpoint, "/" + path
                self.calls.close()
                self.calls = rawhttp.Connection(self.master, timeout=30.0)
                redirects += 1
            elif stream.status == 503 and time.monotonic() + 1.0 < deadline:
                log(args, "SUBSCRIBE answered 503 (%s); retrying" % text)
                time.sleep(1.0)
            else:
                raise Failure(1, "SUBSCRIBE answered %d: %s" % (stream.status, text))

    def done(self):
        return self.launched >= self.args.tasks and len(self.final) >= self.args.tasks

    def run(self):
        args = self.args
        deadline = time.monotonic() + args.timeout
        info = {"user": args.user, "name": args.name, "failover_timeout": 0.0}
        capabilities = list(args.capability)
        if args.role:
            info["roles"] = [args.role]
            capabilities.append("MULTI_ROLE")
        if capabilities:
            info["capabilities"] = [{"type": c} for c in capabilities]
        if args.checkpoint:
            info["checkpoint"] = True
        body = json.dumps({"type": "SUBSCRIBE", "subscribe": {"framework_info": info}}).encode()
        stream = self.subscribe(body, deadline)
        try:
            if not stream.headers.get("content-type", "").startswith("application/json"):
                raise Failure(1, "SUBSCRIBE answered Content-Type %r" % stream.headers.get("content-type"))
            self.stream_id = stream.headers.get("mesos-stream-id")
            if not self.stream_id:
                raise Failure(1, "SUBSCRIBE answer has no Mesos-Stream-Id header")
            first = True
            while not self.done():
                try:
                    event = stream.next_event(deadline)
                except socket.timeout:
                    raise Failure(2, "timed out after %.0f s: %d/%d launched, %d terminal" % (
                        args.timeout, self.launched, args.tasks, len(self.final)))
                if event is None:
                    raise Failure(1, "the master closed the event stream")
                kind = event.get("type")
                if first and kind != "SUBSCRIBED":
                    raise Failure(1, "first event is %s, not SUBSCRIBED" % kind)
                first = False
                if kind == "SUBSCRIBED":
                    self.framework_id = event["subscribed"]["framework_id"]["value"]
                    log(args, "subscribed as %s (stream %s)" % (self.framework_id, self.stream_id))
                elif kind == "OFFERS":
                    self.on_offers(event.get("offers", {}).get("offers", []))
                elif kind == "UPDATE":
                    self.on_update(event["update"]["status"])
                elif kind == "MESSAGE":
                    self.on_message(event["message"])
                elif kind == "ERROR":
                    raise Failure(1, "master sent ERROR: %s" % event.get("error", {}).get("message"))
                elif kind == "HEARTBEAT":
                    log(args, "heartbeat")
                else:
                    log(args, "event %s" % kind)
            if args.teardown:
                self.call("TEARDOWN")
        except rawhttp.ProtocolError as e:
            raise Failure(1, "protocol error: %s" % e)
        finally:
            stream.close()
            self.calls.close()
        if self.message is not None and not self.echoed:
            raise Failure(1, "the tasks ended before the message came back")
        unwanted = {t: s for t, s in self.final.items() if s not in args.want}
        if unwanted:
            raise Failure(1, "tasks ended in unwanted states: %s" % json.dumps(unwanted, sort_keys=True))
        print("scheduler: %d task(s) reached %s; %d update(s) acknowledged" % (
            len(self.final), "/".join(sorted(args.want)), self.acks), flush=True)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--master", required=True, help="HOST:PORT of the master")
    p.add_argument("--tasks", type=int, default=1)
    p.add_argument("--command", default="true", help="shell command of each command task")
    p.add_argument("--executor-command", help="run tasks with this custom executor instead")
    p.add_argument("--uri", action="append", default=[],
                   help="a URI each command task fetches into its sandbox first (repeatable)")
    p.add_argument("--uri-executable", action="store_true", help="fetched files get chmod +x")
    p.add_argument("--uri-cache", action="store_true", help="fetch through the agent's cache")
    p.add_argument("--executor-id", default="raw-http-executor")
    p.add_argument("--image", help="container.mesos.image DOCKER name (for meso: a rootfs path)")
    p.add_argument("--executor-cpus", type=float, default=0.1)
    p.add_argument("--executor-mem", type=float, default=32.0)
    p.add_argument("--cpus", type=float, default=0.1)
    p.add_argument("--mem", type=float, default=32.0)
    p.add_argument("--name", default="raw-http")
    p.add_argument("--user", default=os.environ.get("USER", "root"))
    p.add_argument("--role", help="subscribe with this role (MULTI_ROLE)")
    p.add_argument("--want", default="TASK_FINISHED", help="comma-separated acceptable terminal states")
    p.add_argument("--timeout", type=float, default=60.0, help="hard timeout in seconds")
    p.add_argument("--no-teardown", dest="teardown", action="store_false")
    p.add_argument("--message-hex", help="send these bytes (hex) to the executor and expect them back")
    p.add_argument("--task-group", action="store_true",
                   help="launch every task in one LAUNCH_GROUP under --executor-command")
    p.add_argument("--group-executor-type", default="CUSTOM",
                   help="ExecutorInfo.type of the group's executor (NONE: leave it out)")
    p.add_argument("--capability", action="append", default=[],
                   help="declare this framework capability (e.g. PARTITION_AWARE); repeatable")
    p.add_argument("--checkpoint", action="store_true", help="subscribe with checkpoint: true")
    p.add_argument("--expect-sequence",
                   help="comma-separated states each task must go through, in order, before it is "
                        "KILLed (repeated states collapse; a terminal state in the sequence does not "
                        "end the task)")
    p.add_argument("--principal", default=os.environ.get("MESO_PRINCIPAL"),
                   help="authenticate with HTTP Basic as this principal (env MESO_PRINCIPAL)")
    p.add_argument("--secret", help="the principal's secret (or --secret-file, or env MESO_SECRET)")
    p.add_argument("--secret-file", help="a file holding the principal's secret")
    p.add_argument("--verbose", "-v", action="store_true")
    args = p.parse_args()
    if args.task_group and not args.executor_command and args.group_executor_type != "DEFAULT":
        print("scheduler: --task-group needs --executor-command", file=sys.stderr)
        return 3
    if args.message_hex is not None:
        try:
            bytes.fromhex(args.message_hex)
        except ValueError:
            print("scheduler: --message-hex %r is not hex" % args.message_hex, file=sys.stderr)
            return 3
        if not args.executor_command:
            print("scheduler: --message-hex needs --executor-command", file=sys.stderr)
            return 3
    args.want = set(s.strip() for s in args.want.split(",") if s.strip())
    if args.tasks < 1 or args.timeout <= 0:
        print("scheduler: --tasks must be >= 1 and --timeout > 0", file=sys.stderr)
        return 3
    try:
        Scheduler(args).run()
    except Failure as e:
        print("scheduler: FAILED: %s" % e, file=sys.stderr, flush=True)
        return e.code
    except (OSError, ValueError, KeyError) as e:
        print("scheduler: FAILED: %s: %s" % (type(e).__name__, e), file=sys.stderr, flush=True)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
