//! Extended attributes of memfs inodes: the `user.` and `trusted.`
//! namespaces, with Linux's permission rules.

use alloc::collections::BTreeMap;
use alloc::vec::Vec;

use abi_linux::{Capability, Errno, XattrFlags};
use vfs_core::permissions::{self, AccessTypes, FileOwner};
use vfs_core::{Context, Credentials, GetXattrOptions, SetXattrOptions};

use super::MemfsState;
use super::lower::LowerPath;

/// The extended attributes of one inode.
#[derive(Default)]
pub struct Xattrs {
    map: spin::Mutex<BTreeMap<Vec<u8>, Vec<u8>>>,
    /// The lower file whose attributes are still to be copied in, for an
    /// inode of an overlay.
    pending: spin::Mutex<Option<LowerPath>>,
}

/// Whether a memfs keeps attributes named `name`.
pub(super) fn supported(name: &[u8]) -> bool {
    name.starts_with(b"user.") || name.starts_with(b"trusted.")
}

impl Xattrs {
    /// The attributes of an overlay inode made for the lower file at
    /// `path`: copied in by [`Self::load`] when first used.
    pub(super) fn from_lower(path: LowerPath) -> Self {
        Self {
            map: spin::Mutex::default(),
            pending: spin::Mutex::new(Some(path)),
        }
    }

    /// Copies the lower file's attributes in, once, before the first
    /// operation on them.
    pub(super) fn load(&self, ctx: &dyn Context, state: &MemfsState) -> Result<(), Errno> {
        let Some(path) = self.pending.lock().clone() else {
            return Ok(());
        };
        let values = state.lower()?.xattrs(ctx, &path)?;
        let mut map = self.map.lock();
        if self.pending.lock().take().is_some() {
            for (name, value) in values {
                map.entry(name).or_insert(value);
            }
        }
        Ok(())
    }

    /// `getxattr`: `ENODATA` when absent, `ERANGE` when larger than a
    /// non-zero `opts.size`.
    pub fn get(
        &self,
        creds: &Credentials,
        owner: FileOwner,
        opts: &GetXattrOptions,
    ) -> Result<Vec<u8>, Errno> {
        permissions::check_xattr_permissions(creds, AccessTypes::READ, owner, &opts.name)?;
        if !supported(&opts.name) {
            return Err(Errno::EOPNOTSUPP);
        }
        let map = self.map.lock();
        map.get(&opts.name).cloned().ok_or(Errno::ENODATA)
    }

    /// `setxattr` with `XATTR_CREATE` (`EEXIST`) and `XATTR_REPLACE`
    /// (`ENODATA`).
    pub fn set(
        &self,
        creds: &Credentials,
        owner: FileOwner,
        opts: &SetXattrOptions,
    ) -> Result<(), Errno> {
        permissions::check_xattr_permissions(creds, AccessTypes::WRITE, owner, &opts.name)?;
        if !supported(&opts.name) {
            return Err(Errno::EOPNOTSUPP);
        }
        let mut map = self.map.lock();
        let exists = map.contains_key(&opts.name);
        if opts.flags.contains(XattrFlags::CREATE) && exists {
            return Err(Errno::EEXIST);
        }
        if opts.flags.contains(XattrFlags::REPLACE) && !exists {
            return Err(Errno::ENODATA);
        }
        map.insert(opts.name.clone(), opts.value.clone());
        Ok(())
    }

    /// `listxattr`: `trusted.` names only for `CAP_SYS_ADMIN` holders.
    pub fn list(&self, creds: &Credentials) -> Vec<Vec<u8>> {
        let privileged = creds.has_capability(Capability::SYS_ADMIN);
        self.map
            .lock()
            .keys()
            .filter(|name| privileged || !name.starts_with(b"trusted."))
            .cloned()
            .collect()
    }

    /// `removexattr`: `ENODATA` when absent.
    pub fn remove(&self, creds: &Credentials, owner: FileOwner, name: &[u8]) -> Result<(), Errno> {
        permissions::check_xattr_permissions(creds, AccessTypes::WRITE, owner, name)?;
        if !supported(name) {
            return Err(Errno::EOPNOTSUPP);
        }
        self.map
            .lock()
            .remove(name)
            .map(|_| ())
            .ok_or(Errno::ENODATA)
    }
}
