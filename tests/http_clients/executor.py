#!/usr/bin/env python3
"""A Mesos v1 HTTP custom executor in plain Python (standard library only, no meso code).

Started by the agent with the environment of the executor API: MESOS_AGENT_ENDPOINT
(HOST:PORT), MESOS_FRAMEWORK_ID, MESOS_EXECUTOR_ID. It SUBSCRIBEs to /api/v1/executor,
and for every LAUNCH (or each task of a LAUNCH_GROUP) sends UPDATE TASK_RUNNING, then,
after HTTP_EXECUTOR_TASK_SECONDS (default 0), the final state (HTTP_EXECUTOR_FINAL_STATE,
default TASK_FINISHED). Every UPDATE has a fresh 16-byte uuid and source SOURCE_EXECUTOR.
KILL ends the task with TASK_KILLED; SHUTDOWN kills what runs and exits 0; ERROR exits 1.
If the agent closes the stream the executor exits (0 if no task was left running), and
HTTP_EXECUTOR_TIMEOUT (default 600 s) bounds its whole life.
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


def log(text):
    print("executor: " + text, file=sys.stderr, flush=True)


class Executor:
    def __init__(self, endpoint, framework_id, executor_id, task_seconds, final_state):
        self.endpoint = endpoint
        self.framework_id = framework_id
        self.executor_id = executor_id
        self.task_seconds = task_seconds
        self.final_state = final_state
        self.calls = rawhttp.Connection(endpoint, timeout=30.0)
        self.lock = threading.Lock()
        self.running = {}  # task id -> timer or None
        self.unacknowledged = {}  # uuid (base64) -> (task id, state)

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
            self.unacknowledged[status["uuid"]] = (task_id, state)
            code, _, text = self.calls.post(PATH, json.dumps(body).encode(), {
                "Content-Type": "application/json", "Accept": "application/json",
            })
        if code != 202:
            raise RuntimeError("UPDATE %s %s answered %d: %s" % (task_id, state, code, text.decode("utf-8", "replace")))

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
            os._exit(1)

    def run(self, timeout):
        deadline = time.monotonic() + timeout
        body = self.envelope("SUBSCRIBE")
        body["subscribe"] = {"unacknowledged_tasks": [], "unacknowledged_updates": []}
        stream = rawhttp.Stream(self.endpoint, PATH, json.dumps(body).encode(), {
            "Content-Type": "application/json", "Accept": "application/json",
        })
        if stream.status != 200:
            log("SUBSCRIBE answered %d: %s" % (stream.status, stream.read_error_body()))
            return 1
        first = True
        while True:
            try:
                event = stream.next_event(deadline)
            except socket.timeout:
                log("timed out after %.0f s" % timeout)
                return 1
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
            # HEARTBEAT and MESSAGE need nothing.


def main():
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
        return Executor(endpoint, framework_id, executor_id, task_seconds, final_state).run(timeout)
    except (OSError, RuntimeError, rawhttp.ProtocolError, ValueError, KeyError) as e:
        log("FAILED: %s: %s" % (type(e).__name__, e))
        return 1


if __name__ == "__main__":
    sys.exit(main())
