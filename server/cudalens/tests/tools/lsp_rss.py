#!/usr/bin/env python3
"""Resident memory of a language server with many files open.

Starts SERVER (a shell command speaking LSP over stdio), opens every FILE,
waits for each file's first publishDiagnostics, then prints one JSON line
with the server's VmRSS and VmHWM (peak) from /proc, in MB. With --settle S
it also reports VmRSS after S more seconds without edits (documents that
hibernate when idle have freed their trees by then); --init-options passes
initializationOptions (e.g. '{"cudalens": {"hibernateAfterSeconds": 5}}').
"""
import argparse, json, os, subprocess, threading, queue, time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('server')
    ap.add_argument('files', nargs='+')
    ap.add_argument('--timeout', type=float, default=300)
    ap.add_argument('--settle', type=float, default=0)
    ap.add_argument('--init-options', default='null')
    a = ap.parse_args()
    p = subprocess.Popen(a.server, shell=True, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    q = queue.Queue()

    def reader():
        f = p.stdout
        while True:
            hdr = b''
            while not hdr.endswith(b'\r\n\r\n'):
                c = f.read(1)
                if not c:
                    q.put(None)
                    return
                hdr += c
            n = int([l for l in hdr.split(b'\r\n') if l.lower().startswith(b'content-length')][0].split(b':')[1])
            q.put(json.loads(f.read(n)))

    threading.Thread(target=reader, daemon=True).start()

    def send(msg):
        b = json.dumps(msg).encode()
        p.stdin.write(b'Content-Length: %d\r\n\r\n' % len(b) + b)
        p.stdin.flush()

    def wait(pred):
        end = time.time() + a.timeout
        while True:
            m = q.get(timeout=max(0.01, end - time.time()))
            if m is None:
                raise SystemExit(json.dumps({'error': 'server exited'}))
            if 'id' in m and 'method' in m:
                send({'jsonrpc': '2.0', 'id': m['id'], 'result': None})
                continue
            if pred(m):
                return m

    root = os.path.dirname(os.path.abspath(a.files[0]))
    send({'jsonrpc': '2.0', 'id': 1, 'method': 'initialize',
          'params': {'processId': os.getpid(), 'rootUri': 'file://' + root, 'capabilities': {},
                     'initializationOptions': json.loads(a.init_options)}})
    wait(lambda m: m.get('id') == 1)
    send({'jsonrpc': '2.0', 'method': 'initialized', 'params': {}})
    pending = set()
    total = 0
    for path in a.files:
        path = os.path.abspath(path)
        text = open(path, encoding='utf-8', errors='replace').read()
        total += len(text.encode())
        uri = 'file://' + path
        pending.add(uri)
        send({'jsonrpc': '2.0', 'method': 'textDocument/didOpen',
              'params': {'textDocument': {'uri': uri, 'languageId': 'cuda', 'version': 1, 'text': text}}})
    while pending:
        m = wait(lambda m: m.get('method') == 'textDocument/publishDiagnostics')
        pending.discard(m['params']['uri'])
    # The server process is the shell's child when the command is a pipeline; find the real one.
    pid = p.pid
    children = subprocess.run(['pgrep', '-P', str(pid)], capture_output=True, text=True).stdout.split()
    if children:
        pid = int(children[0])
    def field(name):
        status = open('/proc/%d/status' % pid).read()
        return int([l for l in status.splitlines() if l.startswith(name)][0].split()[1]) / 1024
    report = {'files': len(a.files), 'text_mb': round(total / 1e6, 1),
              'rss_mb': round(field('VmRSS:'), 1), 'peak_rss_mb': round(field('VmHWM:'), 1),
              # Heap and stacks vs the mapped binary and libraries.
              'rss_anon_mb': round(field('RssAnon:'), 1), 'rss_file_mb': round(field('RssFile:'), 1)}
    if a.settle > 0:
        end = time.time() + a.settle
        while time.time() < end:  # drain output, answering server requests
            try:
                m = q.get(timeout=max(0.01, end - time.time()))
            except queue.Empty:
                continue
            if m is not None and 'id' in m and 'method' in m:
                send({'jsonrpc': '2.0', 'id': m['id'], 'result': None})
        report['settle_s'] = a.settle
        report['rss_after_settle_mb'] = round(field('VmRSS:'), 1)
    print(json.dumps(report))
    send({'jsonrpc': '2.0', 'id': 2, 'method': 'shutdown', 'params': None})
    p.stdin.close()
    try:
        p.wait(timeout=5)
    except Exception:
        p.kill()


if __name__ == '__main__':
    main()
