//! The binary: parse the command line, run it, map the outcome to an exit code.
//! Everything else lives in the library.

use std::process::ExitCode;

use bench_gate::{app, cli::Cli, measure, report::messages};
use clap::Parser;

fn main() -> ExitCode {
    // The measurement helper must start before anything allocates much: its
    // memory high-water mark is inherited by the command it measures.
    #[cfg(unix)]
    if std::env::args_os().nth(1).as_deref() == Some(std::ffi::OsStr::new(measure::HELPER_ARG)) {
        return ExitCode::from(measure::helper::main());
    }
    // What a benchmarked command leaves running outside its process group
    // stays bench-gate's to find and kill (Linux).
    measure::reaper::become_subreaper();
    // A reader that stops early (`bench-gate run | head`) is not a failure:
    // printing into a closed pipe ends the program quietly, with success.
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let message = info
            .payload()
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| info.payload().downcast_ref::<&str>().copied())
            .unwrap_or_default();
        if message.contains("failed printing to std") && message.contains("Broken pipe") {
            std::process::exit(0);
        }
        default_hook(info);
    }));
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            // --help and --version are not errors; anything else is bad input.
            return ExitCode::from(if e.use_stderr() { app::EXIT_ERROR } else { 0 });
        }
    };
    let outcome = app::run(cli);
    // An interrupt's handler owns the exit (130) once it has begun.
    bench_gate::interrupt::wait_if_interrupted();
    match outcome {
        Ok(code) => ExitCode::from(code),
        Err(e) if broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            // Errors quote data (a file's field): no line may run as a workflow command.
            messages::error(&e);
            ExitCode::from(app::EXIT_ERROR)
        }
    }
}

/// Whether the error is a write into a closed pipe (the reader went away).
fn broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
