-- Keeps code lenses (occupancy above each kernel) fresh; opt out with
-- vim.g.cudalens_codelens = false or setup{codelens = false}.
local M = {}

function M.attach_autocmds()
  local group = vim.api.nvim_create_augroup('cudalens_codelens', { clear = true })
  vim.api.nvim_create_autocmd('LspAttach', {
    group = group,
    callback = function(args)
      local client = vim.lsp.get_client_by_id(args.data.client_id)
      if not client or client.name ~= 'cudalens' or vim.g.cudalens_codelens == false then
        return
      end
      vim.lsp.codelens.refresh({ bufnr = args.buf })
      vim.api.nvim_create_autocmd({ 'BufEnter', 'InsertLeave', 'BufWritePost' }, {
        group = group,
        buffer = args.buf,
        callback = function()
          vim.lsp.codelens.refresh({ bufnr = args.buf })
        end,
      })
    end,
  })
end

return M
