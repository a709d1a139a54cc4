//! `cudalens`: the CUDA performance language server and its CLI twin.

fn main() -> std::process::ExitCode {
    cudalens::cli::main()
}
