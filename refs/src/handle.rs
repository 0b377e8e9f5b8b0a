//! The owning handle: one counted reference to an object in an `Arc`.

use alloc::sync::Arc;
use core::fmt;
use core::ops::Deref;

use crate::checked::{CheckedObject, object_addr};
use crate::count::RefCount;
use crate::ref_log::{self, RefOp};
use crate::registry;

/// A reference-counted object that lives in an `Arc` and is handled through
/// [`Ref`].
///
/// The object embeds a [`RefCount`]; the `Arc` only keeps its memory alive,
/// while the [`RefCount`] decides when it is destroyed (and so what holding a
/// reference means, such as keeping a dentry out of the cache's eviction
/// list).
pub trait RefCounted: CheckedObject + Sized {
    /// What destruction receives, such as vfs-core's `Context`.
    type Context: ?Sized;

    /// The object's reference counter.
    fn ref_count(&self) -> &RefCount;

    /// Releases the object's resources; runs exactly once, when the count
    /// reaches zero. `ctx` is `None` when the last reference was dropped
    /// rather than passed to [`Ref::release`].
    fn destroy(&self, ctx: Option<&Self::Context>);
}

/// One counted reference to a [`RefCounted`] object, in the style of
/// Rust-for-Linux's `ARef`.
///
/// Cloning takes a reference ([`RefCount::inc_ref`]); dropping releases it
/// without a context and [`release`](Self::release) with one. When the last
/// reference goes, the object is unregistered from the leak checker and
/// [`RefCounted::destroy`] runs.
///
/// # Examples
///
/// ```
/// use std::sync::atomic::{AtomicUsize, Ordering};
/// use refs::{CheckedObject, Ref, RefCount, RefCounted};
///
/// struct Inode {
///     refs: RefCount,
///     ino: u64,
///     destroyed: AtomicUsize,
/// }
///
/// impl CheckedObject for Inode {
///     fn ref_type(&self) -> &'static str {
///         "example::Inode"
///     }
///     fn leak_message(&self) -> String {
///         format!("[example::Inode {}] refs={}", self.ino, self.refs.count())
///     }
/// }
///
/// /// What destruction needs, say a list of inodes to write back.
/// struct Context {
///     evicted: std::sync::Mutex<Vec<u64>>,
/// }
///
/// impl RefCounted for Inode {
///     type Context = Context;
///     fn ref_count(&self) -> &RefCount {
///         &self.refs
///     }
///     fn destroy(&self, ctx: Option<&Context>) {
///         self.destroyed.fetch_add(1, Ordering::Relaxed);
///         if let Some(ctx) = ctx {
///             ctx.evicted.lock().unwrap().push(self.ino);
///         }
///     }
/// }
///
/// let scope = refs::LeakCheckScope::new();
/// let ctx = Context { evicted: Default::default() };
/// let inode = Ref::new(Inode { refs: RefCount::new(), ino: 12, destroyed: AtomicUsize::new(0) });
/// let second = inode.clone();
/// assert_eq!(inode.ref_count().count(), 2);
///
/// let arc = Ref::as_arc(&inode).clone();
/// drop(inode);
/// second.release(&ctx);
/// assert_eq!(arc.destroyed.load(Ordering::Relaxed), 1);
/// assert_eq!(*ctx.evicted.lock().unwrap(), [12]);
/// // A destroyed object can no longer be referenced.
/// assert!(Ref::try_get(&arc).is_none());
/// scope.assert_clean();
/// ```
pub struct Ref<T: RefCounted> {
    /// Always `Some` except while [`release`](Ref::release) or
    /// [`into_raw_arc`](Ref::into_raw_arc) consume the handle.
    arc: Option<Arc<T>>,
}

impl<T: RefCounted + 'static> Ref<T> {
    /// Puts `value` in an `Arc` and returns its initial reference, registering
    /// it with the leak checker when leak checking is on.
    ///
    /// # Preconditions
    ///
    /// `value.ref_count()` is fresh (count 1).
    pub fn new(value: T) -> Self {
        Self::adopt(Arc::new(value))
    }

    /// Takes over the initial reference of an object already in an `Arc`,
    /// registering it with the leak checker when leak checking is on.
    ///
    /// # Preconditions
    ///
    /// Nothing else holds or will claim the object's initial reference.
    ///
    /// # Panics
    ///
    /// Panics if the object is already registered.
    pub fn adopt(arc: Arc<T>) -> Self {
        debug_assert_eq!(arc.ref_count().count(), 1, "Ref::adopt of a used counter");
        // The id is not kept: destruction unregisters by address.
        let _id = registry::register(&arc);
        Self { arc: Some(arc) }
    }
}

impl<T: RefCounted> Ref<T> {
    fn arc(&self) -> &Arc<T> {
        match &self.arc {
            Some(arc) => arc,
            // `arc` is only `None` inside the consuming methods.
            None => unreachable!("Ref used after being consumed"),
        }
    }

    /// Takes a reference on the object in `arc` unless it is destroyed
    /// ([`RefCount::try_inc_ref`]); for caches that keep objects in `Arc`s
    /// without holding references on them.
    #[must_use]
    pub fn try_get(arc: &Arc<T>) -> Option<Self> {
        if !arc.ref_count().try_inc_ref() {
            return None;
        }
        ref_log::record(&**arc, RefOp::TryInc, arc.ref_count().count());
        Some(Self {
            arc: Some(Arc::clone(arc)),
        })
    }

    /// Releases this reference, passing `ctx` to [`RefCounted::destroy`] if
    /// it was the last one.
    pub fn release(mut self, ctx: &T::Context) {
        if let Some(arc) = self.arc.take() {
            dec(&arc, Some(ctx));
        }
    }

    /// The `Arc` the object lives in. Cloning the `Arc` keeps the memory
    /// alive but takes no counted reference.
    #[must_use]
    pub fn as_arc(this: &Self) -> &Arc<T> {
        this.arc()
    }

    /// Returns true if both handles refer to the same object.
    #[must_use]
    pub fn ptr_eq(a: &Self, b: &Self) -> bool {
        Arc::ptr_eq(a.arc(), b.arc())
    }

    /// Gives up the handle without releasing its reference: the caller now
    /// owns one counted reference, carried by the returned `Arc`. Hand it back
    /// with [`from_counted_arc`](Self::from_counted_arc); dropping the `Arc`
    /// instead leaks the reference.
    #[must_use = "dropping the Arc leaks the counted reference"]
    pub fn into_raw_arc(mut self) -> Arc<T> {
        match self.arc.take() {
            Some(arc) => arc,
            None => unreachable!("Ref used after being consumed"),
        }
    }

    /// Makes a handle out of an `Arc` that carries one counted reference, as
    /// returned by [`into_raw_arc`](Self::into_raw_arc); the reference count
    /// is not changed.
    ///
    /// # Preconditions
    ///
    /// The caller owns one counted reference on the object, which the handle
    /// takes over. Otherwise the count is wrong: a later release panics (count
    /// below zero) or the object leaks, never undefined behaviour.
    pub fn from_counted_arc(arc: Arc<T>) -> Self {
        Self { arc: Some(arc) }
    }
}

/// Drops one reference on `arc`, destroying the object if it was the last.
fn dec<T: RefCounted>(arc: &Arc<T>, ctx: Option<&T::Context>) {
    let obj: &T = arc;
    obj.ref_count().dec_ref(obj, || {
        registry::unregister_addr(object_addr(obj));
        obj.destroy(ctx);
    });
}

impl<T: RefCounted> Clone for Ref<T> {
    fn clone(&self) -> Self {
        let arc = self.arc();
        arc.ref_count().inc_ref(&**arc);
        Self {
            arc: Some(Arc::clone(arc)),
        }
    }
}

impl<T: RefCounted> Drop for Ref<T> {
    fn drop(&mut self) {
        if let Some(arc) = self.arc.take() {
            dec(&arc, None);
        }
    }
}

impl<T: RefCounted> Deref for Ref<T> {
    type Target = T;

    fn deref(&self) -> &T {
        self.arc()
    }
}

impl<T: RefCounted> fmt::Debug for Ref<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let obj: &T = self.arc();
        f.debug_struct("Ref")
            .field("type", &obj.ref_type())
            .field("addr", &format_args!("{:#x}", object_addr(obj)))
            .field("refs", &obj.ref_count().count())
            .finish()
    }
}
