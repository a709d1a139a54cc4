//! Parser for the resource report of `nvcc --resource-usage` / `-Xptxas -v`
//! (`ptxas -v`), which ptxas writes to stderr:
//!
//! ```text
//! ptxas info    : 0 bytes gmem
//! ptxas info    : Compiling entry function '_Z6reduceILi256EEvPfS0_i' for 'sm_90'
//! ptxas info    : Function properties for _Z6reduceILi256EEvPfS0_i
//!     0 bytes stack frame, 0 bytes spill stores, 0 bytes spill loads
//! ptxas info    : Used 32 registers, used 1 barriers, 4096 bytes smem, 400 bytes cmem[0]
//! ptxas info    : Compile time = 4.332 ms
//! ```
//!
//! The items of the `Used` line come in different orders and subsets across
//! toolkit versions (no `cmem` on sm_90+, `used N barriers` since CUDA 12,
//! `N+M bytes smem` in old toolkits), so it is read item by item.

use serde::Serialize;

/// Resources ptxas reports for one function.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ResourceUsage {
    pub mangled_name: String,
    /// Qualified base name when derivable from the Itanium mangling
    /// (`_Z6reduceILi256EEvPfS0_i` -> `reduce`, `_ZN2ns6kernelEv` ->
    /// `ns::kernel`); the name itself for `extern "C"` kernels.
    pub demangled_name: Option<String>,
    /// Target as ptxas names it, e.g. `sm_90a`.
    pub arch: Option<String>,
    /// A `__global__` function (ptxas "Compiling entry function").
    pub is_entry: bool,
    pub registers: u32,
    pub barriers: u32,
    pub static_smem_bytes: u64,
    /// Sum over all constant banks (`cmem[N]`).
    pub constant_bytes: u64,
    pub stack_frame_bytes: u64,
    pub spill_store_bytes: u64,
    pub spill_load_bytes: u64,
}

impl ResourceUsage {
    pub fn spills(&self) -> bool {
        self.spill_store_bytes > 0 || self.spill_load_bytes > 0
    }
}

/// Every function with a `Used ...` line, in output order. Lines that are not
/// part of the report (compiler warnings, other tools) are ignored.
pub fn parse_ptxas_output(text: &str) -> Vec<ResourceUsage> {
    let mut parser = Parser::default();
    for line in text.lines() {
        parser.line(line);
    }
    parser.finish()
}

#[derive(Default)]
struct Parser {
    done: Vec<ResourceUsage>,
    current: Option<Current>,
    last_arch: Option<String>,
}

struct Current {
    usage: ResourceUsage,
    has_used_line: bool,
}

impl Parser {
    fn line(&mut self, line: &str) {
        let line = line.trim();
        let body = ptxas_info_body(line).unwrap_or(line);
        if let Some(rest) = body.strip_prefix("Compiling entry function") {
            let name = quoted(rest, 0).unwrap_or_default();
            let arch = quoted(rest, 1);
            if arch.is_some() {
                self.last_arch = arch.clone();
            }
            self.start(name, arch, true);
        } else if let Some(rest) = body.strip_prefix("Function properties for") {
            let name = rest.trim();
            let same = self
                .current
                .as_ref()
                .is_some_and(|c| c.usage.mangled_name == name);
            if !same {
                self.start(name.to_string(), self.last_arch.clone(), false);
            }
        } else if let Some(current) = &mut self.current {
            // Stack and `Used` lines belong to the function last named,
            // whichever order they come in.
            if body.contains("bytes stack frame") {
                read_stack_line(body, &mut current.usage);
            } else if starts_with_ignore_case(body, "used ") && body.contains("registers") {
                read_used_line(body, &mut current.usage);
                current.has_used_line = true;
            }
        }
    }

    fn start(&mut self, name: String, arch: Option<String>, is_entry: bool) {
        self.flush();
        self.current = Some(Current {
            usage: ResourceUsage {
                demangled_name: demangle_base_name(&name),
                mangled_name: name,
                arch,
                is_entry,
                ..ResourceUsage::default()
            },
            has_used_line: false,
        });
    }

    fn flush(&mut self) {
        if let Some(current) = self.current.take()
            && current.has_used_line
            && !current.usage.mangled_name.is_empty()
        {
            self.done.push(current.usage);
        }
    }

    fn finish(mut self) -> Vec<ResourceUsage> {
        self.flush();
        self.done
    }
}

/// The text after `ptxas info    :` (any spacing), if the line has that prefix.
fn ptxas_info_body(line: &str) -> Option<&str> {
    let rest = line.strip_prefix("ptxas")?.trim_start();
    let rest = rest.strip_prefix("info")?.trim_start();
    Some(rest.strip_prefix(':')?.trim())
}

fn starts_with_ignore_case(text: &str, prefix: &str) -> bool {
    text.get(..prefix.len())
        .is_some_and(|head| head.eq_ignore_ascii_case(prefix))
}

/// The `index`-th single-quoted string in `text`.
fn quoted(text: &str, index: usize) -> Option<String> {
    text.split('\'').nth(2 * index + 1).map(str::to_string)
}

/// `Used 32 registers, used 1 barriers, 4096 bytes smem, 400 bytes cmem[0]`
fn read_used_line(body: &str, usage: &mut ResourceUsage) {
    for item in body.split(',') {
        let words: Vec<&str> = item.split_whitespace().collect();
        match words.as_slice() {
            [used, n, "registers"] if used.eq_ignore_ascii_case("used") => {
                usage.registers = parse_number(n).unwrap_or(0);
            }
            [used, n, "barriers"] if used.eq_ignore_ascii_case("used") => {
                usage.barriers = parse_number(n).unwrap_or(0);
            }
            [n, "barriers"] => usage.barriers = parse_number(n).unwrap_or(0),
            [n, "bytes", "smem"] => usage.static_smem_bytes = parse_sum(n),
            [n, "bytes", bank] if bank.starts_with("cmem") => {
                usage.constant_bytes = usage.constant_bytes.saturating_add(parse_sum(n));
            }
            _ => {}
        }
    }
}

/// `16 bytes stack frame, 8 bytes spill stores, 8 bytes spill loads`
fn read_stack_line(body: &str, usage: &mut ResourceUsage) {
    for item in body.split(',') {
        let words: Vec<&str> = item.split_whitespace().collect();
        match words.as_slice() {
            [n, "bytes", "stack", "frame"] => usage.stack_frame_bytes = parse_sum(n),
            [n, "bytes", "spill", "stores"] => usage.spill_store_bytes = parse_sum(n),
            [n, "bytes", "spill", "loads"] => usage.spill_load_bytes = parse_sum(n),
            _ => {}
        }
    }
}

fn parse_number<T: std::str::FromStr>(text: &str) -> Option<T> {
    text.parse().ok()
}

/// `4096` or the old `4096+16` (static + system) form.
fn parse_sum(text: &str) -> u64 {
    text.split('+')
        .map(|part| parse_number::<u64>(part).unwrap_or(0))
        .fold(0, u64::saturating_add)
}

/// The function's qualified name without parameters or template arguments,
/// read from an Itanium mangled name; `None` when it is not that simple.
///
/// `_Z6kernelPfS_i` -> `kernel`, `_Z6reduceILi256EEvPfS0_i` -> `reduce`,
/// `_ZN2ns6kernelEv` -> `ns::kernel`, `_ZL6kernelv` -> `kernel`,
/// `my_c_kernel` -> `my_c_kernel`.
pub fn demangle_base_name(mangled: &str) -> Option<String> {
    let Some(encoding) = mangled.strip_prefix("_Z") else {
        let is_identifier = !mangled.is_empty()
            && mangled
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'$');
        return is_identifier.then(|| mangled.to_string());
    };
    // `L` marks internal linkage (a `static` function).
    let encoding = encoding.strip_prefix('L').unwrap_or(encoding);
    if let Some(nested) = encoding.strip_prefix('N') {
        // CV/ref qualifiers of member functions never apply to kernels, but
        // skip them so a mangled device member function still reads well.
        let mut rest = nested.trim_start_matches(['r', 'V', 'K']);
        let mut parts = Vec::new();
        while let Some((part, tail)) = source_name(rest) {
            parts.push(if part == "_GLOBAL__N_1" {
                "(anonymous namespace)"
            } else {
                part
            });
            rest = tail;
        }
        return (!parts.is_empty()).then(|| parts.join("::"));
    }
    source_name(encoding).map(|(name, _)| name.to_string())
}

/// `<length><identifier>` at the start of `text`.
fn source_name(text: &str) -> Option<(&str, &str)> {
    let digits = text.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 || digits > 6 {
        return None;
    }
    let len: usize = text[..digits].parse().ok()?;
    let rest = &text[digits..];
    if len == 0 || rest.len() < len || !rest.is_char_boundary(len) {
        return None;
    }
    Some(rest.split_at(len))
}

#[cfg(test)]
mod tests {
    use super::*;

    // CUDA 12.x, sm_89, two template instantiations (from a public blog post).
    const CUDA12_SM89: &str = "\
ptxas info    : 0 bytes gmem
ptxas info    : Compiling entry function '_Z21reduce_shuffle_kernelILj256EEvPKfmPf' for 'sm_89'
ptxas info    : Function properties for _Z21reduce_shuffle_kernelILj256EEvPKfmPf
    0 bytes stack frame, 0 bytes spill stores, 0 bytes spill loads
ptxas info    : Used 14 registers, used 1 barriers, 32 bytes smem, 376 bytes cmem[0]
ptxas info    : Compile time = 23.759 ms
ptxas info    : Compiling entry function '_Z13reduce_sharedILj256EEvPKfmPf' for 'sm_89'
ptxas info    : Function properties for _Z13reduce_sharedILj256EEvPKfmPf
    0 bytes stack frame, 0 bytes spill stores, 0 bytes spill loads
ptxas info    : Used 10 registers, used 1 barriers, 1024 bytes smem, 376 bytes cmem[0]
ptxas info    : Compile time = 5.1 ms
";

    #[test]
    fn parses_cuda12_report() {
        let usages = parse_ptxas_output(CUDA12_SM89);
        assert_eq!(usages.len(), 2);
        let first = &usages[0];
        assert_eq!(
            first.mangled_name,
            "_Z21reduce_shuffle_kernelILj256EEvPKfmPf"
        );
        assert_eq!(
            first.demangled_name.as_deref(),
            Some("reduce_shuffle_kernel")
        );
        assert_eq!(first.arch.as_deref(), Some("sm_89"));
        assert!(first.is_entry);
        assert_eq!(first.registers, 14);
        assert_eq!(first.barriers, 1);
        assert_eq!(first.static_smem_bytes, 32);
        assert_eq!(first.constant_bytes, 376);
        assert!(!first.spills());
        assert_eq!(usages[1].demangled_name.as_deref(), Some("reduce_shared"));
        assert_eq!(usages[1].static_smem_bytes, 1024);
    }

    #[test]
    fn parses_hopper_report_without_cmem_and_with_spills() {
        let text = "\
ptxas info    : Compiling entry function '_Z6reduceILi256EEvPfS0_i' for 'sm_90a'
ptxas info    : Function properties for _Z6reduceILi256EEvPfS0_i
    16 bytes stack frame, 8 bytes spill stores, 12 bytes spill loads
ptxas info    : Used 255 registers, used 16 barriers, 49152 bytes smem
";
        let usage = &parse_ptxas_output(text)[0];
        assert_eq!(usage.demangled_name.as_deref(), Some("reduce"));
        assert_eq!(usage.arch.as_deref(), Some("sm_90a"));
        assert_eq!(usage.registers, 255);
        assert_eq!(usage.barriers, 16);
        assert_eq!(usage.static_smem_bytes, 49152);
        assert_eq!(usage.constant_bytes, 0);
        assert_eq!(usage.stack_frame_bytes, 16);
        assert_eq!(usage.spill_store_bytes, 8);
        assert_eq!(usage.spill_load_bytes, 12);
        assert!(usage.spills());
    }

    #[test]
    fn accepts_reordered_items_and_blackwell_zero_barriers() {
        // Item order seen from a CUDA 12.8 sm_120 build; "used 0 barriers"
        // from CUDA 13.0 sm_100a.
        let text = "\
ptxas info    : Compiling entry function '_Z10gemm_naivePKfS0_Pfiii' for 'sm_120'
ptxas info    : Function properties for _Z10gemm_naivePKfS0_Pfiii
    16 bytes stack frame, 8 bytes spill stores, 8 bytes spill loads
ptxas info    : Used 37 registers, 4096 bytes smem, used 1 barriers, 384 bytes cmem[0]
ptxas info    : Compiling entry function '_Z15pipeline_kernelILi32EEv14CUtensorMap_stPKiiilPl' for 'sm_100a'
ptxas info    : Function properties for _Z15pipeline_kernelILi32EEv14CUtensorMap_stPKiiilPl
    0 bytes stack frame, 0 bytes spill stores, 0 bytes spill loads
ptxas info    : Used 40 registers, used 0 barriers
";
        let usages = parse_ptxas_output(text);
        assert_eq!(usages.len(), 2);
        assert_eq!(
            (
                usages[0].registers,
                usages[0].static_smem_bytes,
                usages[0].barriers
            ),
            (37, 4096, 1)
        );
        assert_eq!(usages[0].demangled_name.as_deref(), Some("gemm_naive"));
        assert_eq!(usages[1].arch.as_deref(), Some("sm_100a"));
        assert_eq!(usages[1].demangled_name.as_deref(), Some("pipeline_kernel"));
        assert_eq!((usages[1].registers, usages[1].barriers), (40, 0));
    }

    #[test]
    fn handles_used_line_before_stack_line_and_compact_prefix() {
        let text = "\
ptxas info : Compiling entry function '_Z9gemmYoursiiifPKfS0_fPf' for 'sm_89'
ptxas info : Function properties for _Z9gemmYoursiiifPKfS0_fPf
ptxas info : Used 80 registers, used 1 barriers, 6272 bytes smem, 400 bytes cmem[0]
                 4 bytes stack frame, 4 bytes spill stores, 4 bytes spill loads
";
        let usage = &parse_ptxas_output(text)[0];
        assert_eq!(usage.registers, 80);
        assert_eq!(usage.static_smem_bytes, 6272);
        assert_eq!(usage.spill_store_bytes, 4);
    }

    #[test]
    fn reads_old_toolkit_format_and_multiple_cmem_banks() {
        // CUDA <= 10: no barriers item, `static+system` smem, several banks.
        let text = "\
ptxas info    : Compiling entry function 'saxpy' for 'sm_70'
ptxas info    : Function properties for saxpy
    0 bytes stack frame, 0 bytes spill stores, 0 bytes spill loads
ptxas info    : Used 8 registers, 4096+0 bytes smem, 356 bytes cmem[0], 8 bytes cmem[2]
";
        let usage = &parse_ptxas_output(text)[0];
        assert_eq!(usage.demangled_name.as_deref(), Some("saxpy"));
        assert_eq!(usage.registers, 8);
        assert_eq!(usage.barriers, 0);
        assert_eq!(usage.static_smem_bytes, 4096);
        assert_eq!(usage.constant_bytes, 364);
    }

    #[test]
    fn keeps_device_functions_with_a_used_line_and_drops_the_rest() {
        let text = "\
ptxas info    : Function properties for _Z6helperf
    8 bytes stack frame, 0 bytes spill stores, 0 bytes spill loads
ptxas info    : Compiling entry function '_Z6kernelPfS_i' for 'sm_90'
ptxas info    : Function properties for _Z6kernelPfS_i
    0 bytes stack frame, 0 bytes spill stores, 0 bytes spill loads
ptxas info    : Used 32 registers, used 1 barriers, 4096 bytes smem, 400 bytes cmem[0]
ptxas info    : Function properties for _Z8rdc_funcv
    0 bytes stack frame, 0 bytes spill stores, 0 bytes spill loads
ptxas info    : Used 12 registers
";
        let usages = parse_ptxas_output(text);
        assert_eq!(usages.len(), 2);
        assert_eq!(usages[0].mangled_name, "_Z6kernelPfS_i");
        assert!(usages[0].is_entry);
        assert_eq!(usages[1].demangled_name.as_deref(), Some("rdc_func"));
        assert!(!usages[1].is_entry);
        assert_eq!(usages[1].arch.as_deref(), Some("sm_90"));
    }

    #[test]
    fn ignores_noise_and_garbage() {
        let text = "\
kernel.cu(12): warning #177-D: variable \"x\" was declared but never referenced
ptxas warning : Registers are spilled to local memory in function '_Z1kv', 8 bytes spill stores, 8 bytes spill loads
ptxas info    : Used 12 registers
ptxas info    : Compiling entry function
ptxas info    : Used registers, bytes smem
ptxas info    : Compiling entry function '_Z1kv' for 'sm_90'
ptxas info    : Used 99999999999999999999 registers, 99999999999999999999999 bytes smem
";
        let usages = parse_ptxas_output(text);
        assert_eq!(usages.len(), 1);
        assert_eq!(usages[0].mangled_name, "_Z1kv");
        assert_eq!(usages[0].registers, 0);
        assert_eq!(usages[0].static_smem_bytes, 0);
        assert!(parse_ptxas_output("").is_empty());
    }

    #[test]
    fn demangles_base_names() {
        let cases = [
            ("_Z6kernelPfS_i", Some("kernel")),
            ("_Z6reduceILi256EEvPfS0_i", Some("reduce")),
            ("_ZN2ns6kernelEv", Some("ns::kernel")),
            (
                "_ZN4cuda7kernels6reduceILi8EEEvPf",
                Some("cuda::kernels::reduce"),
            ),
            (
                "_ZN12_GLOBAL__N_16kernelEv",
                Some("(anonymous namespace)::kernel"),
            ),
            ("_ZL6kernelv", Some("kernel")),
            ("my_c_kernel", Some("my_c_kernel")),
            ("_Z", None),
            ("_Z99abc", None),
            ("_Z0v", None),
            ("", None),
            ("weird name", None),
        ];
        for (mangled, expected) in cases {
            assert_eq!(
                demangle_base_name(mangled).as_deref(),
                expected,
                "{mangled}"
            );
        }
    }
}
