#!/usr/bin/env python3
# Copied from /work/shared/tools/lsp_latency.py (the team's shared tools, outside this repository)
# so benches/lsp_latency.sh is reproducible from a checkout. Keep in step with the original.
"""Measure a language server's latency on one file, as an editor would see it.

Starts SERVER (a shell command speaking LSP over stdio), opens FILE, and reports:
  open_ms      didOpen -> first publishDiagnostics for the file
  edit_ms      median over N single-character edits (didChange) -> next publishDiagnostics
  edit_p95_ms  95th percentile of the same
  first_edit_ms  the first of those edits alone (a server may keep less
               state for a file that was only opened; it pays here)
Prints one JSON line. Works against any LSP server (clangd, ours, ...).
"""
import json, os, subprocess, sys, time, statistics, argparse, threading, queue

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('server'); ap.add_argument('file')
    ap.add_argument('--edits', type=int, default=30)
    ap.add_argument('--timeout', type=float, default=60)
    ap.add_argument('--language', default='cuda')
    a = ap.parse_args()
    p = subprocess.Popen(a.server, shell=True, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    q = queue.Queue()
    def reader():
        f = p.stdout
        while True:
            hdr = b''
            while not hdr.endswith(b'\r\n\r\n'):
                c = f.read(1)
                if not c: q.put(None); return
                hdr += c
            n = int([l for l in hdr.split(b'\r\n') if l.lower().startswith(b'content-length')][0].split(b':')[1])
            q.put((time.perf_counter(), json.loads(f.read(n))))
    threading.Thread(target=reader, daemon=True).start()
    nid = [0]
    def send(method, params, req=True):
        msg = {'jsonrpc': '2.0', 'method': method, 'params': params}
        if req: nid[0] += 1; msg['id'] = nid[0]
        b = json.dumps(msg).encode()
        p.stdin.write(b'Content-Length: %d\r\n\r\n' % len(b) + b); p.stdin.flush()
        return msg.get('id')
    def wait(pred):
        end = time.perf_counter() + a.timeout
        while True:
            try: item = q.get(timeout=max(0.01, end - time.perf_counter()))
            except queue.Empty: raise SystemExit(json.dumps({'error': 'timeout'}))
            if item is None: raise SystemExit(json.dumps({'error': 'server exited'}))
            t, m = item
            if m.get('method') in ('window/workDoneProgress/create', 'client/registerCapability', 'workspace/configuration') and 'id' in m:
                r = {'jsonrpc': '2.0', 'id': m['id'], 'result': None if m['method'] != 'workspace/configuration' else [None] * len(m['params']['items'])}
                b = json.dumps(r).encode(); p.stdin.write(b'Content-Length: %d\r\n\r\n' % len(b) + b); p.stdin.flush()
                continue
            if pred(m): return t, m
    path = os.path.abspath(a.file); uri = 'file://' + path
    text = open(path, encoding='utf-8', errors='replace').read()
    i = send('initialize', {'processId': os.getpid(), 'rootUri': 'file://' + os.path.dirname(path), 'capabilities': {
        'textDocument': {'publishDiagnostics': {}, 'synchronization': {'didSave': True}}, 'workspace': {'configuration': True}}})
    wait(lambda m: m.get('id') == i)
    send('initialized', {}, req=False)
    isdiag = lambda m: m.get('method') == 'textDocument/publishDiagnostics' and m['params']['uri'] == uri
    t0 = time.perf_counter()
    send('textDocument/didOpen', {'textDocument': {'uri': uri, 'languageId': a.language, 'version': 1, 'text': text}}, req=False)
    t1, m = wait(isdiag)
    open_ms = (t1 - t0) * 1000
    ndiag = len(m['params']['diagnostics'])
    lines = text.split('\n'); line = max(0, len(lines) // 2)
    lat = []
    for k in range(a.edits):
        ch = ' ' if k % 2 == 0 else ''
        change = {'range': {'start': {'line': line, 'character': 0}, 'end': {'line': line, 'character': 0 if k % 2 == 0 else 1}}, 'text': ch}
        t0 = time.perf_counter()
        send('textDocument/didChange', {'textDocument': {'uri': uri, 'version': k + 2}, 'contentChanges': [change]}, req=False)
        t1, _ = wait(isdiag)
        lat.append((t1 - t0) * 1000)
    send('shutdown', None); p.stdin.close()
    try: p.wait(timeout=5)
    except Exception: p.kill()
    first_ms = lat[0] if lat else None
    lat.sort()
    print(json.dumps({'file': os.path.basename(path), 'lines': len(lines), 'open_ms': round(open_ms, 1), 'open_diagnostics': ndiag,
                      'edit_ms': round(statistics.median(lat), 2), 'edit_p95_ms': round(lat[int(0.95 * (len(lat) - 1))], 2),
                      'first_edit_ms': round(first_ms, 2) if first_ms is not None else None}))

if __name__ == '__main__':
    main()
