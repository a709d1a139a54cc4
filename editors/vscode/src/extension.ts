// Entry point: one CudalensClient for the window, restarted by the command,
// when the server path changes, and when the workspace becomes trusted (the
// server then may run the workspace's plugins); other setting changes are
// sent to the running server.
import * as vscode from 'vscode';
import { CudalensClient } from './client';
import { openDashboard } from './dashboardView';

let cudalens: CudalensClient | undefined;

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  const client = new CudalensClient(context);
  cudalens = client;
  context.subscriptions.push(
    client,
    vscode.commands.registerCommand('cudalens.restartServer', () => client.restart()),
    vscode.commands.registerCommand('cudalens.openDashboard', () => openDashboard(client.resolveServer())),
    vscode.workspace.onDidGrantWorkspaceTrust(() => client.restart()),
    vscode.workspace.onDidChangeConfiguration((e) => client.onConfigurationChanged(e)),
  );
  await client.start();
}

export async function deactivate(): Promise<void> {
  await cudalens?.stop();
  cudalens = undefined;
}
