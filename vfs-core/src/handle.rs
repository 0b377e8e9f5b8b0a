//! [`Handle`]: one counted reference to a VFS object, in the style of
//! Rust-for-Linux's `ARef`.
//!
//! Memory is managed by `Arc`; the logical reference count, whose zero
//! triggers the object's destruction (unmounting, freeing a dentry,
//! releasing a file description), is the object's own. A `Handle` owns
//! exactly one logical reference: cloning takes another, [`Handle::release`]
//! gives it back with a caller's [`Context`], dropping gives it back with
//! the [`background`] context. Callers never touch raw counts.

use alloc::sync::Arc;
use core::fmt;
use core::ops::Deref;

use crate::context::{Context, background};

/// An object with a logical reference count.
pub trait RefCounted: Send + Sync {
    /// Takes a reference.
    ///
    /// # Preconditions
    ///
    /// The caller holds a reference already.
    fn inc_ref(&self);

    /// Takes a reference unless the count has reached zero.
    fn try_inc_ref(&self) -> bool;

    /// Gives back a reference; at zero the object destroys itself.
    fn dec_ref(&self, ctx: &dyn Context);
}

/// One counted reference to a `T`.
pub struct Handle<T: ?Sized + RefCounted> {
    // `None` only transiently, while `release` or `drop` gives the
    // reference back.
    arc: Option<Arc<T>>,
}

impl<T: ?Sized + RefCounted> Handle<T> {
    /// Adopts a reference the caller has already counted (an object's
    /// initial reference, or one taken with `inc_ref`).
    pub fn adopt(arc: Arc<T>) -> Self {
        Self { arc: Some(arc) }
    }

    /// Takes a new reference on `arc`.
    ///
    /// # Preconditions
    ///
    /// Someone holds a reference on the object (see [`RefCounted::inc_ref`]).
    pub fn new_ref(arc: &Arc<T>) -> Self {
        arc.inc_ref();
        Self::adopt(Arc::clone(arc))
    }

    /// Takes a new reference unless the object is being destroyed.
    pub fn try_new_ref(arc: &Arc<T>) -> Option<Self> {
        arc.try_inc_ref().then(|| Self::adopt(Arc::clone(arc)))
    }

    /// The shared object.
    pub fn as_arc(&self) -> &Arc<T> {
        match &self.arc {
            Some(arc) => arc,
            None => unreachable!("a live Handle always holds its object"),
        }
    }

    /// Whether two handles refer to the same object.
    pub fn ptr_eq(a: &Self, b: &Self) -> bool {
        Arc::ptr_eq(a.as_arc(), b.as_arc())
    }

    /// Gives the reference back using `ctx`.
    pub fn release(mut self, ctx: &dyn Context) {
        if let Some(arc) = self.arc.take() {
            arc.dec_ref(ctx);
        }
    }

    /// Gives up the counted reference without decrementing it and returns
    /// the `Arc`; the caller becomes responsible for the reference (pair
    /// with [`Handle::adopt`]).
    pub fn into_counted_arc(mut self) -> Arc<T> {
        match self.arc.take() {
            Some(arc) => arc,
            None => unreachable!("a live Handle always holds its object"),
        }
    }
}

impl<T: ?Sized + RefCounted> Deref for Handle<T> {
    type Target = T;

    fn deref(&self) -> &T {
        self.as_arc()
    }
}

impl<T: ?Sized + RefCounted> Clone for Handle<T> {
    fn clone(&self) -> Self {
        Self::new_ref(self.as_arc())
    }
}

impl<T: ?Sized + RefCounted> Drop for Handle<T> {
    fn drop(&mut self) {
        if let Some(arc) = self.arc.take() {
            arc.dec_ref(background());
        }
    }
}

impl<T: ?Sized + RefCounted + fmt::Debug> fmt::Debug for Handle<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}
