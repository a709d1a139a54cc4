// package.json: the contributions the extension's code relies on.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { SERVER_COMMANDS } from '../src/serverCommands';

const pkg = JSON.parse(readFileSync(`${__dirname}/../package.json`, 'utf8'));

test('every server command, restartServer and openDashboard are contributed with a title', () => {
  const contributed = new Map<string, string>(pkg.contributes.commands.map((c: { command: string; title: string }) => [c.command, c.title]));
  for (const { id } of SERVER_COMMANDS) assert.ok(contributed.get(id), id);
  assert.ok(contributed.get('cudalens.restartServer'));
  assert.equal(contributed.get('cudalens.openDashboard'), 'Open Benchmark Dashboard');
});

test('settings the extension reads are declared', () => {
  const props = pkg.contributes.configuration.properties;
  for (const key of ['cudalens.server.path', 'cudalens.arch', 'cudalens.inlayHints.enable', 'cudalens.trustWorkspace']) {
    assert.ok(props[key], key);
  }
});

test('fixAll on save is declared as a code action kind', () => {
  const kinds = pkg.contributes.codeActions.flatMap((c: { actions: { kind: string }[] }) => c.actions.map((a) => a.kind));
  assert.ok(kinds.includes('source.fixAll.cudalens'));
});
