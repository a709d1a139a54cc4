// The schema flattening of scripts/sync-settings.mjs: flat, nested and
// `cudalens`-sectioned schemas all give VS Code's dotted keys. Plain ESM,
// run as is (not bundled), like the script.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { flattenSchema } from '../scripts/sync-settings.mjs';

const b = { type: 'boolean' };

test('flat cudalens.* keys are kept verbatim', () => {
  assert.deepEqual(flattenSchema({ properties: { 'cudalens.inlayHints.enable': b } }), { 'cudalens.inlayHints.enable': b });
});

test('nested groups and an enclosing cudalens section become dotted keys', () => {
  const nested = { properties: { arch: { type: 'string' }, inlayHints: { type: 'object', properties: { enable: b } } } };
  const expected = { 'cudalens.arch': { type: 'string' }, 'cudalens.inlayHints.enable': b };
  assert.deepEqual(flattenSchema(nested), expected);
  assert.deepEqual(flattenSchema({ properties: { cudalens: { type: 'object', ...nested } } }), expected);
});

test('objects with free-form keys (defines) stay one setting', () => {
  const defines = { type: 'object', properties: {}, additionalProperties: { type: 'string' } };
  assert.deepEqual(Object.keys(flattenSchema({ properties: { defines } })), ['cudalens.defines']);
});
