// "cudalens: Open Benchmark Dashboard": runs `cudalens report` for the
// workspace folder and shows the page in a webview (no scripts; the page is
// inline CSS and SVG and says so in its own Content-Security-Policy).
import { execFile } from 'node:child_process';
import * as fs from 'node:fs/promises';
import * as vscode from 'vscode';
import { dashboardPath, reportArguments, reportError } from './dashboard';

let panel: vscode.WebviewPanel | undefined;

async function workspaceFolder(): Promise<vscode.WorkspaceFolder | undefined> {
  const folders = vscode.workspace.workspaceFolders ?? [];
  const active = vscode.window.activeTextEditor?.document.uri;
  const current = active && vscode.workspace.getWorkspaceFolder(active);
  if (current) return current;
  if (folders.length <= 1) return folders[0];
  return vscode.window.showWorkspaceFolderPick({ placeHolder: 'Benchmark history of which folder?' });
}

function run(command: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { timeout: 60_000 }, (error, _stdout, stderr) =>
      error ? reject(new Error(reportError(stderr, error.message))) : resolve(),
    );
  });
}

/** `server`: the cudalens binary, or why there is none. */
export async function openDashboard(server: { command: string } | { message: string }): Promise<void> {
  if ('message' in server) {
    void vscode.window.showErrorMessage(`cudalens: ${server.message}`);
    return;
  }
  const folder = await workspaceFolder();
  if (!folder || folder.uri.scheme !== 'file') {
    void vscode.window.showErrorMessage('cudalens: open a folder with a benchmark history (.cudalens/history.redb) first.');
    return;
  }
  const dir = folder.uri.fsPath;
  let html: string;
  try {
    await run(server.command, reportArguments(dir));
    html = await fs.readFile(dashboardPath(dir), 'utf8');
  } catch (error) {
    void vscode.window.showErrorMessage(`cudalens: no dashboard: ${error instanceof Error ? error.message : String(error)}`);
    return;
  }
  if (!panel) {
    panel = vscode.window.createWebviewPanel('cudalens.dashboard', 'Benchmark dashboard', vscode.ViewColumn.Active, {
      enableScripts: false,
      enableFindWidget: true,
    });
    panel.onDidDispose(() => (panel = undefined));
  }
  panel.webview.html = html;
  panel.reveal();
}
