-- Public entry point: require('cudalens').setup(opts).
--   opts.cmd       command that starts the server (default {'cudalens', 'lsp'})
--   opts.settings  merged into settings.cudalens (see lsp/cudalens.lua)
--   opts.codelens  refresh code lenses on open/save (default true)
local M = {}

local registered = false

--- Filetype, user commands and autocommands; safe to call more than once.
function M.register()
  if registered then
    return
  end
  registered = true
  -- Neovim already maps .cu; make sure headers (.cuh) get the same filetype.
  vim.filetype.add({ extension = { cu = 'cuda', cuh = 'cuda' } })
  require('cudalens.commands').define()
  require('cudalens.codelens').attach_autocmds()
end

---@param opts? {cmd?: string[], settings?: table, codelens?: boolean}
function M.setup(opts)
  opts = opts or {}
  M.register()
  local override = {}
  if opts.cmd then
    override.cmd = opts.cmd
  end
  if opts.settings then
    override.settings = { cudalens = opts.settings }
  end
  if opts.codelens ~= nil then
    vim.g.cudalens_codelens = opts.codelens
  end
  vim.lsp.config('cudalens', override)
  vim.lsp.enable('cudalens')
end

return M
