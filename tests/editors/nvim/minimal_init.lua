-- Minimal config for the Neovim tests and screenshot: only editors/nvim on
-- the runtimepath, the server binary from $CUDALENS_BIN.
local repo = assert(os.getenv('CUDALENS_REPO'), 'CUDALENS_REPO not set')
local bin = assert(os.getenv('CUDALENS_BIN'), 'CUDALENS_BIN not set')
vim.opt.runtimepath:prepend(repo .. '/editors/nvim')
vim.opt.swapfile = false
vim.opt.shadafile = 'NONE'
require('cudalens').setup({ cmd = { bin, 'lsp' }, settings = { nvcc = { path = '' } } })
