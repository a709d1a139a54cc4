import assert from 'node:assert/strict';
import { test } from 'node:test';
import { dashboardPath, reportArguments, reportError } from '../src/dashboard';

test('the report is written beside the workspace history', () => {
  assert.equal(dashboardPath('/w/proj'), '/w/proj/.cudalens/report.html');
  assert.deepEqual(reportArguments('/w/proj'), [
    'report', '--workspace', '/w/proj', '--output', '/w/proj/.cudalens/report.html',
  ]);
});

test("the server's error line is what the user sees", () => {
  const stderr = 'error: no benchmark history at /w/.cudalens/history.redb (run `cudalens bench`)\n';
  assert.equal(reportError(stderr, 'failed'), 'no benchmark history at /w/.cudalens/history.redb (run `cudalens bench`)');
  assert.equal(reportError('', 'exit 3'), 'exit 3');
});
