//! The gofer process: exports one host directory over 9P2000.L.
//!
//! `gofer --root DIR --listen unix:PATH|tcp:127.0.0.1:PORT [--read-only]
//! [--allow-devices]` prints `listening on ADDRESS` once it accepts
//! connections, then serves until killed.

use goferfs::{Listener, Server, ServerConfig};
use std::io::Write;
use std::process::ExitCode;

fn usage() -> ExitCode {
    eprintln!(
        "usage: gofer --root DIR --listen unix:PATH|tcp:HOST:PORT [--read-only] [--allow-devices]"
    );
    ExitCode::from(2)
}

fn main() -> ExitCode {
    let mut root = None;
    let mut listen = None;
    let mut read_only = false;
    let mut allow_devices = false;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--root" => root = args.next(),
            "--listen" => listen = args.next(),
            "--read-only" => read_only = true,
            "--allow-devices" => allow_devices = true,
            _ => return usage(),
        }
    }
    let (Some(root), Some(listen)) = (root, listen) else {
        return usage();
    };
    let mut config = ServerConfig::new(root);
    config.read_only = read_only;
    config.allow_devices = allow_devices;
    let server = match Server::new(config) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("gofer: cannot export root: {e}");
            return ExitCode::FAILURE;
        }
    };
    let listener = match Listener::bind(&listen) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("gofer: cannot listen on {listen}: {e}");
            return ExitCode::FAILURE;
        }
    };
    println!("listening on {}", listener.address());
    // The parent waits for the line above; a closed stdout is its business.
    let _ = std::io::stdout().flush();
    server.serve(listener);
    ExitCode::SUCCESS
}
