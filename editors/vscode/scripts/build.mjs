// Bundles the extension into out/extension.js (vscode stays external), and
// with --tests each test/*.test.ts into out-test/ for `node --test`.
import { readdirSync, rmSync } from 'node:fs';
import * as esbuild from 'esbuild';

const common = { bundle: true, platform: 'node', target: 'node20', format: 'cjs', logLevel: 'warning' };

await esbuild.build({
  ...common,
  entryPoints: ['src/extension.ts'],
  outfile: 'out/extension.js',
  external: ['vscode'],
  sourcemap: true,
  minify: process.argv.includes('--minify'),
});

if (process.argv.includes('--tests')) {
  rmSync('out-test', { recursive: true, force: true }); // no stale tests
  const tests = readdirSync('test').filter((f) => f.endsWith('.test.ts'));
  await esbuild.build({ ...common, entryPoints: tests.map((f) => `test/${f}`), outdir: 'out-test' });
}
