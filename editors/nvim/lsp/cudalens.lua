-- Neovim 0.11+ language server config for cudalens (`:h lsp-config`).
-- Found automatically once editors/nvim is on 'runtimepath'; override with
-- vim.lsp.config('cudalens', {...}) or require('cudalens').setup({...}).
---@type vim.lsp.Config
return {
  cmd = { 'cudalens', 'lsp' },
  filetypes = { 'cuda' },
  root_markers = { 'compile_commands.json', 'cudalens.toml', '.git' },
  -- Sent to the server through workspace/configuration; the keys and defaults
  -- are those of server/cudalens/settings.schema.json (a test in
  -- server/ide/src/settings.rs checks these defaults).
  settings = {
    cudalens = {
      arch = 'sm_90',
      defaultBlockSize = 256,
      includePaths = {},
      defines = {},
      disabledRules = {},
      occupancyThreshold = 0.5,
      inlayHints = { enable = true, accessCost = false },
      maxFileSizeMB = 8,
      hibernateAfterSeconds = 30,
      keepAnalyzedDocuments = 3,
    },
  },
}
