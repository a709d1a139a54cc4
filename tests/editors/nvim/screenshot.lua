-- Screenshot layout (after minimal_init.lua): the conflicting transpose with
-- its diagnostic and code lens on top, the launches with their occupancy
-- inlay hints below.
vim.o.termguicolors = true
vim.o.number = true
vim.o.laststatus = 0
vim.o.cmdheight = 0
vim.cmd.colorscheme('default')
vim.diagnostic.config({ virtual_text = { prefix = '●' }, underline = true, signs = true })
vim.lsp.inlay_hint.enable(true)

local function line_of(pattern)
  for i, l in ipairs(vim.api.nvim_buf_get_lines(0, 0, -1, false)) do
    if l:find(pattern, 1, true) then
      return i
    end
  end
  return 1
end

vim.api.nvim_create_autocmd('LspAttach', {
  once = true,
  callback = function()
    vim.defer_fn(function()
      vim.cmd('topleft split')
      vim.api.nvim_win_set_height(0, 14)
      vim.cmd(('normal! %dGzt'):format(line_of('void transpose_smem(')))
      vim.cmd('wincmd j')
      vim.cmd(('normal! %dGzt'):format(line_of('transpose_smem<<<') - 1))
    end, 200)
  end,
})
