#!/usr/bin/env python3
"""A configurable test plugin for the host's integration tests (standard library only).

Usage: test_plugin.py MODE [COUNTER_FILE]
  good          answers everything correctly; tune benchmarks two variants
  crash         exits with status 3 when asked to analyze
  hang          never answers analyze
  garbage       writes random bytes instead of an analyze answer
  badjson       writes a well-framed but invalid JSON body
  badresult     answers analyze with a result of the wrong shape
  oldprotocol   claims protocol version 0.9
COUNTER_FILE, when given, gets one line appended per process start.
"""
import json
import sys

MODE = sys.argv[1] if len(sys.argv) > 1 else "good"
if len(sys.argv) > 2:
    with open(sys.argv[2], "a") as f:
        f.write("start\n")

stdin = sys.stdin.buffer
stdout = sys.stdout.buffer


def read():
    length = None
    while True:
        line = stdin.readline()
        if not line:
            sys.exit(0)
        line = line.strip()
        if not line:
            break
        name, _, value = line.decode().partition(":")
        if name.lower() == "content-length":
            length = int(value)
    return json.loads(stdin.read(length))


def send(obj):
    body = json.dumps(obj).encode()
    stdout.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
    stdout.flush()


def reply(msg, result):
    send({"jsonrpc": "2.0", "id": msg["id"], "result": result})


next_id = 1000


def benchmark(block):
    global next_id
    next_id += 1
    send({"jsonrpc": "2.0", "id": next_id, "method": "host/benchmark",
          "params": {"variant": {"block": block}}})
    while True:
        msg = read()
        if msg.get("id") == next_id and "method" not in msg:
            return msg["result"]


while True:
    msg = read()
    method = msg.get("method")
    if method == "initialize":
        version = "0.9" if MODE == "oldprotocol" else "1.0"
        reply(msg, {"name": "test-" + MODE, "version": "0.0.1", "protocol_version": version,
                    "capabilities": {"diagnostics": True, "code_actions": False, "tuning": True}})
    elif method == "analyze":
        sys.stderr.write("analyzing %s\n" % msg["params"]["kernel"]["name"])
        sys.stderr.flush()
        if MODE == "crash":
            sys.stderr.write("Traceback: simulated crash\n")
            sys.exit(3)
        if MODE == "hang":
            import time
            time.sleep(3600)
        if MODE == "garbage":
            stdout.write(bytes(range(256)) * 4)
            stdout.flush()
            continue
        if MODE == "badjson":
            stdout.write(b"Content-Length: 9\r\n\r\n{not json")
            stdout.flush()
            continue
        if MODE == "badresult":
            reply(msg, {"diagnostics": "not a list"})
            continue
        send({"jsonrpc": "2.0", "method": "$/log", "params": {"level": "info", "message": "hello from log"}})
        kernel = msg["params"]["kernel"]
        reply(msg, {"diagnostics": [{
            "range": kernel["range"], "severity": "information", "code": "test-" + MODE,
            "message": "saw kernel %s" % kernel["name"]}]})
    elif method == "tune":
        rows = []
        for block in ([128, 1, 1], [256, 1, 1]):
            rows.append({"variant": {"block": block}, "result": benchmark(block)})
        best = min(rows, key=lambda r: r["result"].get("median_ms") or 1e30)
        reply(msg, {"recommendation": best["variant"], "table": rows, "explanation": "fastest"})
    elif method == "shutdown":
        reply(msg, None)
    elif method == "exit":
        sys.exit(0)
    elif "id" in msg:
        send({"jsonrpc": "2.0", "id": msg["id"], "error": {"code": -32601, "message": "no"}})
