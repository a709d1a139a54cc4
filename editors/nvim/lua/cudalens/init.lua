-- Public entry point: require('cudalens').setup(opts).
--   opts.cmd       command that starts the server (default {'cudalens', 'lsp'})
--   opts.settings  merged into settings.cudalens (see lsp/cudalens.lua)
--   opts.codelens  refresh code lenses on open/save (default true)
--   opts.inlay_hints  show inlay hints (occupancy after launches) when the server attaches (default true)
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
  -- Inlay hints are half of what cudalens shows: on by default in its buffers
  -- (Neovim leaves them off); opt out with vim.g.cudalens_inlay_hints = false.
  vim.api.nvim_create_autocmd('LspAttach', {
    group = vim.api.nvim_create_augroup('cudalens_inlay_hints', { clear = true }),
    callback = function(args)
      local client = vim.lsp.get_client_by_id(args.data.client_id)
      if client and client.name == 'cudalens' and vim.g.cudalens_inlay_hints ~= false then
        vim.lsp.inlay_hint.enable(true, { bufnr = args.buf })
      end
    end,
  })
end

---@param opts? {cmd?: string[], settings?: table, codelens?: boolean, inlay_hints?: boolean}
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
  if opts.inlay_hints ~= nil then
    vim.g.cudalens_inlay_hints = opts.inlay_hints
  end
  vim.lsp.config('cudalens', override)
  vim.lsp.enable('cudalens')
end

return M
