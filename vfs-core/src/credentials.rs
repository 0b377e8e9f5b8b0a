//! Credentials: the identity a path operation or file access is checked
//! against (gVisor's `auth.Credentials`, reduced to the initial user
//! namespace).

use alloc::vec::Vec;

use abi_linux::{Capability, CapabilitySet};

/// A user ID.
pub type Uid = u32;
/// A group ID.
pub type Gid = u32;

/// The identity of a task as seen by the filesystem.
///
/// File permission checks and new files' ownership use the filesystem
/// IDs and the effective capabilities, as Linux does; the filesystem IDs
/// follow the effective ones except after `setfsuid`/`setfsgid`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Credentials {
    /// Real user ID.
    pub real_uid: Uid,
    /// Effective user ID: used for signals, IPC and process checks.
    pub effective_uid: Uid,
    /// Saved set-user-ID.
    pub saved_uid: Uid,
    /// Filesystem user ID: used for file permission checks and new file
    /// ownership.
    pub fs_uid: Uid,
    /// Real group ID.
    pub real_gid: Gid,
    /// Effective group ID.
    pub effective_gid: Gid,
    /// Saved set-group-ID.
    pub saved_gid: Gid,
    /// Filesystem group ID.
    pub fs_gid: Gid,
    /// Supplementary groups.
    pub extra_gids: Vec<Gid>,
    /// Capabilities the task may use now.
    pub effective_caps: CapabilitySet,
    /// Capabilities the task may raise.
    pub permitted_caps: CapabilitySet,
    /// Capabilities kept across execve.
    pub inheritable_caps: CapabilitySet,
    /// The bounding set.
    pub bounding_caps: CapabilitySet,
    /// Ambient capabilities.
    pub ambient_caps: CapabilitySet,
}

impl Credentials {
    /// Root with every capability: the credentials of the sandbox's init
    /// and of internal operations.
    pub fn root() -> Self {
        Self::with_ids(0, 0, CapabilitySet::full())
    }

    /// An unprivileged user `uid`:`gid` with no capabilities.
    pub fn user(uid: Uid, gid: Gid) -> Self {
        Self::with_ids(uid, gid, CapabilitySet::empty())
    }

    fn with_ids(uid: Uid, gid: Gid, caps: CapabilitySet) -> Self {
        Self {
            real_uid: uid,
            effective_uid: uid,
            saved_uid: uid,
            fs_uid: uid,
            real_gid: gid,
            effective_gid: gid,
            saved_gid: gid,
            fs_gid: gid,
            extra_gids: Vec::new(),
            effective_caps: caps,
            permitted_caps: caps,
            inheritable_caps: CapabilitySet::empty(),
            bounding_caps: CapabilitySet::full(),
            ambient_caps: CapabilitySet::empty(),
        }
    }

    /// Whether `gid` is the filesystem group or a supplementary group
    /// (Linux's `in_group_p`, for file permission checks).
    pub fn in_group(&self, gid: Gid) -> bool {
        self.fs_gid == gid || self.extra_gids.contains(&gid)
    }

    /// Whether `gid` is the effective group or a supplementary group
    /// (Linux's `in_egroup_p`, for System V IPC permission checks).
    pub fn in_effective_group(&self, gid: Gid) -> bool {
        self.effective_gid == gid || self.extra_gids.contains(&gid)
    }

    /// Whether the task holds `cap` in its effective set.
    pub fn has_capability(&self, cap: Capability) -> bool {
        self.effective_caps.contains(cap)
    }

    /// Whether the task may use `cap` on a file owned by `uid`:`gid`
    /// (Linux `capable_wrt_inode_uidgid`; with a single user namespace every
    /// ID is mapped, so this is the plain capability check).
    pub fn has_capability_on_file(&self, cap: Capability, _uid: Uid, _gid: Gid) -> bool {
        self.has_capability(cap)
    }

    /// Whether the task may act as the owner of a file owned by `uid`
    /// (Linux `inode_owner_or_capable`).
    pub fn can_act_as_owner(&self, uid: Uid) -> bool {
        self.fs_uid == uid || self.has_capability(Capability::FOWNER)
    }
}
