//! `config.json`: the part of the OCI runtime spec (`config.md`) the
//! sentry reads, and what it makes of it. Unknown fields (`linux`, hooks)
//! are ignored, as runsc ignores what it does not apply.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use abi_linux::{Capability, CapabilitySet, Rlimit as HostRlimit, RlimitResource};
use serde::{Deserialize, Serialize};

use crate::kernel::HostMount;
use crate::{ProgramSpec, ProgramUser};

/// A bundle's `config.json`.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Spec {
    /// The spec version the bundle was written for.
    #[serde(default)]
    pub oci_version: String,
    /// The container's process.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub process: Option<Process>,
    /// The root filesystem.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub root: Option<Root>,
    /// The host name the container sees.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hostname: Option<String>,
    /// Mounts, in order.
    #[serde(default)]
    pub mounts: Vec<Mount>,
    /// Annotations, kept and reported by `state`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
}

/// `process`.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Process {
    /// Whether the process gets a terminal (through `--console-socket`).
    #[serde(default)]
    pub terminal: bool,
    /// Whom it runs as.
    #[serde(default)]
    pub user: User,
    /// Its argument vector.
    #[serde(default)]
    pub args: Vec<String>,
    /// Its environment.
    #[serde(default)]
    pub env: Vec<String>,
    /// Its working directory.
    #[serde(default = "slash")]
    pub cwd: String,
    /// Its resource limits.
    #[serde(default)]
    pub rlimits: Vec<Rlimit>,
    /// `PR_SET_NO_NEW_PRIVS`.
    #[serde(default)]
    pub no_new_privileges: bool,
    /// Its capability sets, by `CAP_*` name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capabilities: Option<Capabilities>,
}

fn slash() -> String {
    "/".into()
}

/// `process.user`.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct User {
    /// The user ID.
    #[serde(default)]
    pub uid: u32,
    /// The group ID.
    #[serde(default)]
    pub gid: u32,
    /// Supplementary groups.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub additional_gids: Vec<u32>,
}

/// One of `process.rlimits`.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Rlimit {
    /// `RLIMIT_*`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The hard limit.
    pub hard: u64,
    /// The soft limit.
    pub soft: u64,
}

/// `process.capabilities`.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Capabilities {
    /// The bounding set.
    #[serde(default)]
    pub bounding: Vec<String>,
    /// The effective set.
    #[serde(default)]
    pub effective: Vec<String>,
    /// The inheritable set.
    #[serde(default)]
    pub inheritable: Vec<String>,
    /// The permitted set.
    #[serde(default)]
    pub permitted: Vec<String>,
    /// The ambient set.
    #[serde(default)]
    pub ambient: Vec<String>,
}

/// `root`.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Root {
    /// The root directory, relative to the bundle or absolute.
    pub path: String,
    /// Whether the container may not change it.
    #[serde(default)]
    pub readonly: bool,
}

/// One of `mounts`.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Mount {
    /// Where, inside the container.
    pub destination: String,
    /// The filesystem type (`bind`, `tmpfs`, `proc`, ...).
    #[serde(rename = "type", default)]
    pub kind: String,
    /// The host path of a bind mount, or a device name.
    #[serde(default)]
    pub source: String,
    /// Mount options (`ro`, `bind`, `nosuid`, ...).
    #[serde(default)]
    pub options: Vec<String>,
}

/// The `RLIMIT_*` names in Linux's order.
const RLIMIT_NAMES: [&str; RlimitResource::COUNT] = [
    "RLIMIT_CPU",
    "RLIMIT_FSIZE",
    "RLIMIT_DATA",
    "RLIMIT_STACK",
    "RLIMIT_CORE",
    "RLIMIT_RSS",
    "RLIMIT_NPROC",
    "RLIMIT_NOFILE",
    "RLIMIT_MEMLOCK",
    "RLIMIT_AS",
    "RLIMIT_LOCKS",
    "RLIMIT_SIGPENDING",
    "RLIMIT_MSGQUEUE",
    "RLIMIT_NICE",
    "RLIMIT_RTPRIO",
    "RLIMIT_RTTIME",
];

/// What the sandbox makes of `mounts`.
#[derive(Debug, Default)]
pub struct Mounts {
    /// Host directories, each through a gofer.
    pub directories: Vec<HostMount>,
    /// Host files (`/etc/hosts`, `/etc/resolv.conf`, ...): copied into the
    /// root at start, as runsc's gofer serves them.
    pub files: Vec<(PathBuf, Vec<u8>)>,
    /// Directories that get a filesystem of the sentry's own (`tmpfs`,
    /// `sysfs`), with its type.
    pub own: Vec<(Vec<u8>, &'static str)>,
    /// What was left out (its mount point, made as runc makes it, and
    /// why, for the log).
    pub skipped: Vec<(String, String)>,
}

impl Spec {
    /// Reads `BUNDLE/config.json`.
    pub fn load(bundle: &Path) -> Result<Spec, String> {
        let path = bundle.join("config.json");
        let text = std::fs::read(&path).map_err(|e| format!("reading {}: {e}", path.display()))?;
        serde_json::from_slice(&text).map_err(|e| format!("parsing {}: {e}", path.display()))
    }

    /// The spec `sentry spec` writes: `sh` on a terminal, in `rootfs`, with
    /// the usual mounts (as `runc spec` makes).
    pub fn example() -> Spec {
        let mount = |destination: &str, kind: &str, options: &[&str]| Mount {
            destination: destination.into(),
            kind: kind.into(),
            source: kind.into(),
            options: options.iter().map(|o| o.to_string()).collect(),
        };
        let caps: Vec<String> = ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"]
            .map(String::from)
            .to_vec();
        Spec {
            oci_version: "1.0.2".into(),
            process: Some(Process {
                terminal: true,
                args: vec!["sh".into()],
                env: vec![
                    "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin".into(),
                    "TERM=xterm".into(),
                ],
                cwd: "/".into(),
                rlimits: vec![Rlimit {
                    kind: "RLIMIT_NOFILE".into(),
                    hard: 1024,
                    soft: 1024,
                }],
                no_new_privileges: true,
                capabilities: Some(Capabilities {
                    bounding: caps.clone(),
                    effective: caps.clone(),
                    inheritable: Vec::new(),
                    permitted: caps,
                    ambient: Vec::new(),
                }),
                ..Process::default()
            }),
            root: Some(Root {
                path: "rootfs".into(),
                readonly: true,
            }),
            hostname: Some("sentry".into()),
            mounts: vec![
                mount("/proc", "proc", &[]),
                mount("/dev", "tmpfs", &["nosuid", "strictatime", "mode=755"]),
                mount("/dev/pts", "devpts", &["nosuid", "noexec"]),
                mount(
                    "/dev/shm",
                    "tmpfs",
                    &["nosuid", "noexec", "nodev", "mode=1777"],
                ),
            ],
            annotations: BTreeMap::new(),
        }
    }

    /// The root directory on the host.
    pub fn root_path(&self, bundle: &Path) -> Result<PathBuf, String> {
        let root = self.root.as_ref().ok_or("config.json has no root")?;
        Ok(bundle.join(&root.path))
    }

    /// The container's process as the sentry runs it.
    pub fn program(&self) -> Result<ProgramSpec, String> {
        let process = self.process.as_ref().ok_or("config.json has no process")?;
        program_of(process)
    }

    /// Sorts `mounts` into what the sandbox does with each.
    pub fn mounts(&self) -> Result<Mounts, String> {
        let mut out = Mounts::default();
        for m in &self.mounts {
            if !m.destination.starts_with('/') {
                return Err(format!(
                    "mount destination {:?} is not absolute",
                    m.destination
                ));
            }
            let bind = m.kind == "bind" || m.options.iter().any(|o| o == "bind" || o == "rbind");
            let standard = matches!(
                (m.kind.as_str(), m.destination.as_str()),
                ("proc", "/proc")
                    | ("tmpfs", "/dev" | "/dev/shm")
                    | ("devpts", "/dev/pts")
                    | ("sysfs", "/sys")
            );
            if bind {
                let source = PathBuf::from(&m.source);
                let meta = std::fs::metadata(&source)
                    .map_err(|e| format!("mount source {}: {e}", source.display()))?;
                if meta.is_dir() {
                    out.directories.push(HostMount {
                        source,
                        target: m.destination.clone().into_bytes(),
                        read_only: m.options.iter().any(|o| o == "ro"),
                    });
                } else if meta.is_file() {
                    let contents = std::fs::read(&source)
                        .map_err(|e| format!("mount source {}: {e}", source.display()))?;
                    out.files.push((PathBuf::from(&m.destination), contents));
                } else {
                    out.skipped.push((
                        m.destination.clone(),
                        "a bind mount of a special file".into(),
                    ));
                }
            } else if standard {
                // The sentry's own /proc, /dev, /dev/shm, /dev/pts, /sys.
            } else if m.kind == "tmpfs" {
                out.own.push((m.destination.clone().into_bytes(), "tmpfs"));
            } else if m.kind == "sysfs" {
                out.own.push((m.destination.clone().into_bytes(), "sysfs"));
            } else if m.kind == "mqueue" {
                out.own.push((m.destination.clone().into_bytes(), "mqueue"));
            } else {
                out.skipped.push((
                    m.destination.clone(),
                    format!("{} (the sentry has no such filesystem)", m.kind),
                ));
            }
        }
        Ok(out)
    }
}

/// The program of an OCI `process` (of `config.json`, or of `exec
/// --process`).
pub fn program_of(process: &Process) -> Result<ProgramSpec, String> {
    if process.args.is_empty() {
        return Err("process.args is empty".into());
    }
    let mut rlimits = Vec::new();
    for limit in &process.rlimits {
        let resource = RLIMIT_NAMES
            .iter()
            .position(|&name| name == limit.kind)
            .and_then(|i| RlimitResource::from_raw(i as u32))
            .ok_or_else(|| format!("unknown rlimit {}", limit.kind))?;
        rlimits.push((
            resource,
            HostRlimit {
                cur: limit.soft,
                max: limit.hard,
            },
        ));
    }
    let capabilities = process.capabilities.as_ref().map(|caps| {
        [
            cap_set(&caps.effective),
            cap_set(&caps.permitted),
            cap_set(&caps.inheritable),
            cap_set(&caps.bounding),
            cap_set(&caps.ambient),
        ]
    });
    Ok(ProgramSpec {
        argv: process
            .args
            .iter()
            .map(|a| a.clone().into_bytes())
            .collect(),
        envp: process.env.iter().map(|e| e.clone().into_bytes()).collect(),
        cwd: process.cwd.clone().into_bytes(),
        user: Some(ProgramUser {
            uid: process.user.uid,
            gid: process.user.gid,
            groups: process.user.additional_gids.clone(),
        }),
        rlimits,
        no_new_privs: process.no_new_privileges,
        capabilities,
    })
}

/// A capability set from `CAP_*` names; names this Linux does not know
/// are left out, as runc leaves them.
fn cap_set(names: &[String]) -> CapabilitySet {
    let mut set = CapabilitySet::empty();
    for name in names {
        if let Some(&cap) = Capability::ALL.iter().find(|c| c.name() == name) {
            set.insert(cap);
        }
    }
    set
}
