//! Extended attributes of memfs inodes: the `user.` and `trusted.`
//! namespaces, with Linux's permission rules.

use alloc::collections::BTreeMap;
use alloc::vec::Vec;

use abi_linux::{Capability, Errno, XattrFlags};
use vfs_core::permissions::{self, AccessTypes, FileOwner};
use vfs_core::{Credentials, GetXattrOptions, SetXattrOptions};

/// The extended attributes of one inode.
#[derive(Default)]
pub struct Xattrs {
    map: spin::Mutex<BTreeMap<Vec<u8>, Vec<u8>>>,
}

fn supported(name: &[u8]) -> bool {
    name.starts_with(b"user.") || name.starts_with(b"trusted.")
}

impl Xattrs {
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
