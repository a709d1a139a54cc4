// Finding the kernel a command is about from documentSymbol's answer (the
// server marks kernels with `__global__` in the detail). Pure.

export interface Position {
  line: number;
  character: number;
}

export interface SymbolLike {
  name: string;
  detail?: string;
  kind: number;
  range: { start: Position; end: Position };
}

/** LSP SymbolKind.Function. */
const FUNCTION_KIND = 12;

function before(a: Position, b: Position): boolean {
  return a.line < b.line || (a.line === b.line && a.character <= b.character);
}

export function kernels(symbols: readonly SymbolLike[]): SymbolLike[] {
  return symbols.filter((s) => s.kind === FUNCTION_KIND && (s.detail ?? '').includes('__global__'));
}

/** The kernel whose range holds `position`, else the only kernel of the file. */
export function kernelAt(symbols: readonly SymbolLike[], position: Position): string | undefined {
  const all = kernels(symbols);
  const enclosing = all.find((k) => before(k.range.start, position) && before(position, k.range.end));
  if (enclosing) return enclosing.name;
  return all.length === 1 ? all[0]?.name : undefined;
}
