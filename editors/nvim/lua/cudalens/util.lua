-- Helpers shared by the commands: finding the client and the kernel under
-- the cursor, and showing text in a scratch window.
local M = {}

function M.notify(msg, level)
  vim.notify('cudalens: ' .. msg, level or vim.log.levels.INFO)
end

---@return vim.lsp.Client?
function M.client(bufnr)
  return vim.lsp.get_clients({ bufnr = bufnr, name = 'cudalens' })[1]
end

function M.offered_commands(client)
  local provider = client.server_capabilities.executeCommandProvider
  return provider and provider.commands or {}
end

function M.offers_command(client, command)
  return vim.tbl_contains(M.offered_commands(client), command)
end

--- A (row, byte column) of the buffer as an LSP position in the client's encoding.
function M.lsp_position(bufnr, row, col, encoding)
  local line = vim.api.nvim_buf_get_lines(bufnr, row, row + 1, false)[1] or ''
  return { line = row, character = vim.str_utfindex(line, encoding, math.min(col, #line), false) }
end

local function contains(range, pos)
  local s, e = range.start, range['end']
  local after_start = pos.line > s.line or (pos.line == s.line and pos.character >= s.character)
  local before_end = pos.line < e.line or (pos.line == e.line and pos.character <= e.character)
  return after_start and before_end
end

local function is_kernel(symbol)
  return symbol.kind == vim.lsp.protocol.SymbolKind.Function and (symbol.detail or ''):find('__global__', 1, true)
end

--- Calls `cb(name)` with the kernel whose body holds `position`; outside any
--- kernel, the only kernel of the file or the one the user picks.
function M.kernel_at(client, bufnr, position, cb)
  local params = { textDocument = vim.lsp.util.make_text_document_params(bufnr) }
  client:request('textDocument/documentSymbol', params, function(err, symbols)
    local kernels = vim.tbl_filter(is_kernel, (not err and symbols) or {})
    for _, k in ipairs(kernels) do
      if contains(k.range, position) then
        return cb(k.name)
      end
    end
    if #kernels <= 1 then
      return cb(kernels[1] and kernels[1].name)
    end
    vim.ui.select(vim.tbl_map(function(k) return k.name end, kernels), { prompt = 'Kernel' }, cb)
  end, bufnr)
end

--- The text of an executeCommand answer: a string, or an object with one of
--- the usual text fields, else its JSON.
function M.result_text(result)
  if result == nil or result == vim.NIL then
    return nil
  end
  if type(result) == 'string' then
    return result
  end
  for _, key in ipairs({ 'markdown', 'wgsl', 'text', 'value' }) do
    if type(result[key]) == 'string' then
      return result[key]
    end
  end
  return vim.json.encode(result)
end

--- Shows `text` in a scratch buffer named `name` (reused), in a split.
function M.show_scratch(name, text, filetype)
  local bufnr = vim.fn.bufnr(name)
  if bufnr == -1 then
    bufnr = vim.api.nvim_create_buf(false, true)
    vim.api.nvim_buf_set_name(bufnr, name)
    vim.bo[bufnr].bufhidden = 'hide'
  end
  vim.bo[bufnr].modifiable = true
  vim.api.nvim_buf_set_lines(bufnr, 0, -1, false, vim.split(text, '\n', { plain = true }))
  vim.bo[bufnr].modifiable = false
  vim.bo[bufnr].filetype = filetype
  local win = vim.fn.bufwinid(bufnr)
  if win == -1 then
    vim.cmd('botright split')
    vim.api.nvim_win_set_buf(0, bufnr)
  else
    vim.api.nvim_set_current_win(win)
  end
  return bufnr
end

return M
