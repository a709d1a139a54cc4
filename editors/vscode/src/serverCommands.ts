// The server's workspace/executeCommand commands the extension exposes, and
// how each answer is shown. Arguments are always [uri, kernel, position];
// the server reads the strings and ignores the position where it needs none.

export type ResultView = 'markdown' | 'wgsl';

export interface ServerCommand {
  id: string;
  title: string;
  view: ResultView;
}

export const SERVER_COMMANDS: readonly ServerCommand[] = [
  { id: 'cudalens.showOccupancyTable', title: 'Occupancy', view: 'markdown' },
  { id: 'cudalens.transpile', title: 'WGSL', view: 'wgsl' },
  { id: 'cudalens.benchmark', title: 'Benchmark', view: 'markdown' },
  { id: 'cudalens.autotune', title: 'Autotune', view: 'markdown' },
];

export function serverCommand(id: string): ServerCommand | undefined {
  return SERVER_COMMANDS.find((c) => c.id === id);
}

/** The text of an executeCommand answer: a string, a usual text field, else JSON. */
export function resultText(result: unknown): string | undefined {
  if (result === null || result === undefined) return undefined;
  if (typeof result === 'string') return result;
  if (typeof result === 'object') {
    for (const key of ['markdown', 'wgsl', 'text', 'value']) {
      const value = (result as Record<string, unknown>)[key];
      if (typeof value === 'string') return value;
    }
  }
  return '```json\n' + JSON.stringify(result, null, 2) + '\n```';
}
