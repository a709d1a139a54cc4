import assert from 'node:assert/strict';
import { test } from 'node:test';
import { resolveServer, type ResolveInput } from '../src/serverPath';

const base = (executables: string[], over: Partial<ResolveInput> = {}): ResolveInput => ({
  configuredPath: '',
  extensionPath: '/ext',
  platform: 'linux',
  envPath: '/usr/local/bin:/usr/bin',
  homeDir: '/home/me',
  isExecutable: (f) => executables.includes(f),
  ...over,
});

test('the setting wins, with ~ expanded', () => {
  const r = resolveServer(base(['/home/me/bin/cudalens', '/ext/bin/cudalens'], { configuredPath: '~/bin/cudalens' }));
  assert.deepEqual(r, { ok: true, command: '/home/me/bin/cudalens', source: 'setting' });
});

test('a setting that is not executable is an error, not a silent fallback', () => {
  const r = resolveServer(base(['/usr/bin/cudalens'], { configuredPath: '/nope/cudalens' }));
  assert.equal(r.ok, false);
  assert.match(r.ok ? '' : r.message, /\/nope\/cudalens/);
});

test('then the bundled binary, then PATH in order', () => {
  assert.deepEqual(resolveServer(base(['/ext/bin/cudalens', '/usr/bin/cudalens'])), {
    ok: true,
    command: '/ext/bin/cudalens',
    source: 'bundled',
  });
  assert.deepEqual(resolveServer(base(['/usr/bin/cudalens', '/usr/local/bin/cudalens'])), {
    ok: true,
    command: '/usr/local/bin/cudalens',
    source: 'path',
  });
});

test('windows: .exe and ; separated PATH', () => {
  const r = resolveServer(
    base(['C:\\tools/cudalens.exe'], { platform: 'win32', envPath: 'C:\\x;C:\\tools' }),
  );
  assert.deepEqual(r, { ok: true, command: 'C:\\tools/cudalens.exe', source: 'path' });
});

test('nothing found: a message that says where it looked', () => {
  const r = resolveServer(base([]));
  assert.equal(r.ok, false);
  assert.match(r.ok ? '' : r.message, /not bundled.*PATH.*cudalens\.server\.path/);
});
