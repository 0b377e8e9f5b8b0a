//! What the leak checker knows about an object.

use alloc::string::String;

/// A reference-counted object that the leak checker can describe.
///
/// Implemented by every refcounted type: the registry (see
/// [`register`](crate::register)) keeps a weak pointer to each live checked
/// object and asks it for its message when reporting leaks, and
/// [`RefCount`](crate::RefCount) uses it to name the object in panics and in
/// the reference log.
pub trait CheckedObject: Send + Sync {
    /// The type name shown in reports, such as `"vfs::Dentry"`.
    fn ref_type(&self) -> &'static str;

    /// A one-line description of a leaked object, such as
    /// `"[vfs::Dentry 0x7f..] name=foo refs=2"`.
    fn leak_message(&self) -> String;

    /// Whether every reference operation on this object is recorded in its
    /// reference log (see [`ref_events`](crate::ref_events)). Off by default;
    /// [`set_log_all_refs`](crate::set_log_all_refs) turns it on for all
    /// objects.
    fn log_refs(&self) -> bool {
        false
    }
}

/// The address that identifies `obj` in the registry (its data pointer).
pub(crate) fn object_addr(obj: &dyn CheckedObject) -> usize {
    core::ptr::from_ref(obj).cast::<()>().addr()
}
