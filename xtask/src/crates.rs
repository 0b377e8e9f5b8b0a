//! The workspace's crates, in dependency order, with what CI does to each.

use std::path::Path;

/// A crate of the workspace as the task runner sees it.
pub struct Crate {
    /// The package name, which is also its folder.
    pub name: &'static str,
    /// Whether the crate must build for a bare-metal target without `std`.
    pub no_std: bool,
    /// Examples that `cargo xtask demo` runs.
    pub demo: &'static [Example],
}

/// An example program and its arguments.
pub struct Example {
    /// The example's name (`cargo run --example NAME`).
    pub name: &'static str,
    /// Arguments passed after `--`.
    pub args: &'static [&'static str],
}

impl Crate {
    /// Whether the crate has been created in this checkout. Crates are added
    /// to the workspace as they are implemented, so the list below may name
    /// some that do not exist yet.
    pub fn exists(&self) -> bool {
        workspace_root()
            .join(self.name)
            .join("Cargo.toml")
            .is_file()
    }
}

/// Every crate of DESIGN.md, lower layers first.
pub static CRATES: &[Crate] = &[
    Crate {
        name: "abi-linux",
        no_std: true,
        demo: &[],
    },
    Crate {
        name: "refs",
        no_std: true,
        demo: &[],
    },
    Crate {
        name: "vfs-core",
        no_std: true,
        demo: &[],
    },
    Crate {
        name: "kernfs",
        no_std: true,
        demo: &[Example {
            name: "procfs",
            args: &[],
        }],
    },
    Crate {
        name: "extfs",
        no_std: true,
        demo: &[],
    },
    Crate {
        name: "hostfs",
        no_std: false,
        demo: &[],
    },
    Crate {
        name: "goferfs",
        no_std: false,
        demo: &[],
    },
    Crate {
        name: "platform",
        no_std: false,
        demo: &[],
    },
    Crate {
        name: "sentry",
        no_std: false,
        demo: &[],
    },
    Crate {
        name: "xtask",
        no_std: false,
        demo: &[],
    },
];

/// The crates named on the command line, or every existing crate when none
/// is named.
pub fn select(names: &[String]) -> Result<Vec<&'static Crate>, String> {
    if names.is_empty() {
        return Ok(CRATES.iter().filter(|krate| krate.exists()).collect());
    }
    names
        .iter()
        .map(|name| {
            CRATES
                .iter()
                .find(|krate| krate.name == name)
                .filter(|krate| krate.exists())
                .ok_or_else(|| format!("no crate named `{name}` in this workspace"))
        })
        .collect()
}

/// The workspace root: xtask's manifest lives one level below it.
pub fn workspace_root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives inside the workspace")
}
