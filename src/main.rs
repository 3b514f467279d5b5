use clap::Parser;

fn main() -> std::process::ExitCode {
    authenticon::cli::run(authenticon::cli::Cli::parse())
}
