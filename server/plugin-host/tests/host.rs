//! Integration tests: the host against real child processes (Python test plugins).

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use cudalens_plugin_host::protocol::{
    BenchResult, KernelModel, Position, Range, TuneParams, Variant,
};
use cudalens_plugin_host::{
    BenchmarkRequest, HostSettings, NoBenchmarks, PluginConfig, PluginError, PluginHost,
    PluginSpec, PluginState,
};
use serde_json::{Value, json};

fn test_plugin() -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/plugins/test_plugin.py")
        .to_string_lossy()
        .into_owned()
}

fn spec(name: &str, mode: &str, counter: Option<&Path>) -> PluginSpec {
    let mut args = vec![test_plugin(), mode.to_owned()];
    args.extend(counter.map(|c| c.to_string_lossy().into_owned()));
    PluginSpec::user(name, "python3", args)
}

fn temp_dir(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("cudalens-host-test-{}-{tag}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn starts(counter: &Path) -> usize {
    std::fs::read_to_string(counter)
        .map(|s| s.lines().count())
        .unwrap_or(0)
}

fn settings() -> HostSettings {
    HostSettings {
        analyze_timeout: Duration::from_secs(10),
        initialize_timeout: Duration::from_secs(10),
        ..HostSettings::default()
    }
}

fn host(plugins: Vec<PluginSpec>, settings: HostSettings) -> PluginHost {
    PluginHost::new(
        PluginConfig {
            plugins,
            notices: vec![],
        },
        settings,
        Arc::new(NoBenchmarks),
    )
}

fn kernel() -> KernelModel {
    serde_json::from_value(json!({
        "name": "saxpy",
        "uri": "file:///w/saxpy.cu",
        "source": "__global__ void saxpy(int n, float a, float* x, float* y) { }",
        "range": {"start": {"line": 3, "character": 0}, "end": {"line": 3, "character": 60}},
        "block": [256, 1, 1],
        "parameters": [{"name": "n", "type": "int"}],
        "target_arch": "sm_90",
        "adapter": null
    }))
    .expect("a kernel model")
}

fn state_of(host: &PluginHost, name: &str) -> PluginState {
    host.status()
        .into_iter()
        .find(|s| s.name == name)
        .unwrap()
        .state
}

#[tokio::test]
async fn good_plugin_answers_with_its_name_as_source() {
    let host = host(vec![spec("good", "good", None)], settings());
    let report = host.analyze(&kernel()).await;
    assert!(report.failures.is_empty(), "{:?}", report.failures);
    let (source, diagnostic) = report.diagnostics().next().unwrap();
    assert_eq!(source, "good");
    assert_eq!(diagnostic.message, "saw kernel saxpy");
    assert_eq!(diagnostic.range.start, Position::new(3, 0));
    let status = &host.status()[0];
    assert_eq!(status.state, PluginState::Running);
    assert_eq!(status.version.as_deref(), Some("0.0.1"));
    let log = host.log_tail("good", 10);
    assert!(log.iter().any(|l| l.contains("hello from log")), "{log:?}");
    host.shutdown().await;
    assert_eq!(state_of(&host, "good"), PluginState::Stopped);
}

#[tokio::test]
async fn crashing_plugin_is_restarted_a_bounded_number_of_times_then_disabled() {
    let dir = temp_dir("crash");
    let counter = dir.join("starts");
    let settings = HostSettings {
        max_restarts: 3,
        ..settings()
    };
    let host = host(
        vec![
            spec("crashy", "crash", Some(&counter)),
            spec("good", "good", None),
        ],
        settings,
    );
    for round in 0..6 {
        let report = host.analyze(&kernel()).await;
        // The good plugin keeps serving whatever its neighbour does.
        assert_eq!(report.results.len(), 1, "round {round}");
        assert_eq!(report.results[0].source, "good");
        if round < 4 {
            let failure = &report.failures[0];
            assert_eq!(failure.plugin, "crashy");
            let PluginError::Failed(message) = &failure.error else {
                panic!("{failure:?}")
            };
            assert!(message.contains("exited"), "{message}");
            assert!(
                message.contains("simulated crash"),
                "stderr tail missing: {message}"
            );
        } else {
            assert!(
                report.failures.is_empty(),
                "disabled plugins are skipped: {:?}",
                report.failures
            );
        }
    }
    assert_eq!(starts(&counter), 4, "one start plus three restarts");
    let status = host
        .status()
        .into_iter()
        .find(|s| s.name == "crashy")
        .unwrap();
    assert_eq!(status.restarts, 3);
    let PluginState::Disabled { reason } = status.state else {
        panic!("{status:?}")
    };
    assert!(reason.contains("disabled after 3 restarts"), "{reason}");
    // Re-enabling gives a fresh budget.
    assert!(host.set_enabled("crashy", true).await);
    assert_eq!(state_of(&host, "crashy"), PluginState::NotStarted);
    assert_eq!(host.status()[0].restarts, 0);
}

#[tokio::test]
async fn hanging_plugin_does_not_block_past_the_timeout() {
    let timeout = Duration::from_millis(400);
    let settings = HostSettings {
        analyze_timeout: timeout,
        max_restarts: 1,
        ..settings()
    };
    let host = host(
        vec![spec("hangs", "hang", None), spec("good", "good", None)],
        settings,
    );
    host.start().await; // keep interpreter start-up out of the measured time
    let started = Instant::now();
    let report = host.analyze(&kernel()).await;
    let elapsed = started.elapsed();
    assert!(
        elapsed < timeout + Duration::from_millis(600),
        "took {elapsed:?}"
    );
    assert_eq!(report.results.len(), 1);
    assert!(
        matches!(report.failures[0].error, PluginError::Timeout { .. }),
        "{:?}",
        report.failures
    );
    assert_eq!(state_of(&host, "hangs"), PluginState::Restarting);
    let report = host.analyze(&kernel()).await; // restart 1 of 1 also times out
    assert!(
        matches!(&report.failures[0].error, PluginError::Failed(m) if m.contains("now disabled"))
    );
    assert!(matches!(
        state_of(&host, "hangs"),
        PluginState::Disabled { .. }
    ));
}

#[tokio::test]
async fn malformed_output_is_a_fault() {
    let settings = HostSettings {
        max_restarts: 0,
        ..settings()
    };
    let modes = ["garbage", "badjson", "badresult"];
    let host = host(modes.iter().map(|m| spec(m, m, None)).collect(), settings);
    let report = host.analyze(&kernel()).await;
    assert_eq!(report.failures.len(), 3, "{report:?}");
    for failure in &report.failures {
        let PluginError::Failed(message) = &failure.error else {
            panic!("{failure:?}")
        };
        assert!(
            message.contains("malformed") || message.contains("invalid"),
            "{message}"
        );
        assert!(message.contains("now disabled"), "{message}");
    }
    for mode in modes {
        assert!(matches!(
            state_of(&host, mode),
            PluginState::Disabled { .. }
        ));
    }
}

#[tokio::test]
async fn incompatible_protocol_version_disables_without_restarts() {
    let host = host(vec![spec("old", "oldprotocol", None)], settings());
    host.start().await;
    let status = &host.status()[0];
    assert_eq!(status.restarts, 0);
    let PluginState::Disabled { reason } = &status.state else {
        panic!("{status:?}")
    };
    assert!(reason.contains("0.9"), "{reason}");
}

#[tokio::test]
async fn missing_executable_is_reported_and_disabled() {
    let settings = HostSettings {
        max_restarts: 1,
        ..settings()
    };
    let host = host(
        vec![PluginSpec::user(
            "ghost",
            "/nonexistent/cudalens-plugin",
            vec![],
        )],
        settings,
    );
    for _ in 0..3 {
        let _ = host.analyze(&kernel()).await;
    }
    let status = &host.status()[0];
    let PluginState::Disabled { reason } = &status.state else {
        panic!("{status:?}")
    };
    assert!(reason.contains("could not start"), "{reason}");
}

#[tokio::test]
async fn user_can_disable_and_enable_a_plugin() {
    let host = host(vec![spec("good", "good", None)], settings());
    assert!(host.set_enabled("good", false).await);
    assert_eq!(state_of(&host, "good"), PluginState::DisabledByUser);
    assert!(host.analyze(&kernel()).await.results.is_empty());
    assert!(host.set_enabled("good", true).await);
    assert_eq!(host.analyze(&kernel()).await.results.len(), 1);
    assert!(!host.set_enabled("nope", true).await);
}

fn tune_params() -> TuneParams {
    TuneParams {
        kernel: kernel(),
        declaration_range: Range::new(Position::new(3, 0), Position::new(3, 16)),
        declaration_text: "__global__ void ".into(),
        ..TuneParams::default()
    }
}

#[tokio::test]
async fn tune_routes_benchmark_callbacks_to_the_service() {
    let seen: Arc<Mutex<Vec<(String, String, Variant)>>> = Arc::default();
    let recorder = seen.clone();
    let bench = move |request: BenchmarkRequest| {
        recorder.lock().unwrap().push((
            request.plugin.clone(),
            request.tune.kernel.name.clone(),
            request.variant.clone(),
        ));
        async move {
            let ms = if request.variant.block[0] == 256 {
                0.5
            } else {
                0.9
            };
            BenchResult::success(ms, Some(100.0))
        }
    };
    let host = PluginHost::new(
        PluginConfig {
            plugins: vec![spec("good", "good", None)],
            notices: vec![],
        },
        settings(),
        Arc::new(bench),
    );
    let outcome = host.tune(None, &tune_params()).await.unwrap();
    assert_eq!(outcome.source, "good");
    assert_eq!(outcome.result.recommendation.block, [256, 1, 1]);
    assert_eq!(outcome.result.table.len(), 2);
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 2);
    assert_eq!(seen[0].0, "good");
    assert_eq!(seen[0].1, "saxpy");
    let unknown = host.tune(Some("nope"), &tune_params()).await.unwrap_err();
    assert!(matches!(unknown.error, PluginError::UnknownPlugin(_)));
}

const WORKSPACE_TOML: &str = r#"
[[plugins]]
name = "workspace-plugin"
command = "python3"
args = ["test_plugin.py", "good", "starts"]
"#;

#[tokio::test]
async fn untrusted_workspace_does_not_start_its_plugins() {
    let dir = temp_dir("untrusted");
    std::fs::copy(test_plugin(), dir.join("test_plugin.py")).unwrap();
    let toml = dir.join("cudalens.toml");
    std::fs::write(&toml, WORKSPACE_TOML).unwrap();

    let config = PluginConfig::from_workspace_toml(&toml, false).unwrap();
    let host = PluginHost::new(config, settings(), Arc::new(NoBenchmarks));
    assert!(host.status().is_empty());
    assert!(host.notices()[0].contains("not trusted"));
    host.start().await;
    assert!(host.analyze(&kernel()).await.results.is_empty());
    assert_eq!(
        starts(&dir.join("starts")),
        0,
        "no process may have been spawned"
    );

    // The same file in a trusted workspace runs, with the workspace as working directory.
    let config = PluginConfig::from_workspace_toml(&toml, true).unwrap();
    let host = PluginHost::new(config, settings(), Arc::new(NoBenchmarks));
    let report = host.analyze(&kernel()).await;
    assert_eq!(report.results[0].source, "workspace-plugin", "{report:?}");
    assert_eq!(starts(&dir.join("starts")), 1);
}

#[tokio::test]
async fn python_example_plugin_reports_its_rules() {
    let script = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../plugins/example-python/cudalens_example_plugin.py");
    let spec = PluginSpec::user(
        "example-python",
        "python3",
        vec![script.to_string_lossy().into_owned()],
    );
    let host = host(vec![spec], settings());
    let params: Vec<Value> = (0..9)
        .map(|i| json!({"name": format!("p{i}"), "type": "float*"}))
        .collect();
    let kernel: KernelModel = serde_json::from_value(json!({
        "name": "wide",
        "uri": "file:///w/wide.cu",
        "source": "__global__ void wide(/* é */ double* p0) {\n  double x = 0;\n}",
        "range": {"start": {"line": 7, "character": 2}, "end": {"line": 9, "character": 1}},
        "parameters": params,
    }))
    .expect("a kernel model");
    let report = host.analyze(&kernel).await;
    assert!(report.failures.is_empty(), "{:?}", report.failures);
    let codes: Vec<&str> = report.diagnostics().map(|(_, d)| d.code.as_str()).collect();
    assert_eq!(
        codes,
        ["example-too-many-parameters", "example-double-precision"]
    );
    let double = report.diagnostics().nth(1).unwrap().1;
    // `double` starts 29 UTF-16 units into the first line (`é` is one unit), which begins at column 2.
    assert_eq!(
        double.range,
        Range::new(Position::new(7, 31), Position::new(7, 37))
    );
    host.shutdown().await;
}

/// Locates a first-party plugin binary built into the same target directory as this test.
fn first_party_binary(name: &str) -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    let profile_dir = exe.parent()?.parent()?; // target/<profile>/deps/host-… → target/<profile>
    let path = profile_dir.join(name);
    path.exists().then_some(path)
}

#[tokio::test]
async fn first_party_plugins_answer_when_built() {
    // `cargo test --workspace` builds them; with `-p cudalens-plugin-host` alone they may be
    // missing, and their own packages test them over stdio anyway.
    let mut specs = Vec::new();
    for name in ["cudalens-autotune", "cudalens-learned-tuner"] {
        match first_party_binary(name) {
            Some(path) => specs.push(PluginSpec::user(name, path.to_string_lossy(), vec![])),
            None => eprintln!("skipping {name}: not built in this target directory"),
        }
    }
    if specs.is_empty() {
        return;
    }
    let count = specs.len();
    let bench = |request: BenchmarkRequest| async move {
        BenchResult::success(
            if request.variant.threads() == 512 {
                0.4
            } else {
                0.7
            },
            None,
        )
    };
    let host = PluginHost::new(
        PluginConfig {
            plugins: specs,
            notices: vec![],
        },
        settings(),
        Arc::new(bench),
    );
    let report = host.analyze(&kernel()).await;
    assert!(report.failures.is_empty(), "{:?}", report.failures);
    assert_eq!(report.results.len(), count);
    for status in host.status() {
        let outcome = host.tune(Some(&status.name), &tune_params()).await.unwrap();
        assert_eq!(outcome.source, status.name);
        assert!(!outcome.result.explanation.is_empty());
    }
    host.shutdown().await;
}
