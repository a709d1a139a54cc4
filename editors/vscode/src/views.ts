// Showing command answers: Markdown in a webview (rendered by VS Code's
// built-in Markdown extension), WGSL in an editor beside the source.
import * as vscode from 'vscode';

const panels = new Map<string, vscode.WebviewPanel>();

function escapeHtml(text: string): string {
  return text.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c] ?? c);
}

async function markdownToHtml(markdown: string): Promise<string> {
  try {
    // Provided by the built-in markdown-language-features extension.
    const html = await vscode.commands.executeCommand<string>('markdown.api.render', markdown);
    if (typeof html === 'string') return html;
  } catch {
    // Markdown extension disabled: fall through to plain text.
  }
  return `<pre>${escapeHtml(markdown)}</pre>`;
}

export async function showMarkdown(title: string, markdown: string): Promise<void> {
  let panel = panels.get(title);
  if (!panel) {
    panel = vscode.window.createWebviewPanel('cudalens.result', title, vscode.ViewColumn.Beside, {
      enableScripts: false,
      enableFindWidget: true,
    });
    panel.onDidDispose(() => panels.delete(title));
    panels.set(title, panel);
  }
  const body = await markdownToHtml(markdown);
  panel.webview.html = `<!DOCTYPE html><html><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline';">
<style>
  body { font-family: var(--vscode-font-family); color: var(--vscode-foreground); padding: 0 1em; }
  table { border-collapse: collapse; } th, td { border: 1px solid var(--vscode-panel-border); padding: 2px 8px; }
  code, pre { font-family: var(--vscode-editor-font-family); }
</style></head><body class="cudalens-result">${body}</body></html>`;
  panel.reveal(vscode.ViewColumn.Beside, true);
}

export async function showCode(text: string, language: string): Promise<void> {
  const known = await vscode.languages.getLanguages();
  const doc = await vscode.workspace.openTextDocument({
    content: text,
    language: known.includes(language) ? language : 'plaintext',
  });
  await vscode.window.showTextDocument(doc, { viewColumn: vscode.ViewColumn.Beside, preview: true });
}
