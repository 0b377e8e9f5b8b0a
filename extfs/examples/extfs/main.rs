//! `extfs`: a read-only, debugfs-like tool over ext2/3/4 images.
//!
//! ```text
//! extfs ls [-l] IMAGE PATH
//! extfs cat IMAGE PATH
//! extfs stat IMAGE PATH
//! extfs manifest IMAGE
//! extfs walk IMAGE
//! ```

mod manifest;

use std::fs::File;
use std::io::{self, Write};
use std::process::ExitCode;

use extfs::{BlockSource, Ext4, FileSource, FileType, Inode, MmapSource, MountOptions, ROOT_INO};

const USAGE: &str = "usage: extfs ls [-l] IMAGE PATH | cat IMAGE PATH | stat IMAGE PATH | manifest IMAGE | walk IMAGE";

/// An error of the tool: a message for stderr.
struct Fail(String);

impl From<extfs::Error> for Fail {
    fn from(e: extfs::Error) -> Self {
        Fail(e.to_string())
    }
}

impl From<io::Error> for Fail {
    fn from(e: io::Error) -> Self {
        Fail(e.to_string())
    }
}

/// Opens an image, memory-mapped when possible.
fn open(image: &str) -> Result<Ext4, Fail> {
    let file = File::open(image).map_err(|e| Fail(format!("{image}: {e}")))?;
    // SAFETY: The tool only reads images the user names and does not
    // modify them; the user must not truncate or rewrite the image while
    // the tool runs, as with any reader of a mapped file.
    let mapped = unsafe { MmapSource::new(&file) };
    let fs = match mapped {
        Ok(m) if m.size() > 0 => Ext4::open(m, MountOptions::default()),
        _ => Ext4::open(FileSource::new(file)?, MountOptions::default()),
    };
    fs.map_err(|e| Fail(format!("{image}: {e}")))
}

fn mode_string(inode: &Inode) -> String {
    let t = match inode.file_type() {
        Some(FileType::Regular) => '-',
        Some(t) => manifest::type_char(Some(t)),
        None => '?',
    };
    let mut s = String::from(t);
    let m = inode.mode;
    for shift in [6, 3, 0] {
        let bits = (m >> shift) & 7;
        s.push(if bits & 4 != 0 { 'r' } else { '-' });
        s.push(if bits & 2 != 0 { 'w' } else { '-' });
        s.push(if bits & 1 != 0 { 'x' } else { '-' });
    }
    s
}

fn ls(fs: &Ext4, path: &[u8], long: bool, out: &mut impl Write) -> Result<(), Fail> {
    let inode = fs.inode(fs.resolve(path)?)?;
    let mut entries = Vec::new();
    if inode.is_dir() {
        for e in fs.read_dir(&inode)? {
            let e = e?;
            if e.name() != b"." && e.name() != b".." {
                entries.push((e.name().to_vec(), e.ino));
            }
        }
    } else {
        entries.push((path.to_vec(), inode.ino));
    }
    entries.sort();
    for (name, ino) in entries {
        if long {
            let i = fs.inode(ino)?;
            let size = match i.rdev() {
                Some((major, minor)) => format!("{major}, {minor}"),
                None => i.size.to_string(),
            };
            write!(
                out,
                "{} {:>3} {:>5} {:>5} {:>10} ",
                mode_string(&i),
                i.nlink,
                i.uid,
                i.gid,
                size
            )?;
            out.write_all(&name)?;
            if i.file_type() == Some(FileType::Symlink) {
                out.write_all(b" -> ")?;
                out.write_all(&fs.read_link(&i)?)?;
            }
        } else {
            out.write_all(&name)?;
        }
        out.write_all(b"\n")?;
    }
    Ok(())
}

fn cat(fs: &Ext4, path: &[u8], out: &mut impl Write) -> Result<(), Fail> {
    let inode = fs.inode(fs.resolve(path)?)?;
    let mut buf = vec![0u8; 1 << 20];
    let mut offset = 0;
    loop {
        let n = fs.read_at(&inode, offset, &mut buf)?;
        if n == 0 {
            return Ok(());
        }
        out.write_all(&buf[..n])?;
        offset += n as u64;
    }
}

fn stat(fs: &Ext4, path: &[u8], out: &mut impl Write) -> Result<(), Fail> {
    let i = fs.inode(fs.lookup(path)?)?;
    writeln!(
        out,
        "Inode: {}   Type: {:?}   Mode: {:04o}   Flags: {:#x}",
        i.ino,
        i.file_type(),
        i.mode & 0o7777,
        i.flags
    )?;
    writeln!(out, "Generation: {}", i.generation)?;
    writeln!(out, "User: {}   Group: {}   Size: {}", i.uid, i.gid, i.size)?;
    writeln!(out, "Links: {}   Blocks (512 B): {}", i.nlink, i.blocks)?;
    if let Some((major, minor)) = i.rdev() {
        writeln!(out, "Device: {major},{minor}")?;
    }
    writeln!(out, "ctime: {}.{:09}", i.ctime.sec, i.ctime.nsec)?;
    writeln!(out, "atime: {}.{:09}", i.atime.sec, i.atime.nsec)?;
    writeln!(out, "mtime: {}.{:09}", i.mtime.sec, i.mtime.nsec)?;
    if let Some(t) = i.crtime {
        writeln!(out, "crtime: {}.{:09}", t.sec, t.nsec)?;
    }
    if i.file_type() == Some(FileType::Symlink) {
        out.write_all(b"Target: ")?;
        out.write_all(&fs.read_link(&i)?)?;
        out.write_all(b"\n")?;
    }
    for name in fs.list_xattrs(&i)? {
        out.write_all(b"Xattr: ")?;
        out.write_all(&name)?;
        writeln!(out, " ({} bytes)", fs.get_xattr(&i, &name)?.len())?;
    }
    Ok(())
}

/// Counts of what `walk` saw.
#[derive(Default)]
struct Counts {
    dirs: u64,
    files: u64,
    symlinks: u64,
    others: u64,
    bytes: u64,
}

fn walk(fs: &Ext4, out: &mut impl Write) -> Result<(), Fail> {
    let mut counts = Counts::default();
    let mut buf = vec![0u8; 1 << 20];
    let mut visited = std::collections::HashSet::new();
    let mut stack = vec![ROOT_INO];
    while let Some(ino) = stack.pop() {
        let inode = fs.inode(ino)?;
        match inode.file_type() {
            Some(FileType::Directory) => {
                counts.dirs += 1;
                if visited.insert(ino) {
                    for e in fs.read_dir(&inode)? {
                        let e = e?;
                        if e.name() != b"." && e.name() != b".." {
                            stack.push(e.ino);
                        }
                    }
                }
            }
            Some(FileType::Regular) => {
                counts.files += 1;
                let mut offset = 0;
                loop {
                    let n = fs.read_at(&inode, offset, &mut buf)?;
                    if n == 0 {
                        break;
                    }
                    offset += n as u64;
                }
                counts.bytes += offset;
            }
            Some(FileType::Symlink) => {
                counts.symlinks += 1;
                fs.read_link(&inode)?;
            }
            _ => counts.others += 1,
        }
    }
    writeln!(
        out,
        "directories {}\nfiles {}\nsymlinks {}\nothers {}\nbytes {}",
        counts.dirs, counts.files, counts.symlinks, counts.others, counts.bytes
    )?;
    Ok(())
}

fn run(args: &[String]) -> Result<(), Fail> {
    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    match args.as_slice() {
        ["ls", "-l", image, path] => ls(&open(image)?, path.as_bytes(), true, &mut out)?,
        ["ls", image, path] => ls(&open(image)?, path.as_bytes(), false, &mut out)?,
        ["cat", image, path] => cat(&open(image)?, path.as_bytes(), &mut out)?,
        ["stat", image, path] => stat(&open(image)?, path.as_bytes(), &mut out)?,
        ["manifest", image] => out.write_all(&manifest::library_manifest(&open(image)?)?)?,
        ["walk", image] => walk(&open(image)?, &mut out)?,
        _ => return Err(Fail(USAGE.to_string())),
    }
    out.flush()?;
    Ok(())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(Fail(msg)) => {
            eprintln!("extfs: {msg}");
            ExitCode::FAILURE
        }
    }
}
