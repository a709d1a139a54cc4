-- :CudalensReport: `cudalens report` for the workspace of the current
-- buffer (the server's root, else the nearest project marker, else the
-- working directory), then the page opened in the browser (vim.ui.open on
-- Neovim 0.10+, else xdg-open / open).
local M = {}

local util = require('cudalens.util')

--- The cudalens binary: the running server's, else the configured one.
function M.binary(bufnr)
  local client = util.client(bufnr)
  local cmd = client and client.config.cmd
  if type(cmd) ~= 'table' then
    cmd = (vim.lsp.config and vim.lsp.config.cudalens or {}).cmd
  end
  return type(cmd) == 'table' and cmd[1] or 'cudalens'
end

function M.root(bufnr)
  local client = util.client(bufnr)
  return (client and client.root_dir)
    or vim.fs.root(bufnr, { '.cudalens', 'compile_commands.json', 'cudalens.toml', '.git' })
    or vim.fn.getcwd()
end

function M.open(page)
  if vim.ui.open then
    local _, err = vim.ui.open(page)
    if err then
      util.notify(('cannot open %s: %s'):format(page, err), vim.log.levels.WARN)
    end
    return
  end
  local opener = vim.fn.has('mac') == 1 and 'open' or 'xdg-open'
  if vim.fn.executable(opener) == 1 then
    vim.fn.jobstart({ opener, page }, { detach = true })
  else
    util.notify(('no %s: open %s in a browser'):format(opener, page), vim.log.levels.WARN)
  end
end

--- Writes `<root>/.cudalens/report.html`; `opts.open` (default true) opens
--- it. `on_done(err, page)` is called afterwards (used by the tests).
function M.run(opts, on_done)
  opts = opts or {}
  local bufnr = vim.api.nvim_get_current_buf()
  local root = M.root(bufnr)
  local page = vim.fs.joinpath(root, '.cudalens', 'report.html')
  local done = function(err)
    if err then
      util.notify('report: ' .. err, vim.log.levels.ERROR)
    else
      util.notify('wrote ' .. page)
      if opts.open ~= false then
        M.open(page)
      end
    end
    if on_done then
      on_done(err, page)
    end
  end
  local cmd = { M.binary(bufnr), 'report', '--workspace', root, '--output', page }
  local ok, err = pcall(vim.system, cmd, { text = true }, function(result)
    vim.schedule(function()
      if result.code == 0 then
        return done(nil)
      end
      local stderr = result.stderr or ''
      done(stderr:match('error: ([^\n]+)') or vim.trim(stderr) ~= '' and vim.trim(stderr) or ('exit ' .. result.code))
    end)
  end)
  if not ok then
    done(('cannot run %s: %s'):format(cmd[1], err))
  end
end

return M
