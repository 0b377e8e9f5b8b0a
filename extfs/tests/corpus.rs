//! The e2fsprogs regression-suite images (`shared/ext-images/e2fsprogs`):
//! every image the kernel mounts and reads without error must read
//! identically through extfs; every other image must give an error or a
//! partial view, and never panic or hang.

#[path = "support/common.rs"]
mod common;
#[path = "support/kernel.rs"]
mod kernel;
#[path = "../examples/extfs/manifest.rs"]
mod manifest;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::mpsc;
use std::time::Duration;

use common::{TempDir, run};
use extfs::{Ext4, FileSource, MountOptions};
use kernel::{Mount, first_difference, is_root, kernel_manifest};

/// Generous per-image limit that flags a hang, not a slow read.
const HANG_LIMIT: Duration = Duration::from_secs(120);

/// Images where the kernel's hash-order `readdir` skips the leaves below
/// a damaged htree node while extfs, iterating in block order, lists them:
/// extfs must show everything the kernel shows, and may show more.
const SUPERSET: &[&str] = &["f_h_badnode"];

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/ext-images/e2fsprogs")
}

/// One INDEX.tsv row.
struct Entry {
    test: String,
    file: String,
    kernel_clean: bool,
}

fn index() -> Option<Vec<Entry>> {
    let text = std::fs::read_to_string(corpus_dir().join("INDEX.tsv")).ok()?;
    Some(
        text.lines()
            .filter(|l| !l.starts_with('#'))
            .filter_map(|l| {
                let f: Vec<&str> = l.split('\t').collect();
                (f.len() >= 6).then(|| Entry {
                    test: f[0].to_string(),
                    file: f[1].to_string(),
                    kernel_clean: f[4] == "ok" && f[5] == "0",
                })
            })
            .collect(),
    )
}

/// Decompresses a corpus image into `dir`.
fn unpack(entry: &Entry, dir: &Path) -> PathBuf {
    let src = corpus_dir().join(&entry.file);
    let tool = if entry.file.ends_with(".bz2") {
        "bzip2"
    } else {
        "gzip"
    };
    let data = run(Command::new(tool).arg("-dc").arg(&src)).unwrap();
    let out = dir.join(format!("{}.img", entry.test));
    std::fs::write(&out, data).unwrap();
    out
}

/// Opens and walks an image through extfs with the given options; any
/// outcome but a panic or a hang is acceptable.
fn walk(image: PathBuf, verify: bool) -> Result<Vec<u8>, String> {
    let (tx, rx) = mpsc::channel();
    let name = image.display().to_string();
    std::thread::spawn(move || {
        let mut opts = MountOptions::default();
        opts.verify_checksums = verify;
        let file = std::fs::File::open(&image).unwrap();
        let result = Ext4::open(FileSource::new(file).unwrap(), opts)
            .and_then(|fs| manifest::library_manifest(&fs))
            .map_err(|e| e.to_string());
        let _ = tx.send(result);
    });
    match rx.recv_timeout(HANG_LIMIT) {
        Ok(r) => r,
        Err(mpsc::RecvTimeoutError::Timeout) => panic!("{name}: reading hung"),
        Err(mpsc::RecvTimeoutError::Disconnected) => panic!("{name}: reading panicked"),
    }
}

#[test]
fn e2fsprogs_images_read_like_the_kernel_or_fail_cleanly() {
    let Some(entries) = index() else {
        eprintln!(
            "skipping: no e2fsprogs corpus at {}",
            corpus_dir().display()
        );
        return;
    };
    let root = is_root();
    if !root {
        eprintln!("not root: corpus images are only checked for clean failure");
    }
    let tmp = TempDir::new("corpus");
    let mut mismatches = Vec::new();
    let mut compared = 0;
    for entry in &entries {
        let image = unpack(entry, tmp.path());
        // Without verification, more of a corrupt image is decoded; the
        // walk must still end in data or an error.
        let _ = walk(image.clone(), false);
        let strict = walk(image.clone(), true);
        if entry.kernel_clean && root {
            let kernel = match Mount::new(&image, false) {
                Ok(m) => kernel_manifest(m.path()).map_err(|e| e.to_string()),
                Err(e) => Err(e),
            };
            match (strict, kernel) {
                (Ok(ours), Ok(theirs)) if ours == theirs => compared += 1,
                (Ok(ours), Ok(theirs)) if SUPERSET.contains(&entry.test.as_str()) => {
                    let ours: std::collections::HashSet<&[u8]> =
                        ours.split(|&c| c == b'\n').collect();
                    let missing = theirs
                        .split(|&c| c == b'\n')
                        .filter(|l| !ours.contains(l))
                        .count();
                    assert_eq!(
                        missing, 0,
                        "{}: extfs misses {missing} of the kernel's lines",
                        entry.test
                    );
                    compared += 1;
                }
                (Ok(ours), Ok(theirs)) => {
                    mismatches.push(format!(
                        "{}: {}",
                        entry.test,
                        first_difference(&ours, &theirs)
                    ));
                }
                (Err(e), Ok(_)) => mismatches.push(format!("{}: extfs failed: {e}", entry.test)),
                (_, Err(e)) => eprintln!("{}: kernel view unavailable, skipped: {e}", entry.test),
            }
        }
        let _ = std::fs::remove_file(&image);
    }
    eprintln!("{compared} images identical to the kernel's view");
    assert!(
        mismatches.is_empty(),
        "{} images differ:\n{}",
        mismatches.len(),
        mismatches.join("\n")
    );
}
