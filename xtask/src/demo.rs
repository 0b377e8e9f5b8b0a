//! Inputs for `cargo xtask demo`, made with real tools.

use std::fs;
use std::path::PathBuf;
use std::process::Command;

use crate::crates::workspace_root;

/// Builds `target/demo/demo.ext4` from a small directory tree with
/// `mkfs.ext4 -d` (e2fsprogs), and returns its path.
pub fn ext4_image() -> Result<PathBuf, String> {
    let dir = workspace_root().join("target").join("demo");
    let tree = dir.join("tree");
    let image = dir.join("demo.ext4");
    if tree.exists() {
        fs::remove_dir_all(&tree)
            .map_err(|error| format!("cannot clear {}: {error}", tree.display()))?;
    }
    let write = |path: &str, contents: &str| -> Result<(), String> {
        let path = tree.join(path);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent)
                .map_err(|error| format!("cannot create {}: {error}", parent.display()))?;
        }
        fs::write(&path, contents)
            .map_err(|error| format!("cannot write {}: {error}", path.display()))
    };
    write(
        "hello.txt",
        "Hello from an ext4 image, read by extfs without a kernel mount.\n",
    )?;
    write(
        "docs/notes.md",
        "# Notes\n\nextfs reads ext2, ext3 and ext4 images.\n",
    )?;
    write("docs/deep/a/b/c/leaf.txt", "a file five directories down\n")?;
    std::os::unix::fs::symlink("docs/notes.md", tree.join("notes"))
        .map_err(|error| format!("cannot create a symlink: {error}"))?;
    let _ = fs::remove_file(&image);
    let status = Command::new("mkfs.ext4")
        .args(["-q", "-F", "-d"])
        .arg(&tree)
        .arg(&image)
        .arg("8M")
        .status()
        .map_err(|error| format!("cannot run mkfs.ext4 (install e2fsprogs): {error}"))?;
    if !status.success() {
        return Err(format!("mkfs.ext4 failed: {status}"));
    }
    Ok(image)
}
