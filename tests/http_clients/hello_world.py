#!/usr/bin/env python3
"""Hello world on meso (or Mesos) over the v1 HTTP APIs, standard library only.

The Python twin of frameworks/examples/hello_world.rs, scheduler and executor in this one
file. `hello_world.py --master HOST:PORT [--tasks 3]` SUBSCRIBEs to /api/v1/scheduler,
launches each task on its own custom executor (this script, fetched by the agent from a
file:// URI into the sandbox), ACKNOWLEDGEs every update, prints each update and message,
and exits 0 once every task finished and sent its message (1 on a failed task or ERROR).
Run by the agent (MESOS_EXECUTOR_ID set), it SUBSCRIBEs to /api/v1/executor and for each
LAUNCH sends UPDATE TASK_RUNNING, a MESSAGE and UPDATE TASK_FINISHED, then exits once the
agent has acknowledged both updates.
"""

import base64
import http.client
import json
import os
import sys
import uuid

PER_TASK = {"cpus": 0.1, "mem": 32.0}


def post(conn, path, call, headers=None):
    conn.request("POST", path, json.dumps(call), {
        "Content-Type": "application/json", "Accept": "application/json", **(headers or {})})
    return conn.getresponse()


def events(response):
    """The RecordIO records ("<length>\\n<json>") of a streaming response, as dicts."""
    while True:
        line = response.readline()
        if not line:
            return
        yield json.loads(response.read(int(line)))


def b64(text):
    return base64.b64encode(text.encode()).decode()


def executor():
    host, port = os.environ["MESOS_AGENT_ENDPOINT"].rsplit(":", 1)
    pid = os.environ.get("MESOS_SLAVE_PID", "")
    path = "/%s/api/v1/executor" % pid.split("@")[0] if "@" in pid else "/api/v1/executor"
    ids = {"framework_id": {"value": os.environ["MESOS_FRAMEWORK_ID"]},
           "executor_id": {"value": os.environ["MESOS_EXECUTOR_ID"]}}
    calls = http.client.HTTPConnection(host, int(port))
    unacked, launched = set(), False

    def call(body):
        response = post(calls, path, dict(ids, **body))
        answer = response.read()
        if response.status != 202:
            sys.exit("executor: %s answered %d: %s" % (body["type"], response.status, answer))

    def update(task_id, state):
        uid = base64.b64encode(uuid.uuid4().bytes).decode()
        unacked.add(uid)
        call({"type": "UPDATE", "update": {"status": {
            "task_id": task_id, "state": state, "source": "SOURCE_EXECUTOR", "uuid": uid,
            "executor_id": ids["executor_id"]}}})

    stream = http.client.HTTPConnection(host, int(port))
    for event in events(post(stream, path, dict(ids, type="SUBSCRIBE", subscribe={}))):
        if event["type"] == "LAUNCH":
            task_id = event["launch"]["task"]["task_id"]
            update(task_id, "TASK_RUNNING")
            call({"type": "MESSAGE", "message": {"data": b64("hello from " + task_id["value"])}})
            update(task_id, "TASK_FINISHED")
            launched = True
        elif event["type"] == "ACKNOWLEDGED":
            unacked.discard(event["acknowledged"]["uuid"])
        elif event["type"] == "SHUTDOWN":
            return 0
        if launched and not unacked:
            return 0
    return 1


def task(offer, n, role):
    task_id = "hello-%d" % n
    resources = [{"name": name, "type": "SCALAR", "scalar": {"value": value},
                  "allocation_info": {"role": role}} for name, value in PER_TASK.items()]
    command = {"value": "%s hello_world.py" % sys.executable,
               "uris": [{"value": "file://" + os.path.abspath(__file__), "executable": True}]}
    return {"name": task_id, "task_id": {"value": task_id}, "agent_id": offer["agent_id"],
            "resources": resources, "executor": {
                "type": "CUSTOM", "executor_id": {"value": task_id}, "command": command}}


def how_many_fit(offer):
    free = {}
    for r in offer["resources"]:
        if r.get("type") == "SCALAR" and "reservations" not in r:
            free[r["name"]] = free.get(r["name"], 0.0) + r["scalar"]["value"]
    return int(min(free.get(name, 0.0) / need + 1e-9 for name, need in PER_TASK.items()))


def scheduler(master, tasks):
    host, port = master.rsplit(":", 1)
    stream = http.client.HTTPConnection(host, int(port))
    calls = http.client.HTTPConnection(host, int(port))
    path = "/api/v1/scheduler"
    response = post(stream, path, {"type": "SUBSCRIBE", "subscribe": {
        "framework_info": {"user": "", "name": "hello_world (python)"}}})
    if response.status != 200:
        print("SUBSCRIBE answered %d: %s" % (response.status, response.read()), file=sys.stderr)
        return 1
    headers = {"Mesos-Stream-Id": response.getheader("Mesos-Stream-Id")}
    framework_id, launched, finished, messages = None, 0, 0, 0

    def call(body):
        answer = post(calls, path, dict(body, framework_id=framework_id), headers)
        text = answer.read()
        if answer.status != 202:
            sys.exit("%s answered %d: %s" % (body["type"], answer.status, text))

    for event in events(response):
        kind = event["type"]
        if kind == "SUBSCRIBED":
            framework_id = event["subscribed"]["framework_id"]
            print("registered as %s" % framework_id["value"], flush=True)
        elif kind == "OFFERS":
            for offer in event["offers"]["offers"]:
                role = offer.get("allocation_info", {}).get("role", "*")
                count = min(how_many_fit(offer), tasks - launched)
                infos = [task(offer, launched + i, role) for i in range(count)]
                launched += count
                call({"type": "ACCEPT", "accept": {
                    "offer_ids": [offer["id"]], "filters": {"refuse_seconds": 5},
                    "operations": [{"type": "LAUNCH", "launch": {"task_infos": infos}}]}})
        elif kind == "UPDATE":
            status = event["update"]["status"]
            print("task %s is %s" % (status["task_id"]["value"], status["state"]), flush=True)
            if "uuid" in status:
                call({"type": "ACKNOWLEDGE", "acknowledge": {
                    "agent_id": status["agent_id"], "task_id": status["task_id"],
                    "uuid": status["uuid"]}})
            if status["state"] == "TASK_FINISHED":
                finished += 1
            elif status["state"] in ("TASK_FAILED", "TASK_KILLED", "TASK_LOST", "TASK_ERROR",
                                     "TASK_DROPPED", "TASK_GONE"):
                print("task failed: %s" % status.get("message"), file=sys.stderr)
                call({"type": "TEARDOWN"})
                return 1
        elif kind == "MESSAGE":
            data = base64.b64decode(event["message"]["data"]).decode()
            print("message: %s" % data, flush=True)
            messages += 1
        elif kind == "ERROR":
            print("error: %s" % event["error"]["message"], file=sys.stderr)
            return 1
        if finished == tasks and messages == tasks:
            print("all %d tasks finished" % tasks, flush=True)
            call({"type": "TEARDOWN"})
            return 0
    print("the master closed the event stream", file=sys.stderr)
    return 1


def main(argv):
    if "MESOS_EXECUTOR_ID" in os.environ:
        return executor()
    args = dict(zip(argv[1::2], argv[2::2]))
    if "--master" not in args:
        print(__doc__, file=sys.stderr)
        return 3
    return scheduler(args["--master"], int(args.get("--tasks", "3")))


if __name__ == "__main__":
    sys.exit(main(sys.argv))
