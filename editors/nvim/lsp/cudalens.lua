-- Neovim 0.11+ language server config for cudalens (`:h lsp-config`).
-- Found automatically once editors/nvim is on 'runtimepath'; override with
-- vim.lsp.config('cudalens', {...}) or require('cudalens').setup({...}).
---@type vim.lsp.Config
return {
  cmd = { 'cudalens', 'lsp' },
  -- C and C++ buffers too, but only headers: kernels live in them in most
  -- libraries (the server reports on a header only when it holds CUDA code).
  filetypes = { 'cuda', 'c', 'cpp' },
  root_dir = function(bufnr, on_dir)
    local name = vim.api.nvim_buf_get_name(bufnr)
    local header = name:match('%.h$') or name:match('%.hpp$') or name:match('%.hh$')
      or name:match('%.hxx$') or name:match('%.inl$')
    if vim.bo[bufnr].filetype ~= 'cuda' and not header then
      return
    end
    on_dir(vim.fs.root(bufnr, { 'compile_commands.json', 'cudalens.toml', '.git' }) or vim.fs.dirname(name))
  end,
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
