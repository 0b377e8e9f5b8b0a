//! `sysfs`: the sandbox's own `/sys`, as small as gVisor's
//! (`fsimpl/sys`): the top-level directories a program looks for, the
//! CPUs under `devices/system/cpu` (the ones the sandbox reports through
//! `sched_getaffinity` and `/proc/cpuinfo`), and an empty `fs/cgroup`.
//! Nothing of the host's `/sys` reaches it.

use std::sync::Arc;

use abi_linux::Errno;
use kernfs::{
    BytesSource, DynamicBytesFile, Filesystem, FilesystemOptions, Inode, StaticDirectory,
};
use vfs_core::{
    Context, Credentials, DentryRef, FilesystemRef, FilesystemType, GetFilesystemOptions,
    VirtualFilesystem,
};

/// `SYSFS_MAGIC`.
pub const SYSFS_MAGIC: i64 = 0x6265_6572;

/// The `sysfs` filesystem type, for `cpus` CPUs.
#[derive(Clone, Copy, Debug)]
pub struct SysfsType {
    /// How many CPUs `devices/system/cpu` lists.
    pub cpus: usize,
}

/// A read-only file with fixed contents.
struct Text(String);

impl BytesSource for Text {
    fn generate(&self, _: &dyn Context, buf: &mut Vec<u8>) -> Result<(), Errno> {
        buf.extend_from_slice(self.0.as_bytes());
        Ok(())
    }
}

impl FilesystemType for SysfsType {
    fn name(&self) -> &str {
        "sysfs"
    }

    fn get_filesystem(
        &self,
        _ctx: &dyn Context,
        vfs: &Arc<VirtualFilesystem>,
        _source: &[u8],
        _opts: &GetFilesystemOptions,
    ) -> Result<(FilesystemRef, DentryRef), Errno> {
        let fs = Filesystem::new(
            vfs,
            FilesystemOptions {
                max_cached_dentries: 64,
                magic: SYSFS_MAGIC,
                mount_options: String::new(),
            },
        )?;
        let creds = Credentials::root();
        let dir = |children: Vec<(Vec<u8>, Arc<dyn Inode>)>| -> Result<Arc<dyn Inode>, Errno> {
            let children: Vec<(&[u8], Arc<dyn Inode>)> = children
                .iter()
                .map(|(name, inode)| (name.as_slice(), inode.clone()))
                .collect();
            Ok(StaticDirectory::new(&fs, &creds, 0o755, children)?)
        };
        let file = |text: String| -> Arc<dyn Inode> {
            DynamicBytesFile::new(&fs, &creds, 0o444, Text(text))
        };
        let range = if self.cpus > 1 {
            format!("0-{}\n", self.cpus - 1)
        } else {
            "0\n".into()
        };
        let mut cpu: Vec<(Vec<u8>, Arc<dyn Inode>)> = vec![
            (b"online".to_vec(), file(range.clone())),
            (b"possible".to_vec(), file(range.clone())),
            (b"present".to_vec(), file(range)),
        ];
        for n in 0..self.cpus {
            cpu.push((format!("cpu{n}").into_bytes(), dir(Vec::new())?));
        }
        let system = dir(vec![(b"cpu".to_vec(), dir(cpu)?)])?;
        let devices = dir(vec![(b"system".to_vec(), system)])?;
        let fs_dir = dir(vec![(b"cgroup".to_vec(), dir(Vec::new())?)])?;
        let mut top = vec![(b"devices".to_vec(), devices), (b"fs".to_vec(), fs_dir)];
        for name in [
            "block", "bus", "class", "dev", "firmware", "kernel", "module", "power",
        ] {
            top.push((name.as_bytes().to_vec(), dir(Vec::new())?));
        }
        top.sort_by(|a, b| a.0.cmp(&b.0));
        let root = dir(top)?;
        Ok(fs.into_vfs(vfs, "sysfs", root))
    }
}
