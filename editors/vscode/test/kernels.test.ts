import assert from 'node:assert/strict';
import { test } from 'node:test';
import { kernelAt, type SymbolLike } from '../src/kernels';
import { resultText, serverCommand } from '../src/serverCommands';

const fn = (name: string, detail: string, from: number, to: number): SymbolLike => ({
  name,
  detail,
  kind: 12,
  range: { start: { line: from, character: 0 }, end: { line: to, character: 1 } },
});
const symbols = [
  fn('transpose', '__global__ void transpose(float* o)', 10, 20),
  fn('helper', '__device__ float helper()', 22, 25),
  fn('scale', '__global__ void scale(float* a)', 30, 40),
  fn('main', 'int main()', 50, 60),
];

test('the kernel around the cursor', () => {
  assert.equal(kernelAt(symbols, { line: 15, character: 3 }), 'transpose');
  assert.equal(kernelAt(symbols, { line: 40, character: 0 }), 'scale');
});

test('outside any kernel: undefined when ambiguous, the only kernel otherwise', () => {
  assert.equal(kernelAt(symbols, { line: 23, character: 0 }), undefined);
  assert.equal(kernelAt(symbols.slice(0, 2), { line: 55, character: 0 }), 'transpose');
});

test('results: strings as is, text fields, else fenced JSON', () => {
  assert.equal(resultText('# t'), '# t');
  assert.equal(resultText({ wgsl: '@compute fn f() {}' }), '@compute fn f() {}');
  assert.equal(resultText(null), undefined);
  assert.match(resultText({ speedup: 2 }) ?? '', /^```json\n\{\n {2}"speedup": 2\n\}\n```$/);
});

test('every contributed server command has a view', () => {
  for (const id of ['cudalens.showOccupancyTable', 'cudalens.transpile', 'cudalens.benchmark', 'cudalens.autotune']) {
    assert.ok(serverCommand(id), id);
  }
});
