//! Reference counting with a leak checker, after gVisor's `pkg/refs` and
//! `refs_template`.
//!
//! - [`RefCount`] is the atomic counter: it starts at 1, `inc_ref`,
//!   `try_inc_ref` and `dec_ref` are single atomic operations on their common
//!   path, and the destructor runs exactly once when the count reaches zero,
//!   after which the counter reads `-1` and can never be revived.
//! - [`Ref`] is the owning handle over an object in an `Arc` that implements
//!   [`RefCounted`]: clone takes a reference, drop releases it, and
//!   [`Ref::release`] releases it with a context for the destructor.
//! - The leak checker: while [`leak_mode`] is not [`LeakMode::Disabled`],
//!   every [`CheckedObject`] is [`register`]ed at creation and unregistered at
//!   destruction, and [`leak_check`] reports what is left. [`LeakCheckScope`]
//!   does the same for one test among tests running in parallel.
//! - Reference logs: objects whose [`CheckedObject::log_refs`] is true (or
//!   all objects, with [`set_log_all_refs`]) record every reference
//!   operation, with a backtrace under the `std` feature, and leak reports
//!   show the log.
//!
//! # Reference model
//!
//! Each [`Ref`] is one counted reference on its object and also holds the
//! `Arc` that keeps the object's memory alive; the count, not the `Arc`,
//! decides when the object is destroyed. The registry holds only `Weak`
//! pointers, so leak checking never keeps anything alive (beyond the memory
//! of an object that leaked a reference).
//!
//! # Lock order
//!
//! 1. The test lock of [`LeakCheckScope`] (held for a whole test).
//! 2. The registry lock, a leaf: no object code runs under it.
//!
//! The log sink's lock is only held to copy the sink out.
//!
//! # Features
//!
//! - `std` (off by default): backtraces in reference logs and, in
//!   [`LeakMode::LogTraces`], of each object's registration; a default log
//!   sink that prints to standard error; `backoff_sleep`; and a blocking,
//!   poison-tolerant test lock for [`LeakCheckScope`] (a spin lock without
//!   `std`).

#![no_std]
#![forbid(unsafe_code)]

extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

mod checked;
mod count;
mod handle;
mod mode;
mod ref_log;
mod registry;
mod report;
mod scope;
mod sink;

pub use checked::CheckedObject;
pub use count::RefCount;
pub use handle::{Ref, RefCounted};
pub use mode::{LeakMode, ParseLeakModeError, leak_check_enabled, leak_mode, set_leak_mode};
pub use ref_log::{REF_LOG_CAPACITY, RefEvent, RefOp, log_all_refs, ref_events, set_log_all_refs};
pub use registry::{ObjectId, Registration, register, registered_objects, unregister};
#[cfg(feature = "std")]
pub use report::backoff_sleep;
pub use report::{CleanupToken, LeakReport, leak_check, pending_cleanups, repeated_leak_check};
pub use scope::LeakCheckScope;
pub use sink::{LogSink, reset_log_sink, set_log_sink};

/// Compiles and runs the README's example as a doctest.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
