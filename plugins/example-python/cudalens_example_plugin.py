#!/usr/bin/env python3
"""Example cudalens plugin in plain Python 3 (standard library only).

It speaks protocol 1.0 (see ../PROTOCOL.md) over stdin/stdout and implements two rules:
  * example-too-many-parameters: a kernel with more than 8 parameters (hard to launch
    correctly; consider a parameter struct),
  * example-double-precision: a kernel that uses `double` (consumer GPUs run FP64 at
    1/32..1/64 of the FP32 rate).

Declare it in settings or in a trusted workspace's cudalens.toml:

    [[plugins]]
    name = "example-python"
    command = "python3"
    args = ["plugins/example-python/cudalens_example_plugin.py"]
"""
import json
import re
import sys

PROTOCOL_VERSION = "1.0"
MAX_PARAMETERS = 8


def read_message(stream):
    """Reads one `Content-Length`-framed JSON message; None at end of input."""
    length = None
    while True:
        line = stream.readline()
        if not line:
            return None
        line = line.rstrip(b"\r\n")
        if not line:
            break
        name, _, value = line.decode("ascii", "replace").partition(":")
        if name.strip().lower() == "content-length":
            length = int(value.strip())
    if length is None:
        raise ValueError("missing Content-Length")
    return json.loads(stream.read(length).decode("utf-8"))


def write_message(stream, message):
    body = json.dumps(message).encode("utf-8")
    stream.write(b"Content-Length: %d\r\n\r\n" % len(body))
    stream.write(body)
    stream.flush()


def utf16_len(text):
    return len(text.encode("utf-16-le")) // 2


def position_in_source(kernel, offset):
    """Document position (LSP: 0-based, UTF-16 columns) of a character offset in kernel.source."""
    start = kernel.get("range", {}).get("start", {"line": 0, "character": 0})
    before = kernel.get("source", "")[:offset]
    lines = before.split("\n")
    if len(lines) == 1:
        return {"line": start["line"], "character": start["character"] + utf16_len(before)}
    return {"line": start["line"] + len(lines) - 1, "character": utf16_len(lines[-1])}


def analyze(kernel):
    diagnostics = []
    params = kernel.get("parameters", [])
    if len(params) > MAX_PARAMETERS:
        diagnostics.append({
            "range": kernel["range"],
            "severity": "warning",
            "code": "example-too-many-parameters",
            "message": "kernel %s takes %d parameters (more than %d); consider passing a struct"
            % (kernel["name"], len(params), MAX_PARAMETERS),
        })
    match = re.search(r"\bdouble\b", kernel.get("source", ""))
    if match:
        diagnostics.append({
            "range": {"start": position_in_source(kernel, match.start()),
                      "end": position_in_source(kernel, match.end())},
            "severity": "information",
            "code": "example-double-precision",
            "message": "kernel %s uses double precision, which is much slower than float on most GPUs"
            % kernel["name"],
        })
    return {"diagnostics": diagnostics, "code_actions": []}


def main():
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    while True:
        try:
            message = read_message(stdin)
        except (ValueError, UnicodeDecodeError) as error:
            write_message(stdout, {"jsonrpc": "2.0", "id": None,
                                   "error": {"code": -32700, "message": str(error)}})
            continue
        if message is None or message.get("method") == "exit":
            return
        if "id" not in message:
            continue  # other notifications need no answer
        method, params = message.get("method"), message.get("params") or {}
        reply = {"jsonrpc": "2.0", "id": message["id"]}
        if method == "initialize":
            reply["result"] = {
                "name": "cudalens-example-python",
                "version": "0.1.0",
                "protocol_version": PROTOCOL_VERSION,
                "capabilities": {"diagnostics": True, "code_actions": False, "tuning": False},
            }
        elif method == "analyze":
            try:
                reply["result"] = analyze(params["kernel"])
            except (KeyError, TypeError) as error:
                reply["error"] = {"code": -32602, "message": "invalid params: %r" % (error,)}
        elif method == "shutdown":
            reply["result"] = None
        else:
            reply["error"] = {"code": -32601, "message": "unknown method %s" % method}
        write_message(stdout, reply)


if __name__ == "__main__":
    main()
