//! A small procfs-like filesystem on kernfs: a static root, a dynamic
//! directory listing generated entries, a dynamic bytes file and a
//! symlink, mounted in a VFS and read through the VFS API.

use std::sync::Arc;

use abi_linux::Errno;
use kernfs::{BytesSource, DirectoryGenerator, DynamicBytesFile, DynamicDirectory, Filesystem};
use kernfs::{FilesystemOptions, Inode, StaticDirectory, Symlink};
use vfs_core::io::SliceDest;
use vfs_core::{Context, Credentials, DirentVec, FileRef, MountOptionFlags, OpenOptions};
use vfs_core::{PathOperation, SimpleContext, VirtualDentry, VirtualFilesystem};

/// `/uptime`, and `/tasks/N`: contents generated when read.
struct Text(fn(&dyn Context) -> String);

impl BytesSource for Text {
    fn generate(&self, ctx: &dyn Context, buf: &mut Vec<u8>) -> Result<(), Errno> {
        buf.extend_from_slice((self.0)(ctx).as_bytes());
        Ok(())
    }
}

/// `/tasks`: one file per task number below `count`.
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
        let n = std::str::from_utf8(name)
            .ok()
            .and_then(|s| s.parse::<u64>().ok());
        let n = n
            .filter(|n| (1..=self.count).contains(n))
            .ok_or(Errno::ENOENT)?;
        let creds = Credentials::root();
        Ok(DynamicBytesFile::with_ino(
            1000 + n,
            &creds,
            0o444,
            Text(|_| "a task\n".into()),
        ))
    }
}

fn open(vfs: &Arc<VirtualFilesystem>, top: &VirtualDentry, path: &[u8]) -> Result<FileRef, Errno> {
    let pop = PathOperation::new(top, top, path);
    vfs.open_at(&SimpleContext::root(), &pop, OpenOptions::default())
}

fn main() -> Result<(), Errno> {
    let ctx = SimpleContext::root();
    let creds = Credentials::root();
    let vfs = VirtualFilesystem::new();
    let fs = Filesystem::new(&vfs, FilesystemOptions::default())?;
    let uptime = Text(|ctx| format!("{}.00\n", ctx.now().tv_sec));
    let tasks = Tasks { count: 3 };
    let children: Vec<(&[u8], Arc<dyn Inode>)> = vec![
        (b"uptime", DynamicBytesFile::new(&fs, &creds, 0o444, uptime)),
        (b"tasks", DynamicDirectory::new(&fs, &creds, 0o555, tasks)),
        (b"self", Symlink::new(&fs, &creds, b"tasks/1")),
    ];
    let root = StaticDirectory::new(&fs, &creds, 0o555, children)?;
    let (vfs_fs, root) = fs.into_vfs(&vfs, "proc", root);
    let mount = vfs.new_disconnected_mount(vfs_fs, root, MountOptionFlags::empty());
    let top = vfs.new_mount_namespace_from(mount).root();

    let mut entries = DirentVec::default();
    open(&vfs, &top, b"/tasks")?.iter_dirents(&ctx, &mut entries)?;
    let names: Vec<_> = entries.entries.iter().map(|e| e.0.clone()).collect();
    println!("/tasks: {}", String::from_utf8_lossy(&names.join(&b' ')));
    for path in [&b"/uptime"[..], b"/self"] {
        let mut out = [0u8; 256];
        let file = open(&vfs, &top, path)?;
        let n = file.read(&ctx, &mut SliceDest::new(&mut out), Default::default())?;
        let text = String::from_utf8_lossy(&out[..n]);
        print!("{}: {text}", String::from_utf8_lossy(path));
    }
    Ok(())
}
