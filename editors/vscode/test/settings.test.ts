import assert from 'node:assert/strict';
import { test } from 'node:test';
import { initializationOptions, serverSettings } from '../src/settings';

test('extension-only keys are dropped and trust follows Workspace Trust', () => {
  const section = {
    arch: 'sm_80',
    inlayHints: { enable: false, accessCost: true },
    server: { path: '/x/cudalens' },
    trace: { server: 'verbose' },
    trustWorkspace: true,
    get: () => 1, // WorkspaceConfiguration's methods do not survive
  };
  assert.deepEqual(serverSettings(section, false), {
    arch: 'sm_80',
    inlayHints: { enable: false, accessCost: true },
    trustWorkspace: false,
  });
  assert.equal(serverSettings(section, true).trustWorkspace, true);
});

test('initializationOptions nest the section under cudalens', () => {
  assert.deepEqual(initializationOptions({ arch: 'sm_90' }, true), { cudalens: { arch: 'sm_90', trustWorkspace: true } });
  assert.deepEqual(initializationOptions(undefined, false), { cudalens: { trustWorkspace: false } });
});
