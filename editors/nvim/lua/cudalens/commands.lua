-- :CudalensOccupancy, :CudalensTranspile, :CudalensBenchmark, :CudalensAutotune
-- send workspace/executeCommand with the arguments [uri, kernel, position]
-- (the kernel under the cursor, found through documentSymbol) and show the
-- answer in a scratch window. :CudalensInlayHints toggles inlay hints;
-- :CudalensReport writes and opens the benchmark dashboard (report.lua).
local M = {}

local util = require('cudalens.util')

--- Server command -> how its answer is shown.
--- `background`: the server answers at once and reports through
--- window/showMessage, $/progress and window/showDocument (it writes the WGSL
--- file or the benchmark report and asks the editor to open it).
M.server_commands = {
  CudalensOccupancy = { command = 'cudalens.showOccupancyTable', filetype = 'markdown' },
  CudalensTranspile = { command = 'cudalens.transpile', filetype = 'wgsl', background = true },
  CudalensBenchmark = { command = 'cudalens.benchmark', filetype = 'markdown', background = true },
  CudalensAutotune = { command = 'cudalens.autotune', filetype = 'markdown', background = true },
}

local function spec_of(command)
  for _, spec in pairs(M.server_commands) do
    if spec.command == command then
      return spec
    end
  end
end

local function filetype_of(command)
  for _, spec in pairs(M.server_commands) do
    if spec.command == command then
      return spec.filetype
    end
  end
  return 'markdown'
end

--- Sends `command` with `arguments` and shows the answer; `on_done(err, text)`
--- is called afterwards (used by the tests).
function M.execute(client, bufnr, command, arguments, on_done)
  local params = { command = command, arguments = arguments }
  client:request('workspace/executeCommand', params, function(err, result)
    local text = err == nil and util.result_text(result) or nil
    local spec = spec_of(command)
    if err then
      util.notify(('%s failed: %s'):format(command, err.message or vim.inspect(err)), vim.log.levels.ERROR)
    elseif spec and spec.background then
      -- The server opens what it wrote (showDocument) and reports progress itself.
      if type(result) == 'table' and result.path then
        util.notify(('cudalens wrote %s'):format(result.path), vim.log.levels.INFO)
      end
    elseif not text then
      util.notify(command .. ': no result (is the cursor inside a kernel?)', vim.log.levels.WARN)
    else
      local kernel = type(arguments[2]) == 'string' and arguments[2] or 'result'
      util.show_scratch(('cudalens://%s/%s'):format(command, kernel), text, filetype_of(command))
    end
    if on_done then
      on_done(err, text)
    end
  end, bufnr)
end

--- Runs a server command for the kernel under the cursor of the current buffer.
function M.run(command, on_done)
  local bufnr = vim.api.nvim_get_current_buf()
  local client = util.client(bufnr)
  if not client then
    return util.notify('cudalens is not running for this buffer', vim.log.levels.ERROR)
  end
  if not util.offers_command(client, command) then
    return util.notify(
      ('this cudalens server does not offer %s yet (it offers: %s); update cudalens'):format(
        command,
        table.concat(util.offered_commands(client), ', ')
      ),
      vim.log.levels.ERROR
    )
  end
  local cursor = vim.api.nvim_win_get_cursor(0)
  local position = util.lsp_position(bufnr, cursor[1] - 1, cursor[2], client.offset_encoding)
  util.kernel_at(client, bufnr, position, function(kernel)
    if not kernel then
      return util.notify('no kernel in this file', vim.log.levels.WARN)
    end
    M.execute(client, bufnr, command, { vim.uri_from_bufnr(bufnr), kernel, position }, on_done)
  end)
end

function M.toggle_inlay_hints()
  local filter = { bufnr = vim.api.nvim_get_current_buf() }
  local enable = not vim.lsp.inlay_hint.is_enabled(filter)
  vim.lsp.inlay_hint.enable(enable, filter)
  util.notify('inlay hints ' .. (enable and 'on' or 'off'))
end

function M.define()
  for name, spec in pairs(M.server_commands) do
    vim.api.nvim_create_user_command(name, function()
      M.run(spec.command)
    end, { desc = 'cudalens: ' .. spec.command .. ' for the kernel under the cursor' })
  end
  vim.api.nvim_create_user_command('CudalensInlayHints', M.toggle_inlay_hints, {
    desc = 'cudalens: toggle inlay hints in this buffer',
  })
  vim.api.nvim_create_user_command('CudalensReport', function()
    require('cudalens.report').run()
  end, { desc = 'cudalens: the benchmark dashboard of this workspace, in the browser' })
  -- Code lenses carry cudalens.showOccupancyTable [uri, kernel]: handle it on
  -- the client so that the answer (Markdown) is shown instead of dropped.
  vim.lsp.commands['cudalens.showOccupancyTable'] = function(command, ctx)
    local client = vim.lsp.get_client_by_id(ctx.client_id)
    if client then
      M.execute(client, ctx.bufnr, command.command, command.arguments or {})
    end
  end
end

return M
