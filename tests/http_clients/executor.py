#!/usr/bin/env python3
"""A Mesos v1 HTTP custom executor in plain Python (standard library only, no meso code).

Started by the agent with the environment of the executor API: MESOS_AGENT_ENDPOINT
(HOST:PORT), MESOS_FRAMEWORK_ID, MESOS_EXECUTOR_ID. It SUBSCRIBEs to /api/v1/executor,
and for every LAUNCH (or each task of a LAUNCH_GROUP) sends UPDATE TASK_RUNNING, then,
after HTTP_EXECUTOR_TASK_SECONDS (default 0), the final state (HTTP_EXECUTOR_FINAL_STATE,
default TASK_FINISHED). Every UPDATE has a fresh 16-byte uuid and source SOURCE_EXECUTOR.
KILL ends the task with TASK_KILLED; SHUTDOWN kills what runs and exits 0; ERROR exits 1.
With --echo-messages, every MESSAGE event's data goes straight back to the scheduler in a
MESSAGE call (the same bytes); otherwise messages are ignored.
If the agent closes the stream: without checkpointing (MESOS_CHECKPOINT != 1) the executor
exits (0 if no task was left running); with checkpointing it re-SUBSCRIBEs, carrying its
unacknowledged tasks and updates, with a backoff capped at MESOS_SUBSCRIPTION_BACKOFF_MAX
(default 2secs) for up to MESOS_RECOVERY_TIMEOUT (default 15mins). HTTP_EXECUTOR_TIMEOUT
(default 600 s) bounds its whole life.
"""

import base64
import json
import os
import socket
import sys
import threading
import time
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rawhttp  # noqa: E402

PATH = "/api/v1/executor"

# Every call carries the token the agent put in the environment when it has one (Mesos's
# MESOS_EXECUTOR_AUTHENTICATION_TOKEN, for an agent with --authenticate-http-executors).
HEADERS = {"Content-Type": "application/json", "Accept": "application/json"}
if os.environ.get("MESOS_EXECUTOR_AUTHENTICATION_TOKEN"):
    HEADERS["Authorization"] = "Bearer " + os.environ["MESOS_EXECUTOR_AUTHENTICATION_TOKEN"]


def log(text):
    print("executor: " + text, file=sys.stderr, flush=True)


UNITS = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "secs": 1.0, "mins": 60.0, "hrs": 3600.0,
         "days": 86400.0, "weeks": 604800.0}


def parse_duration(text):
    """A stout duration such as `2secs`, `15mins`, `500ms`, in seconds."""
    text = text.strip()
    for unit in sorted(UNITS, key=len, reverse=True):
        if text.endswith(unit):
            return float(text[: -len(unit)]) * UNITS[unit]
    raise ValueError("bad duration %r (expected e.g. 2secs, 15mins)" % text)


class Executor:
    def __init__(self, endpoint, framework_id, executor_id, task_seconds, final_state,
                 checkpoint=False, recovery_timeout=900.0, backoff_max=2.0, echo_messages=False):
        self.echo_messages = echo_messages
        self.checkpoint = checkpoint
        self.recovery_timeout = recovery_timeout
        self.backoff_max = backoff_max
        self.tasks = {}  # task id -> TaskInfo, until an update of it is acknowledged
        self.endpoint = endpoint
        self.framework_id = framework_id
        self.executor_id = executor_id
        self.task_seconds = task_seconds
        self.final_state = final_state
        self.calls = rawhttp.Connection(endpoint, timeout=30.0)
        self.lock = threading.Lock()
        self.running = {}  # task id -> timer or None
        self.unacknowledged = {}  # uuid (base64) -> the Call.Update sent

    def envelope(self, kind):
        return {
            "type": kind,
            "framework_id": {"value": self.framework_id},
            "executor_id": {"value": self.executor_id},
        }

    def update(self, task_id, state, message=None):
        status = {
            "task_id": {"value": task_id},
            "state": state,
            "source": "SOURCE_EXECUTOR",
            "executor_id": {"value": self.executor_id},
            "uuid": base64.b64encode(uuid.uuid4().bytes).decode(),
            "timestamp": time.time(),
        }
        if message:
            status["message"] = message
        body = self.envelope("UPDATE")
        body["update"] = {"status": status}
        with self.lock:
            self.unacknowledged[status["uuid"]] = body["update"]
            try:
                code, _, text = self.calls.post(PATH, json.dumps(body).encode(), HEADERS)
            except (OSError, rawhttp.ProtocolError) as e:
                if not self.checkpoint:
                    raise
                # The agent is away; the update goes again with the next SUBSCRIBE.
                log("UPDATE %s %s not delivered (%s); kept for re-subscription" % (task_id, state, e))
                return
        if code != 202:
            raise RuntimeError("UPDATE %s %s answered %d: %s" % (task_id, state, code, text.decode("utf-8", "replace")))

    def message(self, data):
        """Sends `data` (base64, as it came in a MESSAGE event) to the scheduler."""
        body = self.envelope("MESSAGE")
        body["message"] = {"data": data}
        with self.lock:
            code, _, text = self.calls.post(PATH, json.dumps(body).encode(), HEADERS)
        if code != 202:
            raise RuntimeError("MESSAGE answered %d: %s" % (code, text.decode("utf-8", "replace")))
        log("echoed a message of %d bytes" % len(base64.b64decode(data)))

    def finish(self, task_id, state, message=None):
        with self.lock:
            if task_id not in self.running:
                return
            timer = self.running.pop(task_id)
        if timer is not None:
            timer.cancel()
        self.update(task_id, state, message)

    def launch(self, task):
        task_id = task["task_id"]["value"]
        with self.lock:
            if task_id in self.running:
                return
            self.running[task_id] = None
            self.tasks[task_id] = task
        self.update(task_id, "TASK_RUNNING")
        if self.task_seconds <= 0:
            self.finish(task_id, self.final_state)
            return
        timer = threading.Timer(self.task_seconds, self.finish_in_background, (task_id,))
        timer.daemon = True
        with self.lock:
            if task_id in self.running:
                self.running[task_id] = timer
                timer.start()

    def finish_in_background(self, task_id):
        try:
            self.finish(task_id, self.final_state)
        except Exception as e:  # the event loop is on the main thread; report and exit
            log("FAILED to send the final update of %s: %s" % (task_id, e))
            os._exit(1)  # noqa: this thread cannot raise into the event loop

    def subscribe(self):
        """SUBSCRIBE, carrying what the agent has not acknowledged; None if refused."""
        body = self.envelope("SUBSCRIBE")
        with self.lock:
            body["subscribe"] = {
                "unacknowledged_tasks": list(self.tasks.values()),
                "unacknowledged_updates": list(self.unacknowledged.values()),
            }
        stream = rawhttp.Stream(self.endpoint, PATH, json.dumps(body).encode(), HEADERS)
        if stream.status != 200:
            log("SUBSCRIBE answered %d: %s" % (stream.status, stream.read_error_body()))
            stream.close()
            return None
        return stream

    def resubscribe(self, deadline):
        """After the agent went away: retry SUBSCRIBE with backoff until the recovery timeout."""
        give_up = min(deadline, time.monotonic() + self.recovery_timeout)
        backoff = 0.1
        while time.monotonic() < give_up:
            try:
                stream = self.subscribe()
                if stream is not None:
                    log("re-subscribed")
                    return stream
            except (OSError, rawhttp.ProtocolError) as e:
                log("re-subscribe failed: %s" % e)
            time.sleep(min(backoff, max(0.0, give_up - time.monotonic())))
            backoff = min(backoff * 2, self.backoff_max)
        return None

    def run(self, timeout):
        deadline = time.monotonic() + timeout
        stream = self.subscribe()
        if stream is None:
            return 1
        first = True
        while True:
            try:
                event = stream.next_event(deadline)
            except socket.timeout:
                log("timed out after %.0f s" % timeout)
                return 1
            if event is None and self.checkpoint:
                stream.close()
                log("agent closed the stream; re-subscribing (checkpointing framework)")
                stream = self.resubscribe(deadline)
                if stream is None:
                    log("could not re-subscribe within the recovery timeout")
                    return 1
                first = True
                continue
            if event is None:
                with self.lock:
                    left = sorted(self.running)
                if left:
                    log("agent closed the stream with tasks running: %s" % ", ".join(left))
                    return 1
                log("agent closed the stream")
                return 0
            kind = event.get("type")
            if first and kind != "SUBSCRIBED":
                log("first event is %s, not SUBSCRIBED" % kind)
                return 1
            first = False
            if kind == "SUBSCRIBED":
                log("subscribed on %s" % event["subscribed"].get("agent_info", {}).get("hostname", "?"))
            elif kind == "LAUNCH":
                self.launch(event["launch"]["task"])
            elif kind == "LAUNCH_GROUP":
                for task in event["launch_group"]["task_group"].get("tasks", []):
                    self.launch(task)
            elif kind == "KILL":
                self.finish(event["kill"]["task_id"]["value"], "TASK_KILLED", "killed by the scheduler")
            elif kind == "ACKNOWLEDGED":
                with self.lock:
                    self.unacknowledged.pop(event["acknowledged"]["uuid"], None)
                    self.tasks.pop(event["acknowledged"]["task_id"]["value"], None)
            elif kind == "SHUTDOWN":
                with self.lock:
                    left = list(self.running)
                for task_id in left:
                    self.finish(task_id, "TASK_KILLED", "executor shut down")
                log("shut down")
                return 0
            elif kind == "ERROR":
                log("agent sent ERROR: %s" % event.get("error", {}).get("message"))
                return 1
            elif kind == "MESSAGE" and self.echo_messages:
                self.message(event["message"]["data"])
            # HEARTBEAT (and MESSAGE without --echo-messages) need nothing.


def main():
    echo_messages = False
    for arg in sys.argv[1:]:
        if arg == "--echo-messages":
            echo_messages = True
        else:
            log("unknown argument %r (the only one is --echo-messages)" % arg)
            return 3
    try:
        endpoint = os.environ["MESOS_AGENT_ENDPOINT"]
        framework_id = os.environ["MESOS_FRAMEWORK_ID"]
        executor_id = os.environ["MESOS_EXECUTOR_ID"]
    except KeyError as e:
        log("missing environment variable %s" % e)
        return 3
    task_seconds = float(os.environ.get("HTTP_EXECUTOR_TASK_SECONDS", "0"))
    final_state = os.environ.get("HTTP_EXECUTOR_FINAL_STATE", "TASK_FINISHED")
    timeout = float(os.environ.get("HTTP_EXECUTOR_TIMEOUT", "600"))
    try:
        checkpoint = os.environ.get("MESOS_CHECKPOINT") == "1"
        recovery = parse_duration(os.environ.get("MESOS_RECOVERY_TIMEOUT", "15mins"))
        backoff = parse_duration(os.environ.get("MESOS_SUBSCRIPTION_BACKOFF_MAX", "2secs"))
        executor = Executor(endpoint, framework_id, executor_id, task_seconds, final_state,
                            checkpoint, recovery, backoff, echo_messages)
        return executor.run(timeout)
    except (OSError, RuntimeError, rawhttp.ProtocolError, ValueError, KeyError) as e:
        log("FAILED: %s: %s" % (type(e).__name__, e))
        return 1


if __name__ == "__main__":
    sys.exit(main())
