; CUDA constructs cudalens cares about, as tree-sitter captures. Editors can use
; these to highlight kernels and launches; the grammar test checks they compile
; against the bundled tree-sitter-cuda grammar and capture what they say.

; __global__ / __device__ function names
(function_definition
  declarator: (function_declarator declarator: (identifier) @function.kernel))

; kernel<<<grid, block, smem, stream>>>(...)
(call_expression
  function: [(identifier) (template_function name: (identifier))] @function.launch
  (kernel_call_syntax) @launch.configuration)

; __launch_bounds__(N[, M])
(launch_bounds) @attribute.launch_bounds

; threadIdx.x, blockIdx.y, blockDim.z, gridDim.x
((field_expression
   argument: (identifier) @variable.builtin
   field: (field_identifier) @property.builtin)
 (#match? @variable.builtin "^(threadIdx|blockIdx|blockDim|gridDim)$"))

; barriers
((call_expression function: (identifier) @function.barrier)
 (#match? @function.barrier "^__syncthreads(_count|_and|_or)?$|^__syncwarp$"))
