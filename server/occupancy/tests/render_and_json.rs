//! The hover/CLI renderings and the JSON shape other crates rely on.

use cudalens_occupancy::{Arch, OccupancyInput, occupancy, render};
use serde_json::{Value, json};

fn h100() -> &'static Arch {
    Arch::parse("sm_90").unwrap()
}

#[test]
fn summary_lines() {
    let r = occupancy(h100(), &OccupancyInput::new(256, 64)).unwrap();
    assert_eq!(
        render::summary_line(&r),
        "occupancy 50% (32/64 warps) — limited by registers: 64/thread"
    );
    let r = occupancy(h100(), &OccupancyInput::new(256, 64).estimated_registers()).unwrap();
    assert_eq!(
        render::summary_line(&r),
        "occupancy 50% (32/64 warps) — limited by registers: ~64/thread (estimated)"
    );
    let r = occupancy(h100(), &OccupancyInput::new(1024, 16)).unwrap();
    assert_eq!(
        render::summary_line(&r),
        "occupancy 100% (64/64 warps) — limited by warps: 1024 threads/block"
    );
    let r = occupancy(h100(), &OccupancyInput::new(32, 16)).unwrap();
    assert_eq!(
        render::summary_line(&r),
        "occupancy 50% (32/64 warps) — limited by blocks per SM: 32 max"
    );
    let input = OccupancyInput::new(128, 32)
        .with_static_smem(4096)
        .with_dynamic_smem(45_056);
    let r = occupancy(h100(), &input).unwrap();
    assert_eq!(
        render::summary_line(&r),
        "occupancy 25% (16/64 warps) — limited by shared memory: 49,152 B/block"
    );
}

#[test]
fn markdown_table_names_each_limit_and_the_saving() {
    let r = occupancy(h100(), &OccupancyInput::new(256, 64)).unwrap();
    let table = render::markdown_table(&r);
    let expected = "\
**50%** on `sm_90`: 4 blocks/SM × 256 threads = 32/64 warps

| Limit | Blocks/SM | Notes |
|---|---:|---|
| Warps (8/block) | 8 | 64 warp slots per SM |
| Blocks per SM | 32 | hardware cap |
| Registers (64/thread) | **4** | use ≤ 48 registers/thread (save 16) to get 5 blocks/SM |
| Shared memory (1,024 B/block allocated) | 228 | carveout 8 KB |
";
    assert_eq!(table, expected);

    let input = OccupancyInput::new(128, 32).with_dynamic_smem(64 * 1024);
    let table = render::markdown_table(&occupancy(h100(), &input).unwrap());
    assert!(
        table.contains("| Shared memory (66,560 B/block allocated) | **3** | save 8,192 bytes of shared memory per block (≤ 57,344) to get 4 blocks/SM; needs the dynamic shared memory opt-in |"),
        "{table}"
    );
}

#[test]
fn json_has_the_agreed_top_level_shape() {
    let input = OccupancyInput::new(256, 64)
        .with_static_smem(4096)
        .estimated_registers();
    let value = serde_json::to_value(occupancy(h100(), &input).unwrap()).unwrap();
    let Value::Object(map) = &value else {
        panic!("not an object: {value}")
    };
    let mut keys: Vec<&str> = map.keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "active_blocks_per_sm",
            "active_warps_per_sm",
            "arch",
            "block",
            "dynamic_smem",
            "limiter",
            "limits",
            "max_warps_per_sm",
            "occupancy",
            "registers",
            "registers_estimated",
            "static_smem",
        ]
    );
    assert_eq!(value["arch"], "sm_90");
    assert_eq!(value["block"], 256);
    assert_eq!(value["registers"], 64);
    assert_eq!(value["registers_estimated"], true);
    assert_eq!(value["static_smem"], 4096);
    assert_eq!(value["dynamic_smem"], 0);
    assert_eq!(value["occupancy"], 0.5);
    assert_eq!(value["limiter"], "registers");
    assert_eq!(
        value["limits"]["registers"],
        json!({
            "blocks_per_sm": 4,
            "allocated_per_warp": 2048,
            "allocated_per_block": 16384,
            "next_step": {
                "blocks_per_sm": 5,
                "max_registers_per_thread": 48,
                "save_per_thread": 16,
                "sufficient": true
            }
        })
    );
    assert_eq!(
        value["limits"]["warps"],
        json!({"blocks_per_sm": 8, "warps_per_block": 8})
    );
    assert_eq!(
        value["limits"]["blocks_per_sm"],
        json!({"blocks_per_sm": 32})
    );
    assert_eq!(
        value["limits"]["shared_memory"]["allocated_per_block"],
        5120
    );
    assert_eq!(value["limits"]["shared_memory"]["carveout_bytes"], 32768);
    assert!(value["limits"].get("barriers").is_none());
}

#[test]
fn limiter_serde_names_are_stable() {
    use cudalens_occupancy::Limiter;
    for (limiter, name) in [
        (Limiter::Warps, "warps"),
        (Limiter::Blocks, "blocks_per_sm"),
        (Limiter::Registers, "registers"),
        (Limiter::SharedMemory, "shared_memory"),
        (Limiter::Barriers, "barriers"),
    ] {
        assert_eq!(serde_json::to_value(limiter).unwrap(), name);
        assert_eq!(limiter.as_str(), name);
        let back: Limiter = serde_json::from_value(json!(name)).unwrap();
        assert_eq!(back, limiter);
    }
}

#[test]
fn launch_errors_serialise_with_a_kind_tag() {
    let err = occupancy(h100(), &OccupancyInput::new(2048, 32)).unwrap_err();
    assert_eq!(
        serde_json::to_value(&err).unwrap(),
        json!({"kind": "too_many_threads", "threads": 2048, "max": 1024})
    );
    assert_eq!(
        err.to_string(),
        "2048 threads per block exceeds the maximum of 1024"
    );
}

#[test]
fn an_estimated_register_range_is_shown_as_a_range() {
    // 32–64 registers/thread for 256 threads: 8 blocks/SM at the low end
    // (the warps limit), 4 at the high end (the register file).
    let input = OccupancyInput::new(256, 32).estimated_register_range(64);
    let r = occupancy(h100(), &input).unwrap();
    assert_eq!(
        render::summary_line(&r),
        "occupancy 50%–100% (32–64/64 warps at 32–64 registers/thread, estimated) — limited by warps: 256 threads/block"
    );
    let expected = "\
**50%–100%** on `sm_90` (registers estimated 32–64/thread): 4–8 blocks/SM × 256 threads = 32–64/64 warps

| Limit | Blocks/SM | Notes |
|---|---:|---|
| Warps (8/block) | **8** | 64 warp slots per SM |
| Blocks per SM | 32 | hardware cap |
| Registers (32–64/thread, estimated) | 4–8 | use ≤ 24 registers/thread to get 9 blocks/SM (not enough alone) |
| Shared memory (1,024 B/block allocated) | 228 | carveout 8 KB |
";
    assert_eq!(render::markdown_table(&r), expected);
    let json = serde_json::to_value(&r).unwrap();
    assert_eq!(
        json["at_high_registers"],
        json!({
            "registers": 64,
            "register_blocks_per_sm": 4,
            "allocated_per_warp": 2048,
            "active_blocks_per_sm": 4,
            "active_warps_per_sm": 32,
            "occupancy": 0.5
        })
    );

    // A range that does not change the occupancy keeps one figure, but the
    // registers row still shows the range.
    let input = OccupancyInput::new(256, 16).estimated_register_range(24);
    let r = occupancy(h100(), &input).unwrap();
    assert_eq!(
        render::summary_line(&r),
        "occupancy 100% (64/64 warps) — limited by warps: 256 threads/block"
    );
    assert!(
        render::markdown_table(&r).contains(
            "| Registers (16–24/thread, estimated) | 10–16 | 512–768 per warp allocated |"
        ),
        "{}",
        render::markdown_table(&r)
    );

    // A high end the block cannot launch with at all: 0 blocks there.
    let input = OccupancyInput::new(1024, 32).estimated_register_range(255);
    let r = occupancy(h100(), &input).unwrap();
    let h = r.at_high_registers.as_ref().expect("high end");
    assert_eq!((h.register_blocks_per_sm, h.occupancy), (Some(0), 0.0));
    assert!(
        render::summary_line(&r).starts_with("occupancy 0%–100% (0–64/64 warps at 32–255"),
        "{}",
        render::summary_line(&r)
    );
}
