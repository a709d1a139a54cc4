// `cudalens report`, run for a workspace folder: where the page goes and the
// command line that writes it. Pure (no vscode), so it is unit-tested.
import * as path from 'node:path';

/** The page `cudalens report` writes by default, beside the history it reads. */
export function dashboardPath(workspaceDir: string): string {
  return path.join(workspaceDir, '.cudalens', 'report.html');
}

/** Arguments of the server binary that write the dashboard of `workspaceDir`. */
export function reportArguments(workspaceDir: string): string[] {
  return ['report', '--workspace', workspaceDir, '--output', dashboardPath(workspaceDir)];
}

/** The first line of `cudalens report`'s error output, without its `error: ` prefix. */
export function reportError(stderr: string, fallback: string): string {
  const line = stderr
    .split('\n')
    .map((l) => l.trim())
    .find((l) => l.startsWith('error:'));
  return line ? line.slice('error:'.length).trim() : stderr.trim() || fallback;
}
