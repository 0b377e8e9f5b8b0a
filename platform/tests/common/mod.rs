//! Shared helpers: a tiny x86_64 machine-code builder and a harness that
//! loads programs into an address space of either backend.

#![expect(
    dead_code,
    reason = "each test binary uses a different subset of the helpers"
)]

use std::sync::Arc;

use abi_linux::Errno;
use platform::{
    Access, AddressSpace, FileRange, MemoryFile, Platform, PtracePlatform, SystrapPlatform,
    UsageKind,
};

/// Where programs are loaded.
pub const CODE: u64 = 0x40_0000;
/// A read-write data page.
pub const DATA: u64 = 0x60_0000;
/// An address nothing is mapped at.
pub const UNMAPPED: u64 = 0x1000_0000;

/// A machine-code builder for the few instructions the tests use.
#[derive(Default)]
pub struct Asm(pub Vec<u8>);

impl Asm {
    /// `mov <reg>, imm64` for rax, rbx, rdi, rsi, rdx, r10, r8, r9.
    pub fn mov_imm(mut self, reg: &str, v: u64) -> Self {
        let (rex, op) = match reg {
            "rax" => (0x48, 0xb8),
            "rbx" => (0x48, 0xbb),
            "rdx" => (0x48, 0xba),
            "rsi" => (0x48, 0xbe),
            "rdi" => (0x48, 0xbf),
            "r8" => (0x49, 0xb8),
            "r9" => (0x49, 0xb9),
            "r10" => (0x49, 0xba),
            _ => panic!("register {reg} not supported"),
        };
        self.0.extend([rex, op]);
        self.0.extend(v.to_le_bytes());
        self
    }
    /// `syscall`.
    pub fn syscall(mut self) -> Self {
        self.0.extend([0x0f, 0x05]);
        self
    }
    /// `mov [rbx], rax`.
    pub fn store_rax_at_rbx(mut self) -> Self {
        self.0.extend([0x48, 0x89, 0x03]);
        self
    }
    /// `mov rax, [rbx]`.
    pub fn load_rax_from_rbx(mut self) -> Self {
        self.0.extend([0x48, 0x8b, 0x03]);
        self
    }
    /// `mov rdi, rax`.
    pub fn mov_rdi_rax(mut self) -> Self {
        self.0.extend([0x48, 0x89, 0xc7]);
        self
    }
    /// `jmp .`.
    pub fn spin(mut self) -> Self {
        self.0.extend([0xeb, 0xfe]);
        self
    }
    /// `ud2`.
    pub fn ud2(mut self) -> Self {
        self.0.extend([0x0f, 0x0b]);
        self
    }
    /// `mov eax, nr; syscall`.
    pub fn sys(self, nr: i64) -> Self {
        self.mov_imm("rax", nr as u64).syscall()
    }
}

/// Which backend a test runs on.
#[derive(Clone, Copy, Debug)]
pub enum Backend {
    Ptrace,
    Systrap,
}

/// Creates the platform, or `None` (with a message) if the host refuses.
pub fn platform(backend: Backend, mf: Arc<MemoryFile>) -> Option<Box<dyn Platform>> {
    let made: Result<Box<dyn Platform>, Errno> = match backend {
        Backend::Ptrace => PtracePlatform::new(mf).map(|p| Box::new(p) as Box<dyn Platform>),
        Backend::Systrap => SystrapPlatform::new(mf).map(|p| Box::new(p) as Box<dyn Platform>),
    };
    match made {
        Ok(p) => Some(p),
        Err(e @ (Errno::EPERM | Errno::EACCES | Errno::ENOSYS | Errno::EINVAL)) => {
            println!("skipped: the host refuses the {backend:?} platform: {e}");
            None
        }
        Err(e) => panic!("{backend:?} platform: {e}"),
    }
}

/// A platform with one address space holding a code page and a data page.
pub struct Harness {
    pub mf: Arc<MemoryFile>,
    pub platform: Box<dyn Platform>,
    pub mm: Box<dyn AddressSpace>,
    pub code: FileRange,
    pub data: FileRange,
}

impl Harness {
    /// Builds the harness with `program` at [`CODE`], or `None` if the
    /// host refuses the backend.
    pub fn new(backend: Backend, program: &Asm) -> Option<Self> {
        let mf = Arc::new(MemoryFile::new().unwrap());
        let platform = platform(backend, mf.clone())?;
        let mm = platform.new_address_space().unwrap();
        let code = mf.allocate(4096, UsageKind::Anonymous).unwrap();
        let data = mf.allocate(4096, UsageKind::Anonymous).unwrap();
        mf.map_internal(code).unwrap().write(0, &program.0).unwrap();
        mm.map_file(CODE, &mf, code, Access::READ_EXECUTE, false)
            .unwrap();
        mm.map_file(DATA, &mf, data, Access::READ_WRITE, true)
            .unwrap();
        Some(Self {
            mf,
            platform,
            mm,
            code,
            data,
        })
    }

    /// Reads the `u64` at `offset` of the data page.
    pub fn data_word(&self, offset: usize) -> u64 {
        let mut b = [0; 8];
        self.mf
            .map_internal(self.data)
            .unwrap()
            .read(offset, &mut b)
            .unwrap();
        u64::from_le_bytes(b)
    }
}
