-- Loaded at startup when editors/nvim is on 'runtimepath': registers the
-- filetype, the :Cudalens* commands and enables the server. Set
-- vim.g.cudalens_auto_enable = false before startup to enable it yourself
-- (e.g. through require('cudalens').setup{...}).
if vim.g.loaded_cudalens then
  return
end
vim.g.loaded_cudalens = true

require('cudalens').register()
if vim.g.cudalens_auto_enable ~= false then
  vim.lsp.enable('cudalens')
end
