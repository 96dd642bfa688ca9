//! The `broadsheet` binary: see `broadsheet --help`.

fn main() -> std::process::ExitCode {
    broadsheet::cli::main()
}
