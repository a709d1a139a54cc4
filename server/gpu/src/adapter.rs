//! Hardware detection: which adapters wgpu sees, what they can do, and which
//! one we run on.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::GpuError;

/// Limits that matter for compute kernels.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdapterLimits {
    pub max_compute_workgroup_size_x: u32,
    pub max_compute_workgroup_size_y: u32,
    pub max_compute_workgroup_size_z: u32,
    pub max_compute_invocations_per_workgroup: u32,
    pub max_compute_workgroup_storage_size: u32,
    pub max_storage_buffer_binding_size: u64,
    pub max_buffer_size: u64,
    pub max_compute_workgroups_per_dimension: u32,
}

impl AdapterLimits {
    fn from_wgpu(l: &wgpu::Limits) -> Self {
        AdapterLimits {
            max_compute_workgroup_size_x: l.max_compute_workgroup_size_x,
            max_compute_workgroup_size_y: l.max_compute_workgroup_size_y,
            max_compute_workgroup_size_z: l.max_compute_workgroup_size_z,
            max_compute_invocations_per_workgroup: l.max_compute_invocations_per_workgroup,
            max_compute_workgroup_storage_size: l.max_compute_workgroup_storage_size,
            max_storage_buffer_binding_size: l.max_storage_buffer_binding_size,
            max_buffer_size: l.max_buffer_size,
            max_compute_workgroups_per_dimension: l.max_compute_workgroups_per_dimension,
        }
    }

    /// Whether a workgroup of this shape may be dispatched.
    pub fn allows_workgroup(&self, wg: [u32; 3]) -> bool {
        let invocations = u64::from(wg[0]) * u64::from(wg[1]) * u64::from(wg[2]);
        wg.iter().all(|&d| d >= 1)
            && wg[0] <= self.max_compute_workgroup_size_x
            && wg[1] <= self.max_compute_workgroup_size_y
            && wg[2] <= self.max_compute_workgroup_size_z
            && invocations <= u64::from(self.max_compute_invocations_per_workgroup)
    }
}

/// Optional features relevant to benchmarking and transpiled kernels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdapterFeatures {
    /// Compute-pass `timestamp_writes` (GPU timing).
    pub timestamp_query: bool,
    /// `write_timestamp` inside passes: timestamps between the dispatches
    /// of one pass (`TimingMethod::BetweenDispatches`).
    pub timestamp_query_inside_passes: bool,
    pub shader_f16: bool,
    pub shader_f64: bool,
    pub shader_int64: bool,
    pub subgroup: bool,
    /// `subgroupBarrier()` (SUBGROUP_BARRIER: what `__syncwarp()` becomes).
    #[serde(default)]
    pub subgroup_barrier: bool,
    /// Native `atomic<f32>` add/sub/exchange on storage buffers
    /// (SHADER_FLOAT32_ATOMIC: VK_EXT_shader_atomic_float, Metal 3).
    #[serde(default)]
    pub shader_float32_atomic: bool,
    /// 64-bit integer atomics on storage and workgroup memory
    /// (SHADER_INT64_ATOMIC_ALL_OPS: VK_KHR_shader_atomic_int64 with both
    /// buffer and shared atomics).
    #[serde(default)]
    pub shader_int64_atomics: bool,
}

impl AdapterFeatures {
    fn from_wgpu(f: wgpu::Features) -> Self {
        AdapterFeatures {
            timestamp_query: f.contains(wgpu::Features::TIMESTAMP_QUERY),
            timestamp_query_inside_passes: f
                .contains(wgpu::Features::TIMESTAMP_QUERY_INSIDE_PASSES),
            shader_f16: f.contains(wgpu::Features::SHADER_F16),
            shader_f64: f.contains(wgpu::Features::SHADER_F64),
            shader_int64: f.contains(wgpu::Features::SHADER_INT64),
            subgroup: f.contains(wgpu::Features::SUBGROUP),
            subgroup_barrier: f
                .contains(wgpu::Features::SUBGROUP | wgpu::Features::SUBGROUP_BARRIER),
            shader_float32_atomic: f.contains(wgpu::Features::SHADER_FLOAT32_ATOMIC),
            shader_int64_atomics: f.contains(wgpu::Features::SHADER_INT64_ATOMIC_ALL_OPS),
        }
    }

    /// The wgpu features we request when opening a device: every one of
    /// ours that the adapter has.
    pub(crate) fn to_wgpu(self) -> wgpu::Features {
        let mut f = wgpu::Features::empty();
        for (on, flag) in [
            (self.timestamp_query, wgpu::Features::TIMESTAMP_QUERY),
            (
                self.timestamp_query && self.timestamp_query_inside_passes,
                wgpu::Features::TIMESTAMP_QUERY_INSIDE_PASSES,
            ),
            (self.shader_f16, wgpu::Features::SHADER_F16),
            (self.shader_f64, wgpu::Features::SHADER_F64),
            (self.shader_int64, wgpu::Features::SHADER_INT64),
            (self.subgroup, wgpu::Features::SUBGROUP),
            (
                self.subgroup && self.subgroup_barrier,
                wgpu::Features::SUBGROUP_BARRIER,
            ),
            (
                self.shader_float32_atomic,
                wgpu::Features::SHADER_FLOAT32_ATOMIC,
            ),
            (
                self.shader_int64_atomics,
                wgpu::Features::SHADER_INT64_ATOMIC_ALL_OPS,
            ),
        ] {
            if on {
                f |= flag;
            }
        }
        f
    }
}

/// One adapter as wgpu reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdapterReport {
    pub name: String,
    /// `Vulkan`, `Metal`, `Dx12`, `Gl`, ...
    pub backend: String,
    /// `DiscreteGpu`, `IntegratedGpu`, `VirtualGpu`, `Cpu`, `Other`.
    pub device_type: String,
    pub vendor_id: u32,
    pub device_id: u32,
    pub driver: String,
    pub driver_info: String,
    pub subgroup_min_size: u32,
    pub subgroup_max_size: u32,
    pub features: AdapterFeatures,
    pub limits: AdapterLimits,
}

impl AdapterReport {
    /// The subgroup size when the adapter has exactly one (a transpiled
    /// kernel can then compile `warpSize` in as a constant).
    pub fn fixed_subgroup_size(&self) -> Option<u32> {
        (self.features.subgroup
            && self.subgroup_min_size == self.subgroup_max_size
            && self.subgroup_max_size > 0)
            .then_some(self.subgroup_max_size)
    }

    pub(crate) fn from_adapter(adapter: &wgpu::Adapter) -> Self {
        let info = adapter.get_info();
        AdapterReport {
            name: info.name,
            backend: format!("{:?}", info.backend),
            device_type: format!("{:?}", info.device_type),
            vendor_id: info.vendor,
            device_id: info.device,
            driver: info.driver,
            driver_info: info.driver_info,
            subgroup_min_size: info.subgroup_min_size,
            subgroup_max_size: info.subgroup_max_size,
            features: AdapterFeatures::from_wgpu(adapter.features()),
            limits: AdapterLimits::from_wgpu(&adapter.limits()),
        }
    }

    /// Higher is preferred: discrete > integrated > virtual > cpu > other.
    pub fn preference_rank(&self) -> u8 {
        match self.device_type.as_str() {
            "DiscreteGpu" => 4,
            "IntegratedGpu" => 3,
            "VirtualGpu" => 2,
            "Cpu" => 1,
            _ => 0,
        }
    }
}

/// All adapters found, and the one cudalens would run on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HardwareReport {
    pub adapters: Vec<AdapterReport>,
    /// Index into `adapters` of the selected adapter, if any.
    pub selected: Option<usize>,
    /// Why nothing was selected (no adapters / filter matched nothing).
    pub selection_error: Option<String>,
}

/// Picks the best adapter: the first whose name contains `preferred`
/// (case-insensitive) when given, else the highest [`AdapterReport::preference_rank`]
/// (ties: enumeration order).
pub fn select_adapter(
    adapters: &[AdapterReport],
    preferred: Option<&str>,
) -> Result<usize, GpuError> {
    if adapters.is_empty() {
        return Err(GpuError::NoAdapter(
            "wgpu enumerated no adapters (is a Vulkan driver installed? on CI: mesa-vulkan-drivers + libvulkan1)"
                .into(),
        ));
    }
    if let Some(wanted) = preferred.filter(|w| !w.is_empty()) {
        let needle = wanted.to_lowercase();
        return adapters
            .iter()
            .position(|a| a.name.to_lowercase().contains(&needle))
            .ok_or_else(|| GpuError::AdapterNotFound {
                wanted: wanted.to_string(),
                available: adapters
                    .iter()
                    .map(|a| a.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            });
    }
    let mut best = 0;
    for (i, a) in adapters.iter().enumerate() {
        if a.preference_rank() > adapters[best].preference_rank() {
            best = i;
        }
    }
    Ok(best)
}

/// Creates the wgpu instance we use everywhere: all compiled-in backends,
/// validation layers only when requested through `WGPU_*` env vars (they are
/// slow and not installed on CI).
pub(crate) fn new_instance() -> wgpu::Instance {
    let mut desc = wgpu::InstanceDescriptor::new_without_display_handle();
    desc.backends = wgpu::Backends::all();
    desc.flags = wgpu::InstanceFlags::empty().with_env();
    wgpu::Instance::new(desc)
}

/// Enumerates adapters and the reports describing them, in the same order.
pub(crate) fn enumerate(instance: &wgpu::Instance) -> Vec<(wgpu::Adapter, AdapterReport)> {
    pollster::block_on(instance.enumerate_adapters(wgpu::Backends::all()))
        .into_iter()
        .map(|a| {
            let report = AdapterReport::from_adapter(&a);
            (a, report)
        })
        .collect()
}

/// Detects all adapters and selects one (see [`select_adapter`]).
pub fn detect_hardware(preferred: Option<&str>) -> HardwareReport {
    let instance = new_instance();
    let adapters: Vec<AdapterReport> = enumerate(&instance).into_iter().map(|(_, r)| r).collect();
    let (selected, selection_error) = match select_adapter(&adapters, preferred) {
        Ok(i) => (Some(i), None),
        Err(e) => (None, Some(e.to_string())),
    };
    HardwareReport {
        adapters,
        selected,
        selection_error,
    }
}

fn yes_no(b: bool) -> &'static str {
    if b { "yes" } else { "no" }
}

impl fmt::Display for AdapterReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let l = &self.limits;
        let x = &self.features;
        writeln!(f, "{} ({}, {})", self.name, self.backend, self.device_type)?;
        writeln!(
            f,
            "  vendor/device id:     {:#06x}/{:#06x}",
            self.vendor_id, self.device_id
        )?;
        writeln!(
            f,
            "  driver:               {} {}",
            self.driver, self.driver_info
        )?;
        writeln!(
            f,
            "  max workgroup size:   {}x{}x{} ({} invocations)",
            l.max_compute_workgroup_size_x,
            l.max_compute_workgroup_size_y,
            l.max_compute_workgroup_size_z,
            l.max_compute_invocations_per_workgroup
        )?;
        writeln!(
            f,
            "  workgroup storage:    {} bytes",
            l.max_compute_workgroup_storage_size
        )?;
        writeln!(
            f,
            "  max storage binding:  {} bytes (max buffer {} bytes)",
            l.max_storage_buffer_binding_size, l.max_buffer_size
        )?;
        writeln!(
            f,
            "  workgroups per dim:   {}",
            l.max_compute_workgroups_per_dimension
        )?;
        writeln!(
            f,
            "  subgroup size:        {}..{}",
            self.subgroup_min_size, self.subgroup_max_size
        )?;
        write!(
            f,
            "  features:             timestamp_query={} subgroup={} shader_f16={} shader_f64={} float32_atomics={} int64_atomics={}",
            yes_no(x.timestamp_query),
            yes_no(x.subgroup),
            yes_no(x.shader_f16),
            yes_no(x.shader_f64),
            yes_no(x.shader_float32_atomic),
            yes_no(x.shader_int64_atomics)
        )
    }
}

impl fmt::Display for HardwareReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.adapters.is_empty() {
            writeln!(f, "no GPU adapters found")?;
        }
        for (i, a) in self.adapters.iter().enumerate() {
            let mark = if Some(i) == self.selected { "*" } else { " " };
            writeln!(f, "{mark} [{i}] {a}")?;
        }
        if let Some(e) = &self.selection_error {
            writeln!(f, "selection: {e}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn fake_adapter(name: &str, device_type: &str) -> AdapterReport {
        AdapterReport {
            name: name.into(),
            backend: "Vulkan".into(),
            device_type: device_type.into(),
            vendor_id: 0x10de,
            device_id: 0x2330,
            driver: "NVIDIA".into(),
            driver_info: "580.159.04".into(),
            subgroup_min_size: 32,
            subgroup_max_size: 32,
            features: AdapterFeatures {
                timestamp_query: true,
                timestamp_query_inside_passes: true,
                shader_f16: true,
                shader_f64: true,
                shader_int64: true,
                subgroup: true,
                subgroup_barrier: true,
                shader_float32_atomic: true,
                shader_int64_atomics: true,
            },
            limits: AdapterLimits {
                max_compute_workgroup_size_x: 1024,
                max_compute_workgroup_size_y: 1024,
                max_compute_workgroup_size_z: 64,
                max_compute_invocations_per_workgroup: 1024,
                max_compute_workgroup_storage_size: 49152,
                max_storage_buffer_binding_size: 1 << 31,
                max_buffer_size: 1 << 40,
                max_compute_workgroups_per_dimension: 65535,
            },
        }
    }

    #[test]
    fn prefers_discrete_then_integrated_then_virtual_then_cpu() {
        let adapters = vec![
            fake_adapter("llvmpipe", "Cpu"),
            fake_adapter("virgl", "VirtualGpu"),
            fake_adapter("Intel UHD", "IntegratedGpu"),
            fake_adapter("NVIDIA H100", "DiscreteGpu"),
        ];
        assert_eq!(select_adapter(&adapters, None), Ok(3));
        assert_eq!(select_adapter(&adapters[..3], None), Ok(2));
        assert_eq!(select_adapter(&adapters[..2], None), Ok(1));
    }

    #[test]
    fn name_filter_overrides_ranking_and_reports_misses() {
        let adapters = vec![
            fake_adapter("NVIDIA H100", "DiscreteGpu"),
            fake_adapter("llvmpipe (LLVM 15)", "Cpu"),
        ];
        assert_eq!(select_adapter(&adapters, Some("LLVMpipe")), Ok(1));
        let err = select_adapter(&adapters, Some("radeon")).unwrap_err();
        assert!(err.to_string().contains("NVIDIA H100, llvmpipe"), "{err}");
        assert!(matches!(
            select_adapter(&[], None),
            Err(GpuError::NoAdapter(_))
        ));
    }

    #[test]
    fn workgroup_limits_are_checked() {
        let l = fake_adapter("x", "Cpu").limits;
        assert!(l.allows_workgroup([1024, 1, 1]));
        assert!(!l.allows_workgroup([32, 64, 1]));
        assert!(!l.allows_workgroup([1, 1, 128]));
        assert!(!l.allows_workgroup([0, 1, 1]));
    }
}
