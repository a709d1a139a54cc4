// Arguments for a server command run from the palette or a keybinding:
// [uri, kernel under the cursor, position]. Code lenses bring their own.
import * as vscode from 'vscode';
import { DocumentSymbolRequest, type DocumentSymbol, type LanguageClient } from 'vscode-languageclient/node';
import { kernelAt, kernels } from './kernels';

export async function argumentsAtCursor(client: LanguageClient): Promise<unknown[] | undefined> {
  const editor = vscode.window.activeTextEditor;
  if (!editor) {
    void vscode.window.showWarningMessage('cudalens: open a CUDA file and put the cursor in a kernel.');
    return undefined;
  }
  const uri = client.code2ProtocolConverter.asUri(editor.document.uri);
  const position = client.code2ProtocolConverter.asPosition(editor.selection.active);
  const answer = await client.sendRequest(DocumentSymbolRequest.type, { textDocument: { uri } });
  const symbols = (answer ?? []).filter((s): s is DocumentSymbol => 'range' in s);
  let kernel = kernelAt(symbols, position);
  if (!kernel) {
    const names = kernels(symbols).map((k) => k.name);
    if (names.length === 0) {
      void vscode.window.showWarningMessage('cudalens: no kernel in this file.');
      return undefined;
    }
    kernel = await vscode.window.showQuickPick(names, { placeHolder: 'Kernel' });
    if (!kernel) return undefined;
  }
  return [uri, kernel, position];
}
