// Where the `cudalens` executable comes from: the `cudalens.server.path`
// setting, else the binary bundled in the extension (platform-specific
// .vsix), else `cudalens` on PATH. Pure: the file system is passed in.
import * as path from 'node:path';

export type ServerSource = 'setting' | 'bundled' | 'path';

export type ServerResolution =
  | { ok: true; command: string; source: ServerSource }
  | { ok: false; message: string };

export interface ResolveInput {
  configuredPath: string | undefined;
  extensionPath: string;
  platform: NodeJS.Platform;
  envPath: string | undefined;
  homeDir: string;
  isExecutable: (file: string) => boolean;
}

export function executableName(platform: NodeJS.Platform): string {
  return platform === 'win32' ? 'cudalens.exe' : 'cudalens';
}

function expandHome(file: string, homeDir: string): string {
  return file === '~' || file.startsWith('~/') ? path.join(homeDir, file.slice(1)) : file;
}

export function resolveServer(input: ResolveInput): ServerResolution {
  const configured = input.configuredPath?.trim();
  if (configured) {
    const file = expandHome(configured, input.homeDir);
    return input.isExecutable(file)
      ? { ok: true, command: file, source: 'setting' }
      : { ok: false, message: `cudalens.server.path is set to "${configured}", which is not an executable file.` };
  }
  const name = executableName(input.platform);
  const bundled = path.join(input.extensionPath, 'bin', name);
  if (input.isExecutable(bundled)) return { ok: true, command: bundled, source: 'bundled' };
  const separator = input.platform === 'win32' ? ';' : ':';
  for (const dir of (input.envPath ?? '').split(separator)) {
    if (dir && input.isExecutable(path.join(dir, name))) {
      return { ok: true, command: path.join(dir, name), source: 'path' };
    }
  }
  return {
    ok: false,
    message: 'The cudalens language server was not found: it is not bundled with this extension, not on PATH, and cudalens.server.path is not set.',
  };
}
