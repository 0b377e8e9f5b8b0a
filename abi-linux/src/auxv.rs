//! The ids of the auxiliary vector (`AT_*`, `getauxval(3)`) the ELF loader
//! passes to a new program.

/// End of the vector.
pub const AT_NULL: u64 = 0;
/// Entry to ignore.
pub const AT_IGNORE: u64 = 1;
/// Descriptor of the program file.
pub const AT_EXECFD: u64 = 2;
/// Address of the program headers.
pub const AT_PHDR: u64 = 3;
/// Size of a program header entry.
pub const AT_PHENT: u64 = 4;
/// Number of program headers.
pub const AT_PHNUM: u64 = 5;
/// Page size.
pub const AT_PAGESZ: u64 = 6;
/// Base address of the interpreter.
pub const AT_BASE: u64 = 7;
/// Flags (unused).
pub const AT_FLAGS: u64 = 8;
/// Entry point of the program.
pub const AT_ENTRY: u64 = 9;
/// The program is not ELF.
pub const AT_NOTELF: u64 = 10;
/// Real user id.
pub const AT_UID: u64 = 11;
/// Effective user id.
pub const AT_EUID: u64 = 12;
/// Real group id.
pub const AT_GID: u64 = 13;
/// Effective group id.
pub const AT_EGID: u64 = 14;
/// Address of the platform string.
pub const AT_PLATFORM: u64 = 15;
/// Hardware capabilities.
pub const AT_HWCAP: u64 = 16;
/// Clock ticks per second (`times(2)`).
pub const AT_CLKTCK: u64 = 17;
/// Secure mode (setuid and the like).
pub const AT_SECURE: u64 = 23;
/// Address of the real platform string.
pub const AT_BASE_PLATFORM: u64 = 24;
/// Address of 16 random bytes.
pub const AT_RANDOM: u64 = 25;
/// More hardware capabilities.
pub const AT_HWCAP2: u64 = 26;
/// Size of the rseq area the kernel supports.
pub const AT_RSEQ_FEATURE_SIZE: u64 = 27;
/// Alignment the rseq area requires.
pub const AT_RSEQ_ALIGN: u64 = 28;
/// Address of the program's file name.
pub const AT_EXECFN: u64 = 31;
/// Address of the vDSO.
pub const AT_SYSINFO_EHDR: u64 = 33;
/// Minimal size of a signal stack.
pub const AT_MINSIGSTKSZ: u64 = 51;
