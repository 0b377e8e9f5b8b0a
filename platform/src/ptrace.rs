//! The ptrace backend (gVisor's `platform/ptrace`): application threads run
//! in stub processes traced with `PTRACE_SYSEMU`, which stops them at every
//! system call without running it.
//!
//! Each context owns, per address space it has run in, one stub process
//! created by the address space's service thread and attached to
//! (`PTRACE_SEIZE`) by the context's thread, which is the only thread that
//! controls it. A switch loads the registers, resumes the stub with
//! `PTRACE_SYSEMU` and waits; a syscall stop is a [`Trap::Syscall`], a
//! `SIGSEGV`/`SIGBUS` stop a [`Trap::PageFault`], the interrupt signal a
//! [`Trap::Interrupted`], any other signal a [`Trap::Signal`]. Signals are
//! never delivered to the stub.
//!
//! # Reference model
//!
//! A context holds its stubs' pids and weak references to their address
//! spaces; see `address_space.rs` for who reaps a stub.

use std::marker::PhantomData;
use std::sync::{Arc, Weak};

use abi_linux::{Errno, Result};

use crate::address_space::{AsShared, StubAddressSpace};
use crate::arch;
use crate::memory_file::MemoryFile;
use crate::platform::{
    Access, AddressSpace, Context, INTERRUPT_SIGNAL, Interrupter, Platform, SignalInfo, Trap,
};
use crate::registers::Registers;
use crate::stub::{self, MAX_USER_ADDRESS, MIN_USER_ADDRESS};

/// The ptrace platform.
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use platform::{MemoryFile, Platform, PtracePlatform};
///
/// let mf = Arc::new(MemoryFile::new().unwrap());
/// match PtracePlatform::new(mf) {
///     Ok(p) => assert_eq!(p.name(), "ptrace"),
///     Err(e) => println!("ptrace unavailable: {e}"),
/// }
/// ```
#[derive(Debug)]
pub struct PtracePlatform {
    memory_file: Arc<MemoryFile>,
}

impl PtracePlatform {
    /// Creates the platform, checking that the host lets it create and
    /// trace a stub process (`EPERM` if it does not).
    pub fn new(memory_file: Arc<MemoryFile>) -> Result<Self> {
        // Creating an address space spawns and traces a stub.
        drop(StubAddressSpace::new(memory_file.clone())?);
        Ok(Self { memory_file })
    }
}

impl Platform for PtracePlatform {
    fn name(&self) -> &'static str {
        "ptrace"
    }

    fn memory_file(&self) -> &Arc<MemoryFile> {
        &self.memory_file
    }

    fn new_address_space(&self) -> Result<Box<dyn AddressSpace>> {
        Ok(Box::new(StubAddressSpace::new(self.memory_file.clone())?))
    }

    fn new_context(&self) -> Result<Box<dyn Context>> {
        Ok(Box::new(PtraceContext {
            stubs: Vec::new(),
            interrupter: Interrupter::new(),
            _bound: PhantomData,
        }))
    }

    fn min_user_address(&self) -> u64 {
        MIN_USER_ADDRESS
    }

    fn max_user_address(&self) -> u64 {
        MAX_USER_ADDRESS
    }

    fn supports_address_space_io(&self) -> bool {
        false
    }
}

/// A context's stub in one address space.
struct Stub {
    address_space: Weak<AsShared>,
    id: u64,
    pid: i32,
    /// The XSAVE image the stub holds, as last loaded or read, to skip
    /// reloading an unchanged one.
    fp: Vec<u8>,
    /// A buffer of `FP_MAX` bytes for reading the image.
    scratch: Box<[u8]>,
}

/// A ptrace context; bound to its creating thread.
pub(crate) struct PtraceContext {
    stubs: Vec<Stub>,
    interrupter: Interrupter,
    /// Makes the context `!Send`: its stubs are traced by this thread.
    _bound: PhantomData<*const ()>,
}

impl PtraceContext {
    /// Returns this context's stub in `a`, creating and attaching it on
    /// first use.
    fn stub_for(&mut self, a: &StubAddressSpace) -> Result<usize> {
        self.stubs.retain(|s| s.address_space.strong_count() > 0);
        if let Some(i) = self.stubs.iter().position(|s| s.id == a.shared.id) {
            return Ok(i);
        }
        let pid = a.new_stub()?;
        if let Err(e) = stub::seize(pid) {
            if a.shared.forget_stub(pid) {
                stub::kill_and_reap(pid);
            }
            return Err(e);
        }
        self.stubs.push(Stub {
            address_space: Arc::downgrade(&a.shared),
            id: a.shared.id,
            pid,
            fp: Vec::new(),
            scratch: vec![0; arch::FP_MAX].into(),
        });
        Ok(self.stubs.len() - 1)
    }

    fn run(
        interrupter: &Interrupter,
        a: &StubAddressSpace,
        stub: &mut Stub,
        regs: &mut Registers,
    ) -> Result<Trap> {
        let pid = stub.pid;
        let mut g = regs.general;
        g.orig_rax = u64::MAX;
        stub::set_regs(pid, &g)?;
        if stub.fp != regs.fp() {
            stub::set_fp(pid, regs.fp())?;
            stub.fp.clear();
            stub.fp.extend_from_slice(regs.fp());
        }
        loop {
            stub::ptrace(libc::PTRACE_SYSEMU, pid, 0, 0)?;
            let status = stub::wait(pid, 0)?;
            if !libc::WIFSTOPPED(status) {
                return Err(Errno::ESRCH);
            }
            let sig = libc::WSTOPSIG(status);
            if status >> 16 != 0 || sig == libc::SIGSTOP || sig == libc::SIGCONT {
                // A group stop or an attach leftover; nothing the
                // application did.
                continue;
            }
            if sig == INTERRUPT_SIGNAL && !interrupter.take() {
                // A late kick for an earlier switch.
                continue;
            }
            regs.general = stub::get_regs(pid)?;
            let n = stub::get_fp(pid, &mut stub.scratch)?;
            regs.fp_buffer(n).copy_from_slice(&stub.scratch[..n]);
            stub.fp.clear();
            stub.fp.extend_from_slice(&stub.scratch[..n]);
            if sig == libc::SIGTRAP | 0x80 {
                if syscall_arch(pid)? != arch::AUDIT_ARCH {
                    // A 32-bit call (`int 0x80`): not a system call of
                    // this kernel.
                    return Ok(Trap::Signal(arch::foreign_syscall_fault(&mut regs.general)));
                }
                regs.general.rax = regs.general.orig_rax;
                return Ok(Trap::Syscall);
            }
            if sig == INTERRUPT_SIGNAL {
                return Ok(Trap::Interrupted);
            }
            let info = siginfo(pid)?;
            if sig == libc::SIGSEGV || sig == libc::SIGBUS {
                let access = fault_access(a, &info, regs.general.rip);
                return Ok(Trap::PageFault {
                    addr: info.addr,
                    access,
                    info,
                });
            }
            return Ok(Trap::Signal(info));
        }
    }
}

/// The audit architecture of the system call `pid` is stopped at
/// (`PTRACE_GET_SYSCALL_INFO`): `AUDIT_ARCH_I386` for `int 0x80`.
fn syscall_arch(pid: i32) -> Result<u32> {
    // struct ptrace_syscall_info: op (u8), padding, arch (u32), then
    // pointers and the entry's number and arguments.
    let mut info = [0u8; 88];
    stub::ptrace(
        PTRACE_GET_SYSCALL_INFO,
        pid,
        info.len() as u64,
        info.as_mut_ptr() as u64,
    )?;
    Ok(u32::from_ne_bytes([info[4], info[5], info[6], info[7]]))
}

/// `PTRACE_GET_SYSCALL_INFO`.
const PTRACE_GET_SYSCALL_INFO: libc::c_uint = 0x420e;

/// `si_code` of a `SIGSEGV` on a mapped page without the needed access.
const SEGV_ACCERR: i32 = 2;

/// The longest x86 instruction: a fetch fault this far past the
/// instruction pointer is the instruction's tail on the next page.
const MAX_INSN_LEN: u64 = 15;

/// Infers the access type of a fault, which ptrace does not report (the
/// error code stays in the kernel): an instruction fetch if the fault is at
/// the instruction pointer, or at the start of the next page within an
/// instruction's length of it; a write for a denied access to a readable
/// page; a read otherwise.
///
/// The page's permissions are read after the fault, and another thread of
/// the address space may have changed them since (resolving the same
/// copy-on-write page makes it writable): a denied access to a page that is
/// writable now is a write that raced with that, and resolving it as a
/// write is a no-op that lets the access retry. Guessing an instruction
/// fetch there instead would kill the thread with a spurious `SIGSEGV`.
fn fault_access(a: &StubAddressSpace, info: &SignalInfo, rip: u64) -> Access {
    // An instruction crossing into the next page faults at that page's
    // start.
    let tail = info.addr > rip
        && info.addr - rip <= MAX_INSN_LEN
        && info.addr.is_multiple_of(crate::sys::PAGE_SIZE);
    if info.addr == rip || tail {
        return Access::EXECUTE;
    }
    match a.permissions_at(info.addr) {
        Some(p) if info.code == SEGV_ACCERR && p.read => Access::WRITE,
        _ => Access::READ,
    }
}

/// Reads the signal information of a signal-delivery stop.
fn siginfo(pid: i32) -> Result<SignalInfo> {
    let mut raw = [0u8; 128];
    stub::ptrace(libc::PTRACE_GETSIGINFO, pid, 0, raw.as_mut_ptr() as u64)?;
    Ok(SignalInfo::from_raw(raw))
}

impl Context for PtraceContext {
    fn switch(&mut self, address_space: &dyn AddressSpace, regs: &mut Registers) -> Result<Trap> {
        let a = address_space
            .as_any()
            .downcast_ref::<StubAddressSpace>()
            .ok_or(Errno::EINVAL)?;
        let i = self.stub_for(a)?;
        let stub = &mut self.stubs[i];
        if self.interrupter.enter(stub.pid) {
            return Ok(Trap::Interrupted);
        }
        let result = Self::run(&self.interrupter, a, stub, regs);
        self.interrupter.leave();
        result
    }

    fn interrupter(&self) -> Interrupter {
        self.interrupter.clone()
    }
}

impl Drop for PtraceContext {
    fn drop(&mut self) {
        for s in self.stubs.drain(..) {
            if let Some(shared) = s.address_space.upgrade()
                && shared.forget_stub(s.pid)
            {
                stub::kill_and_reap(s.pid);
            }
        }
    }
}
