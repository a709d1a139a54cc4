//! The server's `workspace/executeCommand` commands, defined once: their
//! names, their arguments as one typed value each, how those arguments go
//! on the wire (positional JSON arrays, as the VS Code and Neovim clients
//! send them) and the reference in `docs/commands.md`, generated from
//! [`COMMANDS`] and checked by a test.

use serde::Deserialize;
use serde_json::{Value, json};

use cudalens_syntax::Position;

/// A command with its arguments.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    ShowOccupancyTable(OccupancyTableArgs),
    Transpile(KernelTarget),
    Benchmark(KernelTarget),
    Autotune(KernelTarget),
    PluginTune(PluginTuneArgs),
}

/// `cudalens.showOccupancyTable`: `[uri, kernel name]` (further arguments
/// that are not strings, such as the position clients add, are ignored).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OccupancyTableArgs {
    pub uri: String,
    pub kernel: String,
}

/// `[uri, kernel name or null, {line, character}]`: a named kernel, or the
/// kernel around the position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KernelTarget {
    pub uri: String,
    pub kernel: Option<String>,
    pub position: Option<Position>,
}

/// `[uri, kernel name or null, {line, character}, {"plugin"?, "size"?}?]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PluginTuneArgs {
    pub target: KernelTarget,
    /// The plugin to ask; else the first that declares `tuning`.
    pub plugin: Option<String>,
    /// Problem size every variant is timed on (N, or N×N for 2D kernels).
    pub size: Option<u32>,
}

/// One command's entry in the reference.
pub struct CommandSpec {
    pub name: &'static str,
    pub arguments: &'static str,
    pub answer: &'static str,
    pub summary: &'static str,
}

pub const SHOW_OCCUPANCY_TABLE: &str = "cudalens.showOccupancyTable";
pub const TRANSPILE: &str = "cudalens.transpile";
pub const BENCHMARK: &str = "cudalens.benchmark";
pub const AUTOTUNE: &str = "cudalens.autotune";
pub const PLUGIN_TUNE: &str = "cudalens.pluginTune";

const TARGET_ARGS: &str = "[uri, kernel name or null, {line, character}]";

/// Every command the server answers (advertised in `executeCommandProvider`).
pub const COMMANDS: [CommandSpec; 5] = [
    CommandSpec {
        name: SHOW_OCCUPANCY_TABLE,
        arguments: "[uri, kernel name]",
        answer: "the kernel's occupancy tables as Markdown, or null",
        summary: "What the kernel hover shows: signature, registers and one occupancy table per launch.",
    },
    CommandSpec {
        name: TRANSPILE,
        arguments: TARGET_ARGS,
        answer: "{\"path\", \"kernel\"}, or null when nothing was written",
        summary: "Writes `<file>.<kernel>.wgsl` and its `.json` sidecar and asks the client to open it.",
    },
    CommandSpec {
        name: BENCHMARK,
        arguments: TARGET_ARGS,
        answer: "null at once; progress, a summary message and the report follow",
        summary: "Runs the kernel on the GPU with `cudalens bench`'s defaults.",
    },
    CommandSpec {
        name: AUTOTUNE,
        arguments: TARGET_ARGS,
        answer: "null at once; progress, a summary message and the report follow",
        summary: "Times every candidate workgroup size and reports the best.",
    },
    CommandSpec {
        name: PLUGIN_TUNE,
        arguments: "[uri, kernel name or null, {line, character}, {\"plugin\"?: name, \"size\"?: N}?]",
        answer: "null at once; the plugin's table as a message, its edit applied after asking",
        summary: "Sends `tune` to a tuning plugin and answers its `host/benchmark` calls on the GPU.",
    },
];

/// Why a command was not run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CommandError {
    Unknown(String),
    /// The arguments do not fit: the message says what was expected.
    InvalidArguments(String),
}

impl std::fmt::Display for CommandError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CommandError::Unknown(name) => write!(f, "unknown command {name}"),
            CommandError::InvalidArguments(message) => f.write_str(message),
        }
    }
}

impl Command {
    /// Reads a command as it comes on the wire.
    pub fn parse(name: &str, args: &[Value]) -> Result<Command, CommandError> {
        Ok(match name {
            SHOW_OCCUPANCY_TABLE => Command::ShowOccupancyTable(OccupancyTableArgs::parse(args)?),
            TRANSPILE => Command::Transpile(KernelTarget::parse(args)?),
            BENCHMARK => Command::Benchmark(KernelTarget::parse(args)?),
            AUTOTUNE => Command::Autotune(KernelTarget::parse(args)?),
            PLUGIN_TUNE => Command::PluginTune(PluginTuneArgs::parse(args)?),
            other => return Err(CommandError::Unknown(other.to_string())),
        })
    }

    pub fn name(&self) -> &'static str {
        match self {
            Command::ShowOccupancyTable(_) => SHOW_OCCUPANCY_TABLE,
            Command::Transpile(_) => TRANSPILE,
            Command::Benchmark(_) => BENCHMARK,
            Command::Autotune(_) => AUTOTUNE,
            Command::PluginTune(_) => PLUGIN_TUNE,
        }
    }

    /// The arguments as they go on the wire ([`Command::parse`] reads them back).
    pub fn arguments(&self) -> Vec<Value> {
        match self {
            Command::ShowOccupancyTable(a) => vec![json!(a.uri), json!(a.kernel)],
            Command::Transpile(t) | Command::Benchmark(t) | Command::Autotune(t) => t.to_wire(),
            Command::PluginTune(a) => {
                let mut args = a.target.to_wire();
                let mut options = serde_json::Map::new();
                if let Some(plugin) = &a.plugin {
                    options.insert("plugin".into(), json!(plugin));
                }
                if let Some(size) = a.size {
                    options.insert("size".into(), json!(size));
                }
                if !options.is_empty() {
                    args.push(Value::Object(options));
                }
                args
            }
        }
    }
}

fn invalid(message: &str) -> CommandError {
    CommandError::InvalidArguments(message.to_string())
}

impl OccupancyTableArgs {
    fn parse(args: &[Value]) -> Result<Self, CommandError> {
        let strings: Vec<&str> = args.iter().filter_map(Value::as_str).collect();
        let [uri, kernel] = strings[..] else {
            return Err(invalid("expected [uri, kernel name]"));
        };
        Ok(OccupancyTableArgs {
            uri: uri.to_string(),
            kernel: kernel.to_string(),
        })
    }
}

impl KernelTarget {
    fn parse(args: &[Value]) -> Result<Self, CommandError> {
        #[derive(Deserialize)]
        struct WirePosition {
            line: u32,
            character: u32,
        }
        let usage = || invalid("expected [uri, kernel name or null, {line, character}]");
        let uri = args.first().and_then(Value::as_str).ok_or_else(usage)?;
        let kernel = match args.get(1) {
            None | Some(Value::Null) => None,
            Some(Value::String(k)) => Some(k.clone()),
            Some(_) => return Err(usage()),
        };
        let position = match args.get(2) {
            None | Some(Value::Null) => None,
            Some(p) => {
                let p = WirePosition::deserialize(p).map_err(|_| usage())?;
                Some(Position::new(p.line, p.character))
            }
        };
        if kernel.is_none() && position.is_none() {
            return Err(usage());
        }
        Ok(KernelTarget {
            uri: uri.to_string(),
            kernel,
            position,
        })
    }

    fn to_wire(&self) -> Vec<Value> {
        vec![json!(self.uri), json!(self.kernel), json!(self.position)]
    }
}

impl PluginTuneArgs {
    fn parse(args: &[Value]) -> Result<Self, CommandError> {
        let target = KernelTarget::parse(args)?;
        let usage = || invalid("options must be {\"plugin\"?: name, \"size\"?: N}");
        let map = match args.get(3) {
            None | Some(Value::Null) => None,
            Some(Value::Object(map)) => Some(map),
            Some(_) => return Err(usage()),
        };
        let field = |key: &str| map.and_then(|m| m.get(key)).filter(|v| !v.is_null());
        let plugin = match field("plugin") {
            None => None,
            Some(Value::String(s)) => Some(s.clone()),
            Some(_) => return Err(usage()),
        };
        let size = match field("size") {
            None => None,
            Some(v) => Some(
                v.as_u64()
                    .and_then(|n| u32::try_from(n).ok())
                    .filter(|&n| n > 0)
                    .ok_or_else(usage)?,
            ),
        };
        Ok(PluginTuneArgs {
            target,
            plugin,
            size,
        })
    }
}

/// The Markdown reference of every command (`docs/commands.md`).
pub fn reference() -> String {
    let mut out = String::from(
        "# cudalens commands\n\n\
         <!-- Generated from server/ide/src/commands.rs by its tests \
         (UPDATE_EXPECT=1 cargo test -p cudalens-ide). Do not edit. -->\n\n\
         The language server's `workspace/executeCommand` commands. Arguments are \
         positional JSON arrays; `uri` is the document's URI, positions are LSP \
         positions (0-based line, UTF-16 column).\n",
    );
    for c in &COMMANDS {
        out.push_str(&format!(
            "\n## `{}`\n\n{}\n\n- arguments: `{}`\n- answer: {}\n",
            c.name, c.summary, c.arguments, c.answer
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(kernel: Option<&str>, position: Option<Position>) -> KernelTarget {
        KernelTarget {
            uri: "file:///a.cu".into(),
            kernel: kernel.map(String::from),
            position,
        }
    }

    #[test]
    fn targets() {
        let pos = json!({"line": 3, "character": 1});
        let parsed = Command::parse(TRANSPILE, &[json!("file:///a.cu"), Value::Null, pos]);
        let expected = target(None, Some(Position::new(3, 1)));
        assert_eq!(parsed, Ok(Command::Transpile(expected)));
        let parsed = Command::parse(BENCHMARK, &[json!("file:///a.cu"), json!("k")]);
        assert_eq!(parsed, Ok(Command::Benchmark(target(Some("k"), None))));
        assert!(Command::parse(AUTOTUNE, &[json!("file:///a.cu")]).is_err());
        assert!(Command::parse(AUTOTUNE, &[json!(1), json!("k")]).is_err());
        let unknown = Command::parse("cudalens.nope", &[]);
        assert_eq!(unknown, Err(CommandError::Unknown("cudalens.nope".into())));
    }

    #[test]
    fn plugin_tune_options() {
        let args = [
            json!("file:///a.cu"),
            json!("k"),
            Value::Null,
            json!({"plugin": "autotune", "size": 4096}),
        ];
        let Ok(Command::PluginTune(a)) = Command::parse(PLUGIN_TUNE, &args) else {
            panic!("valid arguments");
        };
        assert_eq!(
            (a.plugin.as_deref(), a.size),
            (Some("autotune"), Some(4096))
        );
        let with = |options: Value| {
            let args = [json!("file:///a.cu"), json!("k"), Value::Null, options];
            Command::parse(PLUGIN_TUNE, &args)
        };
        assert!(with(json!({"size": 0})).is_err());
        assert!(with(json!(3)).is_err());
        assert!(with(Value::Null).is_ok());
    }

    #[test]
    fn arguments_round_trip() {
        let commands = [
            Command::ShowOccupancyTable(OccupancyTableArgs {
                uri: "file:///a.cu".into(),
                kernel: "k".into(),
            }),
            Command::Transpile(target(Some("k"), Some(Position::new(1, 2)))),
            Command::Benchmark(target(None, Some(Position::new(0, 0)))),
            Command::Autotune(target(Some("k"), None)),
            Command::PluginTune(PluginTuneArgs {
                target: target(Some("k"), None),
                plugin: Some("p".into()),
                size: Some(64),
            }),
        ];
        for command in commands {
            let parsed = Command::parse(command.name(), &command.arguments());
            assert_eq!(parsed, Ok(command));
        }
    }

    /// The commands the VS Code and Neovim clients send exist, and the
    /// arguments both send (`[uri, kernel, position]`) fit each of them.
    #[test]
    fn clients_send_known_commands() {
        let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../../editors/");
        let sources = [
            "vscode/src/serverCommands.ts",
            "nvim/lua/cudalens/commands.lua",
        ];
        let known: Vec<&str> = COMMANDS.iter().map(|c| c.name).collect();
        for source in sources {
            let text = std::fs::read_to_string(format!("{root}{source}")).expect("client source");
            // `id: '…'` (TypeScript), `command = '…'` and `commands['…']` (Lua).
            let sent: Vec<&str> = ["id: '", "command = '", "commands['"]
                .iter()
                .flat_map(|key| text.split(key).skip(1))
                .filter_map(|rest| rest.split('\'').next())
                .filter(|name| name.starts_with("cudalens."))
                .collect();
            assert!(sent.len() >= 4, "{source}: found only {sent:?}");
            for name in sent {
                assert!(known.contains(&name), "{source} sends unknown {name}");
                let args = [
                    json!("file:///a.cu"),
                    json!("k"),
                    json!({"line": 0, "character": 0}),
                ];
                assert!(
                    Command::parse(name, &args).is_ok(),
                    "{name} rejects {args:?}"
                );
            }
        }
    }

    #[test]
    fn reference_is_current() {
        expect_test::expect_file!["../../../docs/commands.md"].assert_eq(&reference());
    }
}
