-- End-to-end test of editors/nvim in a real headless Neovim: diagnostics,
-- inlay hints, the "Pad" quick fix, code lenses and the :Cudalens* commands
-- (:CudalensReport on a history of a real benchmark run)
-- against the real cudalens binary. Run through tests/editors/nvim/run.sh.
-- Fails fast: the steps build on each other.
local file = assert(os.getenv('CUDALENS_TEST_FILE'), 'CUDALENS_TEST_FILE not set')
local TIMEOUT_MS = tonumber(os.getenv('CUDALENS_TEST_TIMEOUT_MS') or '20000')

local passed = 0

local function finish(failure)
  if failure then
    io.stdout:write('not ok - ' .. failure .. '\n')
  end
  io.stdout:write(('%d passed, %d failed\n'):format(passed, failure and 1 or 0))
  io.stdout:flush()
  -- The servers are stopped and waited for first: left to `qall!`, a
  -- server that had exited was written to after Neovim had dropped its
  -- signal handlers, and SIGPIPE ended Neovim (status 141) now and then.
  for _, client in ipairs(vim.lsp.get_clients()) do
    client:stop()
  end
  vim.wait(5000, function()
    return #vim.lsp.get_clients() == 0
  end, 50)
  vim.cmd(failure and 'cquit 1' or 'qall!')
end

--- Runs one named step; a failing step ends the test with its message.
local function step(name, fn)
  local ok, err = xpcall(fn, debug.traceback)
  if not ok then
    finish(name .. ': ' .. tostring(err))
  end
  passed = passed + 1
  io.stdout:write('ok - ' .. name .. '\n')
end

local function wait_for(what, condition)
  if not vim.wait(TIMEOUT_MS, condition, 50) then
    error(('timed out after %d ms waiting for %s'):format(TIMEOUT_MS, what), 2)
  end
end

local function lines()
  return vim.api.nvim_buf_get_lines(0, 0, -1, false)
end

--- 0-based first and last line of a function's body, found in the text.
local function function_lines(name)
  local all = lines()
  for i, l in ipairs(all) do
    if l:find('void ' .. name .. '(', 1, true) then
      for j = i + 1, #all do
        if all[j] == '}' then
          return i - 1, j - 1
        end
      end
    end
  end
  error('function ' .. name .. ' not found in the buffer')
end

local function line_of(text, from, to)
  for i = from, to do
    if lines()[i + 1]:find(text, 1, true) then
      return i
    end
  end
  error(('%q not found on lines %d-%d'):format(text, from, to))
end

local function bank_conflicts_on(lnum)
  return vim.tbl_filter(function(d)
    return d.source == 'cudalens' and d.code == 'bank-conflict' and d.lnum == lnum
  end, vim.diagnostic.get(0))
end

vim.cmd.edit(vim.fn.fnameescape(file))
local bufnr = vim.api.nvim_get_current_buf()
local client ---@type vim.lsp.Client
local first, last = function_lines('transpose_smem')
-- The transposed read `tile[threadIdx.x][threadIdx.y + j]` is the 32-way conflict.
local conflict_line = line_of('= tile[threadIdx.x][threadIdx.y + j];', first, last)
local diagnostic ---@type vim.Diagnostic

step('filetype is cuda and the cudalens client attaches', function()
  assert(vim.bo.filetype == 'cuda', 'filetype is ' .. vim.bo.filetype)
  wait_for('the cudalens client', function()
    client = require('cudalens.util').client(bufnr)
    return client ~= nil and client.initialized
  end)
end)

step('bank-conflict diagnostic from cudalens on the transposed read', function()
  wait_for('a bank-conflict diagnostic on line ' .. (conflict_line + 1), function()
    return #bank_conflicts_on(conflict_line) > 0
  end)
  diagnostic = bank_conflicts_on(conflict_line)[1]
  assert(diagnostic.message:find('32%-way'), 'expected a 32-way conflict, got: ' .. diagnostic.message)
  assert(diagnostic.severity <= vim.diagnostic.severity.WARN, 'severity ' .. diagnostic.severity)
end)

step('inlay hints: on when cudalens attaches, occupancy at the launches', function()
  assert(vim.lsp.inlay_hint.is_enabled({ bufnr = bufnr }), 'inlay hints are off after attach')
  local params = {
    textDocument = vim.lsp.util.make_text_document_params(bufnr),
    range = { start = { line = 0, character = 0 }, ['end'] = { line = #lines(), character = 0 } },
  }
  local response = assert(client:request_sync('textDocument/inlayHint', params, TIMEOUT_MS, bufnr))
  assert(not response.err, vim.inspect(response.err))
  local occupancy = vim.tbl_filter(function(h)
    return type(h.label) == 'string' and h.label:find('occupancy', 1, true)
  end, response.result or {})
  assert(#occupancy > 0, 'no occupancy hint in ' .. vim.inspect(response.result))
  -- And Neovim itself fetched and holds them for display.
  wait_for('inlay hints in the buffer', function()
    return #vim.lsp.inlay_hint.get({ bufnr = bufnr }) > 0
  end)
end)

step(':CudalensInlayHints toggles them', function()
  local notify = vim.notify
  vim.notify = function() end -- keep the test output readable
  vim.cmd('CudalensInlayHints')
  assert(not vim.lsp.inlay_hint.is_enabled({ bufnr = bufnr }), 'still enabled after toggle')
  vim.cmd('CudalensInlayHints')
  vim.notify = notify
  assert(vim.lsp.inlay_hint.is_enabled({ bufnr = bufnr }), 'not re-enabled after second toggle')
end)

step('code lens above transpose_smem runs cudalens.showOccupancyTable', function()
  wait_for('code lenses', function()
    return #vim.lsp.codelens.get(bufnr) > 0
  end)
  local lens = vim.iter(vim.lsp.codelens.get(bufnr)):find(function(l)
    return l.range.start.line == first and l.command
  end)
  assert(lens, 'no lens on line ' .. (first + 1) .. ': ' .. vim.inspect(vim.lsp.codelens.get(bufnr)))
  assert(lens.command.command == 'cudalens.showOccupancyTable', lens.command.command)
end)

step(':CudalensOccupancy shows the table for the kernel under the cursor', function()
  vim.api.nvim_win_set_cursor(0, { conflict_line + 1, 4 })
  local source_win = vim.api.nvim_get_current_win()
  vim.cmd('CudalensOccupancy')
  local name = 'cudalens://cudalens.showOccupancyTable/transpose_smem'
  wait_for('the occupancy table buffer', function()
    return vim.fn.bufnr(name) ~= -1
  end)
  local text = table.concat(vim.api.nvim_buf_get_lines(vim.fn.bufnr(name), 0, -1, false), '\n')
  assert(text:find('transpose_smem', 1, true), 'table does not name the kernel:\n' .. text)
  assert(text:find('Blocks/SM', 1, true), 'no occupancy table (Blocks/SM) in:\n' .. text)
  assert(text:find('sm_90', 1, true), 'the default arch sm_90 is not in:\n' .. text)
  vim.api.nvim_win_close(vim.fn.bufwinid(name), true)
  vim.api.nvim_set_current_win(source_win)
end)

step(':CudalensTranspile answers, or says the server does not offer it', function()
  local messages = {}
  local notify = vim.notify
  vim.notify = function(msg)
    table.insert(messages, msg)
  end
  vim.cmd('CudalensTranspile')
  vim.notify = notify
  if require('cudalens.util').offers_command(client, 'cudalens.transpile') then
    -- The server writes <file>.transpose_smem.wgsl and asks the editor to open it.
    wait_for('the WGSL file to open', function()
      for _, b in ipairs(vim.api.nvim_list_bufs()) do
        if vim.api.nvim_buf_get_name(b):find('%.transpose_smem%.wgsl$') then
          return true
        end
      end
      return false
    end)
    vim.api.nvim_set_current_buf(bufnr)
  else
    assert(messages[1] and messages[1]:find('does not offer cudalens.transpile', 1, true), vim.inspect(messages))
  end
end)

step('the "Pad" quick fix pads tile in transpose_smem', function()
  local applied = false
  vim.api.nvim_win_set_cursor(0, { conflict_line + 1, diagnostic.col })
  -- The user's path: vim.lsp.buf.code_action with one matching action applies it.
  vim.lsp.buf.code_action({
    context = { only = { 'quickfix' }, diagnostics = { diagnostic.user_data.lsp } },
    filter = function(action)
      return action.title:find('^Pad') ~= nil
    end,
    apply = true,
  })
  wait_for('the edit', function()
    applied = lines()[line_of('__shared__ float tile', first, last) + 1]:find('tile[TILE][TILE + 1]', 1, true) ~= nil
    return applied
  end)
end)

step('the conflict is gone after the edit (incremental sync)', function()
  wait_for('the bank-conflict diagnostic to clear', function()
    return #bank_conflicts_on(conflict_line) == 0
  end)
end)

step('a C++ header with kernels attaches and is analysed; a .cpp source does not attach', function()
  local dir = vim.fs.dirname(file)
  local header = dir .. '/kernels.hpp'
  vim.fn.writefile(vim.fn.readfile(file), header)
  vim.cmd.edit(vim.fn.fnameescape(header))
  local hbuf = vim.api.nvim_get_current_buf()
  wait_for('a bank-conflict diagnostic in the .hpp', function()
    return #vim.tbl_filter(function(d)
      return d.source == 'cudalens' and d.code == 'bank-conflict'
    end, vim.diagnostic.get(hbuf)) > 0
  end)
  local source = dir .. '/host.cpp'
  vim.fn.writefile({ 'int main() { return 0; }' }, source)
  vim.cmd.edit(vim.fn.fnameescape(source))
  vim.wait(500)
  assert(require('cudalens.util').client(0) == nil, 'cudalens attached to a .cpp source')
end)

step(':CudalensReport writes the dashboard of the workspace and opens it', function()
  -- A real benchmark run makes the history the page is made from.
  local dir = vim.fs.dirname(file)
  local kernel = assert(os.getenv('CUDALENS_REPO')) .. '/server/wgsl/tests/kernels/vector_add.cu'
  vim.fn.writefile(vim.fn.readfile(kernel), dir .. '/vector_add.cu')
  local bench = vim.system({ os.getenv('CUDALENS_BIN'), 'bench', 'vector_add.cu', '--kernel', 'vector_add',
    '--size', '4096', '--iterations', '3' }, { cwd = dir, text = true }):wait()
  assert(bench.code == 0, 'cudalens bench failed: ' .. (bench.stderr or ''))
  vim.cmd.edit(vim.fn.fnameescape(file))
  -- What the system's browser would get.
  local opened
  vim.ui.open = function(path)
    opened = path
    return nil, nil
  end
  vim.cmd('CudalensReport')
  wait_for('the report to be opened', function()
    return opened ~= nil
  end)
  assert(opened == vim.fs.joinpath(vim.fn.resolve(dir), '.cudalens', 'report.html')
    or opened == vim.fs.joinpath(dir, '.cudalens', 'report.html'), 'opened ' .. tostring(opened))
  local html = table.concat(vim.fn.readfile(opened), '\n')
  assert(html:find('<code>vector_add</code>', 1, true), 'the page lacks the kernel')
  assert(html:find('class="chart chart-time" data-points="1"', 1, true), 'the time chart lacks the run')

  -- A workspace without history: a clear error, nothing opened.
  local empty = vim.fn.tempname()
  vim.fn.mkdir(empty, 'p')
  vim.fn.writefile({ '__global__ void k() {}' }, empty .. '/k.cu')
  vim.cmd.edit(vim.fn.fnameescape(empty .. '/k.cu'))
  vim.cmd.cd(vim.fn.fnameescape(empty)) -- the workspace when no server or marker names one
  local err
  require('cudalens.report').run({}, function(e)
    err = e or false
  end)
  wait_for('the report to fail', function()
    return err ~= nil
  end)
  assert(type(err) == 'string' and err:find('no benchmark history at ' .. vim.fn.resolve(empty), 1, true)
    or err:find('no benchmark history at ' .. empty, 1, true), 'error: ' .. tostring(err))
end)

finish(nil)
