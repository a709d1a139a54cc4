// The language client's lifecycle: start (resolving the binary), stop,
// restart, and the server commands: those the server offers are registered
// by vscode-languageclient and pass through `executeCommand` middleware
// (arguments from the cursor, answer shown); the rest get a placeholder that
// explains why they do nothing, so no command id is registered twice.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as vscode from 'vscode';
import {
  DidChangeConfigurationNotification,
  LanguageClient,
  type LanguageClientOptions,
  type Middleware,
  type ServerOptions,
} from 'vscode-languageclient/node';
import { argumentsAtCursor } from './commandArguments';
import { SERVER_COMMANDS, resultText, serverCommand } from './serverCommands';
import { type ServerResolution, resolveServer } from './serverPath';
import { initializationOptions, serverSettings } from './settings';
import { showCode, showMarkdown } from './views';

/**
 * CUDA files on disk and unsaved CUDA buffers (not diff views, git: etc.),
 * and C/C++ headers on disk: kernels live in them in most libraries (the
 * server reports on a header only when it holds CUDA code).
 */
export const DOCUMENT_SELECTOR = [
  { scheme: 'file', language: 'cuda-cpp' },
  { scheme: 'file', language: 'cuda' },
  { scheme: 'file', pattern: '**/*.{cu,cuh}' },
  { scheme: 'file', pattern: '**/*.{h,hpp,hh,hxx,inl}' },
  { scheme: 'untitled', language: 'cuda-cpp' },
  { scheme: 'untitled', language: 'cuda' },
];

function isExecutable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

export class CudalensClient implements vscode.Disposable {
  private client: LanguageClient | undefined;
  private placeholders: vscode.Disposable[] = [];
  /** Restarts run one after another (trust grant and a settings change may coincide). */
  private restarting: Promise<void> = Promise.resolve();
  private readonly output = vscode.window.createOutputChannel('cudalens');

  constructor(private readonly context: vscode.ExtensionContext) {}

  /** The cudalens binary the settings name (also run for `cudalens report`). */
  resolveServer(): ServerResolution {
    return resolveServer({
      configuredPath: vscode.workspace.getConfiguration('cudalens').get<string>('server.path'),
      extensionPath: this.context.extensionPath,
      platform: process.platform,
      envPath: process.env.PATH,
      homeDir: os.homedir(),
      isExecutable,
    });
  }

  async start(): Promise<void> {
    this.disposePlaceholders();
    const config = vscode.workspace.getConfiguration('cudalens');
    const server = this.resolveServer();
    if (!server.ok) {
      this.registerPlaceholders([], 'the cudalens language server is not running');
      void this.reportMissingServer(server.message);
      return;
    }
    const args = ['lsp', ...config.get<string[]>('server.extraArgs', [])];
    const serverOptions: ServerOptions = { command: server.command, args };
    this.output.appendLine(`starting ${server.command} ${args.join(' ')} (${server.source})`);
    const client = new LanguageClient('cudalens', 'cudalens', serverOptions, this.clientOptions(config));
    this.client = client;
    try {
      await client.start();
    } catch (error) {
      this.client = undefined;
      this.registerPlaceholders([], 'the cudalens language server failed to start');
      void vscode.window.showErrorMessage(`cudalens failed to start (${server.command}): ${String(error)}`);
      return;
    }
    const offered = client.initializeResult?.capabilities.executeCommandProvider?.commands ?? [];
    const version = client.initializeResult?.serverInfo?.version ?? 'unknown version';
    this.registerPlaceholders(offered, `cudalens ${version} does not offer it yet; update cudalens`);
  }

  async stop(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    if (client) await client.stop().catch(() => undefined);
    this.disposePlaceholders();
  }

  restart(): Promise<void> {
    this.restarting = this.restarting
      .catch(() => undefined) // a failed restart must not block the next one
      .then(() => this.stop())
      .then(() => this.start());
    return this.restarting;
  }

  dispose(): void {
    void this.stop();
    this.output.dispose();
  }

  /**
   * One listener for all `cudalens.*` changes (instead of languageclient's
   * `synchronize`, which would race a restart): a new server path or
   * arguments restart the server; anything else is sent to it.
   */
  async onConfigurationChanged(event: vscode.ConfigurationChangeEvent): Promise<void> {
    if (event.affectsConfiguration('cudalens.server')) return this.restart();
    if (!event.affectsConfiguration('cudalens') || !this.client?.isRunning()) return;
    const settings = serverSettings(vscode.workspace.getConfiguration('cudalens'), vscode.workspace.isTrusted);
    await this.client.sendNotification(DidChangeConfigurationNotification.type, { settings: { cudalens: settings } });
  }

  private clientOptions(config: vscode.WorkspaceConfiguration): LanguageClientOptions {
    return {
      documentSelector: DOCUMENT_SELECTOR,
      initializationOptions: initializationOptions(config, vscode.workspace.isTrusted),
      outputChannel: this.output,
      middleware: this.middleware(),
    };
  }

  private middleware(): Middleware {
    return {
      workspace: {
        // Workspace Trust, not a setting, decides `trustWorkspace`.
        configuration: async (params, token, next) => {
          const values = await next(params, token);
          if (!Array.isArray(values)) return values;
          return values.map((value: unknown, i) =>
            params.items[i]?.section === 'cudalens' ? serverSettings(value, vscode.workspace.isTrusted) : value,
          );
        },
      },
      executeCommand: async (command, args, next) => {
        const client = this.client;
        const spec = serverCommand(command);
        if (!client || !spec) return next(command, args);
        const callArgs = args.length > 0 ? args : await argumentsAtCursor(client);
        if (!callArgs) return undefined;
        const result: unknown = await next(command, callArgs);
        const text = resultText(result);
        const kernel = typeof callArgs[1] === 'string' ? callArgs[1] : '';
        if (text === undefined) {
          void vscode.window.showWarningMessage(`cudalens: ${spec.title} gave no result for ${kernel || 'this file'}.`);
        } else if (spec.view === 'wgsl') {
          await showCode(text, 'wgsl');
        } else {
          await showMarkdown(`${spec.title}: ${kernel}`, text);
        }
        return result;
      },
    };
  }

  private registerPlaceholders(offered: readonly string[], reason: string): void {
    for (const { id } of SERVER_COMMANDS) {
      if (offered.includes(id)) continue;
      this.placeholders.push(
        vscode.commands.registerCommand(id, () => vscode.window.showErrorMessage(`${id}: ${reason}.`)),
      );
    }
  }

  private disposePlaceholders(): void {
    for (const d of this.placeholders) d.dispose();
    this.placeholders = [];
  }

  private async reportMissingServer(message: string): Promise<void> {
    this.output.appendLine(message);
    const install = 'Install instructions';
    const setPath = 'Set cudalens.server.path';
    const choice = await vscode.window.showErrorMessage(`cudalens: ${message}`, install, setPath);
    if (choice === install) {
      const readme = vscode.Uri.joinPath(this.context.extensionUri, 'README.md').with({ fragment: 'install' });
      await vscode.commands.executeCommand('markdown.showPreview', readme);
    } else if (choice === setPath) {
      await vscode.commands.executeCommand('workbench.action.openSettings', 'cudalens.server.path');
    }
  }
}
