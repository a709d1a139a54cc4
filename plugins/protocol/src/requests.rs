//! The protocol's messages, typed: each request names its method, what it
//! carries and what it answers, so neither end spells a method or builds a
//! `serde_json::Value` by hand (`PROTOCOL.md` describes each).

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::types::{
    AnalyzeParams, AnalyzeResult, BenchResult, BenchmarkParams, InitializeParams, InitializeResult,
    LogParams, TuneParams, TuneResult, methods,
};

/// A request: a method with its params and result types.
pub trait Request {
    const METHOD: &'static str;
    type Params: Serialize + DeserializeOwned;
    type Result: Serialize + DeserializeOwned;
}

/// A notification: a method with its params type.
pub trait Notification {
    const METHOD: &'static str;
    type Params: Serialize + DeserializeOwned;
}

/// host → plugin: the handshake.
pub enum Initialize {}
impl Request for Initialize {
    const METHOD: &'static str = methods::INITIALIZE;
    type Params = InitializeParams;
    type Result = InitializeResult;
}

/// host → plugin: diagnose one kernel.
pub enum Analyze {}
impl Request for Analyze {
    const METHOD: &'static str = methods::ANALYZE;
    type Params = AnalyzeParams;
    type Result = AnalyzeResult;
}

/// host → plugin: tune one kernel, calling back [`HostBenchmark`].
pub enum Tune {}
impl Request for Tune {
    const METHOD: &'static str = methods::TUNE;
    type Params = TuneParams;
    type Result = TuneResult;
}

/// host → plugin: prepare to exit (params and result are `null`).
pub enum Shutdown {}
impl Request for Shutdown {
    const METHOD: &'static str = methods::SHUTDOWN;
    type Params = ();
    type Result = ();
}

/// plugin → host: time one variant of the kernel being tuned.
pub enum HostBenchmark {}
impl Request for HostBenchmark {
    const METHOD: &'static str = methods::HOST_BENCHMARK;
    type Params = BenchmarkParams;
    type Result = BenchResult;
}

/// host → plugin: exit now.
pub enum Exit {}
impl Notification for Exit {
    const METHOD: &'static str = methods::EXIT;
    type Params = ();
}

/// plugin → host: a log line for the plugin's output channel.
pub enum Log {}
impl Notification for Log {
    const METHOD: &'static str = methods::LOG;
    type Params = LogParams;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unit_params_are_null_on_the_wire() {
        let shutdown: <Shutdown as Request>::Params = ();
        assert_eq!(
            serde_json::to_value(shutdown).ok(),
            Some(serde_json::Value::Null)
        );
        let answer: Result<<Shutdown as Request>::Result, _> =
            serde_json::from_value(serde_json::Value::Null);
        assert!(answer.is_ok());
    }
}
