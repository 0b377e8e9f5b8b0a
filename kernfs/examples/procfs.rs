//! A small procfs-like filesystem on kernfs: a static root, a dynamic
//! directory listing generated entries, a dynamic bytes file and a
//! symlink, mounted in a VFS and read through the VFS API.

use std::sync::Arc;

use abi_linux::{Errno, OpenFlags};
use kernfs::{BytesSource, DirectoryGenerator, DynamicBytesFile, DynamicDirectory, Filesystem};
use kernfs::{FilesystemOptions, Inode, StaticDirectory, Symlink};
use vfs_core::{Context, Credentials, DirentVec, MountOptionFlags, OpenOptions, PathOperation};
use vfs_core::{SimpleContext, VirtualFilesystem};

/// `/uptime`: generated at every open.
struct Uptime;

impl BytesSource for Uptime {
    fn generate(&self, ctx: &dyn Context, buf: &mut Vec<u8>) -> Result<(), Errno> {
        buf.extend_from_slice(format!("{}.00\n", ctx.now().tv_sec).as_bytes());
        Ok(())
    }
}

/// `/tasks/N` for N below `count`, each a file holding its number.
struct Tasks {
    count: u64,
}

impl DirectoryGenerator for Tasks {
    fn names(&self, _: &dyn Context) -> Result<Vec<Vec<u8>>, Errno> {
        Ok((1..=self.count)
            .map(|n| n.to_string().into_bytes())
            .collect())
    }

    fn lookup(&self, _: &dyn Context, name: &[u8]) -> Result<Arc<dyn Inode>, Errno> {
        let n: u64 = std::str::from_utf8(name)
            .ok()
            .and_then(|s| s.parse().ok())
            .ok_or(Errno::ENOENT)?;
        if n == 0 || n > self.count {
            return Err(Errno::ENOENT);
        }
        struct Status(u64);
        impl BytesSource for Status {
            fn generate(&self, _: &dyn Context, buf: &mut Vec<u8>) -> Result<(), Errno> {
                buf.extend_from_slice(format!("task {}\n", self.0).as_bytes());
                Ok(())
            }
        }
        Ok(DynamicBytesFile::with_ino(
            1000 + n,
            &Credentials::root(),
            0o444,
            Status(n),
        ))
    }
}

fn main() -> Result<(), Errno> {
    let ctx = SimpleContext::root();
    let creds = Credentials::root();
    let vfs = VirtualFilesystem::new();
    let fs = Filesystem::new(
        &vfs,
        FilesystemOptions {
            magic: 0x9fa0,
            ..Default::default()
        },
    )?;
    let root = StaticDirectory::new(
        &fs,
        &creds,
        0o555,
        vec![
            (
                b"uptime".as_slice(),
                DynamicBytesFile::new(&fs, &creds, 0o444, Uptime) as Arc<dyn Inode>,
            ),
            (
                b"tasks".as_slice(),
                DynamicDirectory::new(&fs, &creds, 0o555, Tasks { count: 3 }),
            ),
            (b"self".as_slice(), Symlink::new(&fs, &creds, b"tasks/1")),
        ],
    )?;
    let (vfs_fs, root) = fs.into_vfs(&vfs, "proc", root);
    let ns = vfs.new_mount_namespace_from(vfs.new_disconnected_mount(
        vfs_fs,
        root,
        MountOptionFlags::empty(),
    ));
    let top = ns.root();
    let read = |path: &[u8]| -> Result<String, Errno> {
        let pop = PathOperation::new(&top, &top, path);
        let fd = vfs.open_at(
            &ctx,
            &pop,
            OpenOptions {
                flags: OpenFlags::empty(),
                ..Default::default()
            },
        )?;
        let mut out = vec![0; 256];
        let n = fd.read(
            &ctx,
            &mut vfs_core::io::SliceDest::new(&mut out),
            Default::default(),
        )?;
        Ok(String::from_utf8_lossy(&out[..n]).into_owned())
    };
    let dir = vfs.open_at(
        &ctx,
        &PathOperation::new(&top, &top, b"/tasks"),
        OpenOptions {
            flags: OpenFlags::DIRECTORY,
            ..Default::default()
        },
    )?;
    let mut entries = DirentVec::default();
    dir.iter_dirents(&ctx, &mut entries)?;
    let names: Vec<String> = entries
        .entries
        .iter()
        .map(|e| String::from_utf8_lossy(&e.0).into_owned())
        .collect();
    println!("/tasks: {}", names.join(" "));
    print!(
        "/uptime: {}/self via symlink: {}",
        read(b"/uptime")?,
        read(b"/self")?
    );
    Ok(())
}
