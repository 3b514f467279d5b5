use clap::Parser;

// glibc's malloc was a seventh of the fast routes' time, with arena lock contention
// between the runtime's threads; mimalloc's per-thread free lists avoid both.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    authenticon::cli::run(authenticon::cli::Cli::parse())
}
