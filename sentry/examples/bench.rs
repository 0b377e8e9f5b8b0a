//! `cargo xtask bench sentry`: a static system-call microbenchmark
//! (`bench_guest/guest.rs`, built here with `rustc` for
//! `x86_64-unknown-none`) run on the same tree natively (`chroot`), in the
//! sentry on both platforms with the tree copied into memory, in the
//! sentry on seccomp with the tree served by a gofer process (as `runsc`
//! serves its root; against the seccomp column it shows what the gofer
//! costs), and in `runsc` when it is on `PATH`. Prints
//! nanoseconds per operation and the ratios sentry/native and
//! runsc/sentry, all measured in this run.
//!
//! Usage: `bench [--scale PERCENT]` (iteration counts scaled, default
//! 100). The sentry runs happen in a child process of this example
//! (`bench --inner PLATFORM ROOT TREE PERCENT`, ROOT `copy` or `gofer`)
//! so their output can be read; its gofer is this example again (`bench
//! gofer --fd N --root DIR`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use sentry::gofer::GoferLaunch;
use sentry::kernel::{Kernel, KernelConfig, Network, PlatformKind, RootSource};

/// The cases, in the order the guest prints them.
const CASES: [&str; 19] = [
    "getppid",
    "stat",
    "stat-depth8",
    "open+close",
    "pread-4k",
    "pread-64k",
    "pwrite-4k",
    "open+read+close",
    "getdents-1000",
    "thread-create+join",
    "futex-pingpong",
    "unix-pingpong-64",
    "unix-stream-64k",
    "pipe-64k",
    "tcp-pingpong-1",
    "tcp-stream-64k",
    "tcp-connect+accept+close",
    "epoll-ready-eventfd",
    "signal-roundtrip",
];

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("--inner") {
        std::process::exit(inner(&args[1..]));
    }
    if let [command, fd_flag, fd, root_flag, root] = args.as_slice()
        && command == "gofer"
        && fd_flag == "--fd"
        && root_flag == "--root"
    {
        let served = fd
            .parse()
            .map_err(|e| format!("--fd {fd}: {e}"))
            .and_then(|fd| sentry::gofer::serve_fd(fd, Path::new(root), false));
        if let Err(e) = served {
            eprintln!("gofer: {e}");
            std::process::exit(1);
        }
        return;
    }
    let scale = match args.as_slice() {
        [flag, value] if flag == "--scale" => value.parse().unwrap_or(100u64),
        _ => 100,
    };
    if let Err(e) = outer(scale) {
        eprintln!("bench: {e}");
        std::process::exit(1);
    }
}

/// Runs the guest in the sentry: `PLATFORM ROOT TREE PERCENT`, ROOT
/// `copy`, `gofer` or `copy-hostnet` (a copied root and
/// `--network=host`).
fn inner(args: &[String]) -> i32 {
    let [platform, root, tree, scale] = args else {
        eprintln!("bench --inner PLATFORM copy|gofer|copy-hostnet TREE PERCENT");
        return 2;
    };
    let network = if root == "copy-hostnet" {
        Network::Host
    } else {
        Network::Loopback
    };
    let tree = PathBuf::from(tree);
    let root = if root == "gofer" {
        RootSource::HostDir {
            path: tree,
            writable: true,
        }
    } else {
        RootSource::HostTreeCopy(tree)
    };
    let Ok(me) = std::env::current_exe() else {
        eprintln!("bench: cannot find its own binary for the gofer");
        return 125;
    };
    let config = KernelConfig {
        platform: if platform == "seccomp" {
            PlatformKind::Seccomp
        } else {
            PlatformKind::Ptrace
        },
        gofer: GoferLaunch::Process(me),
        network,
        ..KernelConfig::new(root)
    };
    let kernel = match Kernel::new(&config) {
        Ok(k) => k,
        Err(e) => {
            eprintln!("sentry: {e}");
            return 125;
        }
    };
    let spec = sentry::ProgramSpec {
        argv: vec![
            b"/bin/guest".to_vec(),
            b"/".to_vec(),
            scale.clone().into_bytes(),
        ],
        cwd: b"/".to_vec(),
        ..Default::default()
    };
    match sentry::run(&kernel, spec) {
        Ok(status) => status.shell_code(),
        Err(e) => {
            eprintln!("sentry: {e}");
            125
        }
    }
}

/// The benchmark tree; removed on drop.
struct Tree(PathBuf);

impl Drop for Tree {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn build_tree() -> Result<Tree, String> {
    // Not /dev/shm: `runsc do` gives the sandbox its own /dev, so the tree
    // must live where the host root it exposes can reach it.
    let base = std::env::temp_dir();
    let tree = Tree(base.join(format!("sentry-bench-{}", std::process::id())));
    let dir = &tree.0;
    let io = |e: std::io::Error| e.to_string();
    let deep = dir.join("bench/d1/d2/d3/d4/d5/d6/d7/d8");
    for sub in [
        dir.join("bin"),
        dir.join("tmp"),
        dir.join("dev"),
        dir.join("proc"),
    ] {
        std::fs::create_dir_all(sub).map_err(io)?;
    }
    std::fs::create_dir_all(&deep).map_err(io)?;
    std::fs::create_dir_all(dir.join("bench/dir1000")).map_err(io)?;
    std::fs::write(dir.join("bench/f0"), vec![b'x'; 4096]).map_err(io)?;
    std::fs::write(dir.join("bench/big"), vec![b'y'; 65536]).map_err(io)?;
    std::fs::write(deep.join("f"), b"deep").map_err(io)?;
    for i in 0..1000 {
        std::fs::write(dir.join(format!("bench/dir1000/e{i:04}")), b"").map_err(io)?;
    }
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir.join("tmp"), std::fs::Permissions::from_mode(0o1777))
            .map_err(io)?;
    }
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/bench_guest/guest.rs");
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let out = Command::new(&rustc)
        .args(["--edition", "2021", "--target", "x86_64-unknown-none"])
        .args(["-C", "opt-level=2", "-C", "panic=abort"])
        .args(["-C", "relocation-model=static", "-o"])
        .arg(dir.join("bin/guest"))
        .arg(&source)
        .output()
        .map_err(|e| format!("running {rustc}: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "building the guest failed (is the x86_64-unknown-none target installed?):\n{}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(tree)
}

/// Runs `cmd` and parses the guest's `NAME NS` lines.
fn measure(what: &str, cmd: &mut Command) -> Result<BTreeMap<String, u64>, String> {
    let out = cmd.output().map_err(|e| format!("{what}: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "{what}: {}; {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| {
            let (name, ns) = l.split_once(' ')?;
            Some((name.to_string(), ns.trim().parse().ok()?))
        })
        .collect())
}

fn on_path(program: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|path| std::env::split_paths(&path).any(|dir| dir.join(program).is_file()))
}

fn ratio(a: Option<u64>, b: Option<u64>) -> String {
    match (a, b) {
        (Some(a), Some(b)) if b > 0 => format!("{:.1}x", a as f64 / b as f64),
        _ => "-".into(),
    }
}

fn outer(scale: u64) -> Result<(), String> {
    let tree = build_tree()?;
    let dir = tree.0.clone();
    let scale_arg = scale.to_string();
    let probe = Command::new("chroot").arg(&dir).arg("/bin/guest").output();
    let native = if probe.is_ok_and(|o| o.status.code() == Some(2)) {
        measure(
            "native (chroot)",
            Command::new("chroot")
                .arg(&dir)
                .args(["/bin/guest", "/", &scale_arg]),
        )?
    } else {
        println!("(chroot refused: the native run uses the tree's host path)");
        let base = format!("{}/", dir.display());
        measure(
            "native",
            Command::new(dir.join("bin/guest")).args([&base, &scale_arg]),
        )?
    };
    let me = std::env::current_exe().map_err(|e| e.to_string())?;
    let mut sentry = BTreeMap::new();
    for (column, platform, root) in [
        ("ptrace", "ptrace", "copy"),
        ("seccomp", "seccomp", "copy"),
        ("gofer", "seccomp", "gofer"),
        ("hostnet", "seccomp", "copy-hostnet"),
    ] {
        let mut cmd = Command::new(&me);
        cmd.args(["--inner", platform, root])
            .arg(&dir)
            .arg(&scale_arg);
        match measure(&format!("sentry ({platform}, {root} root)"), &mut cmd) {
            Ok(m) => {
                sentry.insert(column, m);
            }
            Err(e) => println!("({e})"),
        }
    }
    let runsc = if on_path("runsc") {
        let base = format!("{}/", dir.display());
        let mut cmd = Command::new("runsc");
        cmd.args(["--rootless", "--network=none", "--platform=ptrace", "do"])
            .arg(dir.join("bin/guest"))
            .args([&base, &scale_arg]);
        match measure("runsc", &mut cmd) {
            Ok(m) => Some(m),
            Err(e) => {
                println!("({e})");
                None
            }
        }
    } else {
        println!("(runsc is not on PATH: no runsc column)");
        None
    };
    println!(
        "ptrace and seccomp: the tree copied into memory; gofer: seccomp with \
         the tree served by a gofer process; hostnet: seccomp with --network=host \
         (only the tcp rows differ from seccomp)"
    );
    print!(
        "{:<24} {:>10} {:>12} {:>8} {:>12} {:>8} {:>12} {:>8} {:>12} {:>8}",
        "case (ns/op)",
        "native",
        "ptrace",
        "/native",
        "seccomp",
        "/native",
        "gofer",
        "/native",
        "hostnet",
        "/native"
    );
    if runsc.is_some() {
        print!(" {:>10} {:>13}", "runsc", "runsc/ptrace");
    }
    println!();
    let cell = |m: Option<&BTreeMap<String, u64>>, case: &str| m.and_then(|m| m.get(case).copied());
    let show = |v: Option<u64>| v.map_or("-".to_string(), |v| v.to_string());
    for case in CASES {
        let n = native.get(case).copied();
        let p = cell(sentry.get("ptrace"), case);
        let s = cell(sentry.get("seccomp"), case);
        let g = cell(sentry.get("gofer"), case);
        let h = cell(sentry.get("hostnet"), case);
        print!(
            "{case:<24} {:>10} {:>12} {:>8} {:>12} {:>8} {:>12} {:>8} {:>12} {:>8}",
            show(n),
            show(p),
            ratio(p, n),
            show(s),
            ratio(s, n),
            show(g),
            ratio(g, n),
            show(h),
            ratio(h, n)
        );
        if let Some(r) = &runsc {
            let r = r.get(case).copied();
            print!(" {:>10} {:>13}", show(r), ratio(r, p));
        }
        println!();
    }
    containers();
    Ok(())
}

/// The container row: `podman run --rm --network none IMAGE /bin/true`
/// (a busybox image imported here) with runc, the sentry (its OCI
/// default, seccomp) and runsc (ptrace) as podman's runtime, the median
/// of a few runs each, when podman is installed.
fn containers() {
    const RUNS: usize = 5;
    if !on_path("podman") {
        println!("(podman is not on PATH: no container row)");
        return;
    }
    let dir = std::env::temp_dir().join(format!("sentry-bench-image-{}", std::process::id()));
    let _ = std::fs::create_dir_all(dir.join("bin"));
    let image = "localhost/sentry-bench:busybox";
    let built = std::fs::copy("/usr/bin/busybox", dir.join("bin/busybox"))
        .and_then(|_| std::os::unix::fs::symlink("busybox", dir.join("bin/true")))
        .map_err(|e| e.to_string())
        .and_then(|()| {
            let tar = dir.with_extension("tar");
            let packed = Command::new("tar")
                .arg("-C")
                .arg(&dir)
                .arg("-cf")
                .arg(&tar)
                .arg(".")
                .status();
            let imported = Command::new("podman")
                .arg("import")
                .arg(&tar)
                .arg(image)
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .status();
            let _ = std::fs::remove_file(&tar);
            match (packed, imported) {
                (Ok(p), Ok(i)) if p.success() && i.success() => Ok(()),
                _ => Err("podman import failed".to_string()),
            }
        });
    let _ = std::fs::remove_dir_all(&dir);
    if let Err(e) = built {
        println!("(no container row: {e})");
        return;
    }
    let me = std::env::current_exe().ok();
    let sentry = me
        .as_ref()
        .and_then(|p| p.parent()?.parent().map(|d| d.join("sentry")))
        .filter(|p| p.is_file());
    let mut runtimes = vec![("runc", Some(std::path::PathBuf::from("/usr/sbin/runc")))];
    runtimes.push(("sentry", sentry));
    runtimes.push((
        "runsc",
        on_path("runsc").then(|| std::path::PathBuf::from("/usr/bin/runsc")),
    ));
    let mut medians = Vec::new();
    for (name, path) in &runtimes {
        let Some(path) = path.as_ref().filter(|p| p.is_file()) else {
            medians.push(None);
            continue;
        };
        let mut times = Vec::new();
        for _ in 0..RUNS {
            let start = std::time::Instant::now();
            let mut podman = Command::new("podman");
            podman.arg("--runtime").arg(path);
            if *name == "runsc" {
                // runsc as podman's runtime, as this machine lets it run:
                // no cgroups of its own, ptrace (as the runsc column).
                for flag in ["ignore-cgroups", "platform=ptrace", "network=none"] {
                    podman.args(["--runtime-flag", flag]);
                }
            }
            let ok = podman
                .args([
                    "run",
                    "--rm",
                    "--network",
                    "none",
                    "--ulimit",
                    "nofile=1024:1024",
                    "--ulimit",
                    "nproc=1024:1024",
                    image,
                    "/bin/true",
                ])
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .status()
                .is_ok_and(|s| s.success());
            if !ok {
                println!("(podman run with {name} failed)");
                times.clear();
                break;
            }
            times.push(start.elapsed().as_micros() as u64);
        }
        times.sort_unstable();
        medians.push(times.get(times.len() / 2).copied());
    }
    let _ = Command::new("podman")
        .args(["rmi", image])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status();
    let show = |v: Option<u64>| v.map_or("-".to_string(), |v| v.to_string());
    println!(
        "{:<24} {:>10} {:>12} {:>10} {:>12} {:>13}",
        "container (us, median)", "runc", "sentry", "/runc", "runsc", "runsc/sentry"
    );
    println!(
        "{:<24} {:>10} {:>12} {:>10} {:>12} {:>13}",
        "podman run --rm true",
        show(medians[0]),
        show(medians[1]),
        ratio(medians[1], medians[0]),
        show(medians[2]),
        ratio(medians[2], medians[1])
    );
}
