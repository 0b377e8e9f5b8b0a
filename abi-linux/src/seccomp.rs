//! Seccomp (`<linux/seccomp.h>`, `<linux/filter.h>`): the operations,
//! filter flags and return actions of `seccomp(2)`, the `seccomp_data`
//! a filter reads, and [`SeccompFilter`], a classic BPF program checked
//! as Linux's `seccomp_check_filter` and `bpf_check_classic` check it
//! and run as the kernel runs it.

use alloc::vec::Vec;

use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout};

use crate::Errno;

/// `SECCOMP_SET_MODE_STRICT`: only `read`, `write`, `_exit` and
/// `rt_sigreturn`.
pub const SECCOMP_SET_MODE_STRICT: u32 = 0;
/// `SECCOMP_SET_MODE_FILTER`: add a BPF filter.
pub const SECCOMP_SET_MODE_FILTER: u32 = 1;
/// `SECCOMP_GET_ACTION_AVAIL`: is a return action supported?
pub const SECCOMP_GET_ACTION_AVAIL: u32 = 2;
/// `SECCOMP_GET_NOTIF_SIZES`: the sizes of the user-notification structs.
pub const SECCOMP_GET_NOTIF_SIZES: u32 = 3;

/// `SECCOMP_MODE_DISABLED`, as `PR_GET_SECCOMP` and `/proc` report it.
pub const SECCOMP_MODE_DISABLED: u32 = 0;
/// `SECCOMP_MODE_STRICT`.
pub const SECCOMP_MODE_STRICT: u32 = 1;
/// `SECCOMP_MODE_FILTER`.
pub const SECCOMP_MODE_FILTER: u32 = 2;

/// `SECCOMP_FILTER_FLAG_TSYNC`: install on every thread of the process.
pub const SECCOMP_FILTER_FLAG_TSYNC: u32 = 1;
/// `SECCOMP_FILTER_FLAG_LOG`: log the actions taken, except `ALLOW`.
pub const SECCOMP_FILTER_FLAG_LOG: u32 = 2;
/// `SECCOMP_FILTER_FLAG_SPEC_ALLOW`: leave speculation mitigations off.
pub const SECCOMP_FILTER_FLAG_SPEC_ALLOW: u32 = 4;
/// `SECCOMP_FILTER_FLAG_NEW_LISTENER`: return a user-notification fd.
pub const SECCOMP_FILTER_FLAG_NEW_LISTENER: u32 = 8;
/// `SECCOMP_FILTER_FLAG_TSYNC_ESRCH`: a failed TSYNC reports `ESRCH`.
pub const SECCOMP_FILTER_FLAG_TSYNC_ESRCH: u32 = 16;
/// `SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV`.
pub const SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV: u32 = 32;

/// `SECCOMP_RET_KILL_PROCESS`: the process dies of `SIGSYS`.
pub const SECCOMP_RET_KILL_PROCESS: u32 = 0x8000_0000;
/// `SECCOMP_RET_KILL_THREAD`: the thread dies of `SIGSYS`.
pub const SECCOMP_RET_KILL_THREAD: u32 = 0;
/// `SECCOMP_RET_TRAP`: a `SIGSYS` the program may handle.
pub const SECCOMP_RET_TRAP: u32 = 0x0003_0000;
/// `SECCOMP_RET_ERRNO`: fail with the errno in the data bits.
pub const SECCOMP_RET_ERRNO: u32 = 0x0005_0000;
/// `SECCOMP_RET_USER_NOTIF`: ask the listener.
pub const SECCOMP_RET_USER_NOTIF: u32 = 0x7fc0_0000;
/// `SECCOMP_RET_TRACE`: stop for the ptracer.
pub const SECCOMP_RET_TRACE: u32 = 0x7ff0_0000;
/// `SECCOMP_RET_LOG`: allow and log.
pub const SECCOMP_RET_LOG: u32 = 0x7ffc_0000;
/// `SECCOMP_RET_ALLOW`: allow.
pub const SECCOMP_RET_ALLOW: u32 = 0x7fff_0000;
/// `SECCOMP_RET_ACTION_FULL`: the action bits of a return value.
pub const SECCOMP_RET_ACTION_FULL: u32 = 0xffff_0000;
/// `SECCOMP_RET_DATA`: the data bits of a return value.
pub const SECCOMP_RET_DATA: u32 = 0x0000_ffff;

/// `SYS_SECCOMP`: the `si_code` of a `SECCOMP_RET_TRAP` signal.
pub const SYS_SECCOMP: i32 = 1;

/// `AUDIT_ARCH_X86_64`: the `arch` of a 64-bit x86 call.
pub const AUDIT_ARCH_X86_64: u32 = 0xc000_003e;

/// `BPF_MAXINSNS`: the most instructions one filter may have.
pub const BPF_MAXINSNS: usize = 4096;
/// `MAX_INSNS_PER_PATH`: the most instructions of a chain of filters,
/// each counted with 4 more (Linux's `seccomp_attach_filter`).
pub const MAX_INSNS_PER_PATH: usize = 32768;

/// `struct seccomp_data`: what a filter reads.
#[derive(Clone, Copy, Debug, Default, FromBytes, IntoBytes, Immutable, KnownLayout)]
#[repr(C)]
pub struct SeccompData {
    /// The system call number.
    pub nr: i32,
    /// The `AUDIT_ARCH_*` of the call.
    pub arch: u32,
    /// The address after the call instruction.
    pub instruction_pointer: u64,
    /// The six arguments.
    pub args: [u64; 6],
}

/// `struct sock_filter`: one classic BPF instruction.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout,
)]
#[repr(C)]
pub struct SockFilter {
    /// The opcode.
    pub code: u16,
    /// The offset to jump by when a condition holds.
    pub jt: u8,
    /// The offset to jump by when it does not.
    pub jf: u8,
    /// The constant operand.
    pub k: u32,
}

impl SockFilter {
    /// The instructions in `bytes` (native byte order, as a program's
    /// memory holds them); a trailing partial instruction is ignored.
    pub fn parse_all(bytes: &[u8]) -> Vec<SockFilter> {
        bytes
            .chunks_exact(core::mem::size_of::<SockFilter>())
            .filter_map(|c| SockFilter::read_from_bytes(c).ok())
            .collect()
    }
}

/// `struct sock_fprog`: a program's length and address.
#[derive(Clone, Copy, Debug, Default, FromBytes, IntoBytes, Immutable, KnownLayout)]
#[repr(C)]
pub struct SockFprog {
    /// The number of instructions.
    pub len: u16,
    /// Padding.
    pub _pad: [u8; 6],
    /// The address of the instructions.
    pub filter: u64,
}

/// `struct seccomp_notif_sizes`.
#[derive(Clone, Copy, Debug, Default, FromBytes, IntoBytes, Immutable, KnownLayout)]
#[repr(C)]
pub struct SeccompNotifSizes {
    /// `sizeof(struct seccomp_notif)`.
    pub seccomp_notif: u16,
    /// `sizeof(struct seccomp_notif_resp)`.
    pub seccomp_notif_resp: u16,
    /// `sizeof(struct seccomp_data)`.
    pub seccomp_data: u16,
}

// Instruction classes and fields of classic BPF (`<linux/bpf_common.h>`).
const BPF_LD: u16 = 0x00;
const BPF_LDX: u16 = 0x01;
const BPF_ST: u16 = 0x02;
const BPF_STX: u16 = 0x03;
const BPF_ALU: u16 = 0x04;
const BPF_JMP: u16 = 0x05;
const BPF_RET: u16 = 0x06;
const BPF_MISC: u16 = 0x07;
const BPF_W: u16 = 0x00;
const BPF_IMM: u16 = 0x00;
const BPF_ABS: u16 = 0x20;
const BPF_MEM: u16 = 0x60;
const BPF_LEN: u16 = 0x80;
const BPF_K: u16 = 0x00;
const BPF_X: u16 = 0x08;
const BPF_A: u16 = 0x10;
const BPF_ADD: u16 = 0x00;
const BPF_SUB: u16 = 0x10;
const BPF_MUL: u16 = 0x20;
const BPF_DIV: u16 = 0x30;
const BPF_OR: u16 = 0x40;
const BPF_AND: u16 = 0x50;
const BPF_LSH: u16 = 0x60;
const BPF_RSH: u16 = 0x70;
const BPF_NEG: u16 = 0x80;
const BPF_XOR: u16 = 0xa0;
const BPF_JA: u16 = 0x00;
const BPF_JEQ: u16 = 0x10;
const BPF_JGT: u16 = 0x20;
const BPF_JGE: u16 = 0x30;
const BPF_JSET: u16 = 0x40;
const BPF_TAX: u16 = 0x00;
const BPF_TXA: u16 = 0x80;
/// `BPF_MEMWORDS`: the scratch memory's words.
const BPF_MEMWORDS: u32 = 16;

/// The size of [`SeccompData`], which `BPF_LEN` loads.
const DATA_LEN: u32 = core::mem::size_of::<SeccompData>() as u32;

/// A checked seccomp filter.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SeccompFilter {
    insns: Vec<SockFilter>,
}

impl SeccompFilter {
    /// Checks `insns` as Linux does before attaching a filter: 1 to
    /// [`BPF_MAXINSNS`] instructions of the allowed kinds (word loads of
    /// `seccomp_data` at aligned offsets inside it, no packet loads, no
    /// `BPF_MOD`), jumps that stay inside the program, no division by a
    /// zero constant or shift by 32 or more, scratch words in range and
    /// written on every path before they are read, and a return last.
    /// `EINVAL` otherwise. `BPF_LEN` loads become immediate loads of the
    /// data's size, as in Linux.
    pub fn new(insns: &[SockFilter]) -> Result<Self, Errno> {
        if insns.is_empty() || insns.len() > BPF_MAXINSNS {
            return Err(Errno::EINVAL);
        }
        let len = insns.len();
        let mut out = Vec::with_capacity(len);
        for (pc, &ins) in insns.iter().enumerate() {
            let mut ins = ins;
            let left = (len - pc - 1) as u32;
            let code = ins.code;
            match code {
                c if c == BPF_LD | BPF_W | BPF_ABS => {
                    if ins.k >= DATA_LEN || ins.k % 4 != 0 {
                        return Err(Errno::EINVAL);
                    }
                }
                c if c == BPF_LD | BPF_W | BPF_LEN => {
                    ins.code = BPF_LD | BPF_IMM;
                    ins.k = DATA_LEN;
                }
                c if c == BPF_LDX | BPF_W | BPF_LEN => {
                    ins.code = BPF_LDX | BPF_IMM;
                    ins.k = DATA_LEN;
                }
                c if c == BPF_RET | BPF_K || c == BPF_RET | BPF_A => {}
                c if c == BPF_ALU | BPF_DIV | BPF_K => {
                    if ins.k == 0 {
                        return Err(Errno::EINVAL);
                    }
                }
                c if c == BPF_ALU | BPF_LSH | BPF_K || c == BPF_ALU | BPF_RSH | BPF_K => {
                    if ins.k >= 32 {
                        return Err(Errno::EINVAL);
                    }
                }
                c if c & 0x07 == BPF_ALU
                    && c & !(0xf0 | BPF_X) == BPF_ALU
                    && [
                        BPF_ADD, BPF_SUB, BPF_MUL, BPF_DIV, BPF_AND, BPF_OR, BPF_XOR, BPF_LSH,
                        BPF_RSH,
                    ]
                    .contains(&(c & 0xf0)) => {}
                c if c == BPF_ALU | BPF_NEG => {}
                c if c == BPF_LD | BPF_IMM || c == BPF_LDX | BPF_IMM => {}
                c if c == BPF_MISC | BPF_TAX || c == BPF_MISC | BPF_TXA => {}
                c if c == BPF_LD | BPF_MEM
                    || c == BPF_LDX | BPF_MEM
                    || c == BPF_ST
                    || c == BPF_STX =>
                {
                    if ins.k >= BPF_MEMWORDS {
                        return Err(Errno::EINVAL);
                    }
                }
                c if c == BPF_JMP | BPF_JA => {
                    if ins.k >= left {
                        return Err(Errno::EINVAL);
                    }
                }
                c if c & 0x07 == BPF_JMP
                    && c & !(0xf0 | BPF_X) == BPF_JMP
                    && [BPF_JEQ, BPF_JGT, BPF_JGE, BPF_JSET].contains(&(c & 0xf0)) =>
                {
                    if u32::from(ins.jt) >= left || u32::from(ins.jf) >= left {
                        return Err(Errno::EINVAL);
                    }
                }
                _ => return Err(Errno::EINVAL),
            }
            out.push(ins);
        }
        if out[len - 1].code & 0x07 != BPF_RET {
            return Err(Errno::EINVAL);
        }
        check_memory(&out)?;
        Ok(Self { insns: out })
    }

    /// The number of instructions.
    pub fn len(&self) -> usize {
        self.insns.len()
    }

    /// Whether the filter has no instructions (never: [`SeccompFilter::new`]
    /// refuses that).
    pub fn is_empty(&self) -> bool {
        self.insns.is_empty()
    }

    /// The instructions, after `BPF_LEN` rewriting.
    pub fn instructions(&self) -> &[SockFilter] {
        &self.insns
    }

    /// Runs the filter over `data` and returns its verdict. Jumps only go
    /// forward, so it ends within its length; a division by a zero `X`
    /// returns 0 (kill), as in Linux's interpreter.
    pub fn run(&self, data: &SeccompData) -> u32 {
        let bytes = data.as_bytes();
        let (mut a, mut x) = (0u32, 0u32);
        let mut mem = [0u32; BPF_MEMWORDS as usize];
        let mut pc = 0usize;
        while let Some(&ins) = self.insns.get(pc) {
            pc += 1;
            let k = ins.k;
            let code = ins.code;
            match code & 0x07 {
                BPF_LD => match code & 0xe0 {
                    BPF_ABS => {
                        let at = k as usize;
                        let word = bytes
                            .get(at..at + 4)
                            .map_or(0, |w| u32::from_ne_bytes([w[0], w[1], w[2], w[3]]));
                        a = word;
                    }
                    BPF_MEM => a = mem[k as usize % mem.len()],
                    _ => a = k,
                },
                BPF_LDX => {
                    x = if code & 0xe0 == BPF_MEM {
                        mem[k as usize % mem.len()]
                    } else {
                        k
                    }
                }
                BPF_ST => mem[k as usize % mem.len()] = a,
                BPF_STX => mem[k as usize % mem.len()] = x,
                BPF_ALU => {
                    let operand = if code & BPF_X != 0 { x } else { k };
                    a = match code & 0xf0 {
                        BPF_ADD => a.wrapping_add(operand),
                        BPF_SUB => a.wrapping_sub(operand),
                        BPF_MUL => a.wrapping_mul(operand),
                        BPF_DIV => match a.checked_div(operand) {
                            Some(v) => v,
                            None => return 0,
                        },
                        BPF_OR => a | operand,
                        BPF_AND => a & operand,
                        BPF_XOR => a ^ operand,
                        BPF_LSH => a.checked_shl(operand).unwrap_or(0),
                        BPF_RSH => a.checked_shr(operand).unwrap_or(0),
                        _ => a.wrapping_neg(),
                    };
                }
                BPF_JMP => {
                    if code & 0xf0 == BPF_JA {
                        pc += k as usize;
                        continue;
                    }
                    let operand = if code & BPF_X != 0 { x } else { k };
                    let taken = match code & 0xf0 {
                        BPF_JEQ => a == operand,
                        BPF_JGT => a > operand,
                        BPF_JGE => a >= operand,
                        _ => a & operand != 0,
                    };
                    pc += usize::from(if taken { ins.jt } else { ins.jf });
                }
                BPF_RET => return if code & 0x18 == BPF_A { a } else { k },
                _ => {
                    if code & 0xf8 == BPF_TXA {
                        a = x;
                    } else {
                        x = a;
                    }
                }
            }
        }
        // Unreachable for a checked filter (its last instruction returns).
        SECCOMP_RET_KILL_PROCESS
    }
}

/// Linux's `check_load_and_stores`: every scratch word a path reads was
/// stored earlier on that path. Tracks, for each instruction, the words
/// known written on every path that reaches it.
fn check_memory(insns: &[SockFilter]) -> Result<(), Errno> {
    let all = (1u32 << BPF_MEMWORDS) - 1;
    let mut valid = alloc::vec![all; insns.len()];
    let mut known = 0u32;
    for (pc, ins) in insns.iter().enumerate() {
        known &= valid[pc];
        let code = ins.code;
        if code == BPF_ST || code == BPF_STX {
            known |= 1 << ins.k;
        } else if (code == BPF_LD | BPF_MEM || code == BPF_LDX | BPF_MEM)
            && known & (1 << ins.k) == 0
        {
            return Err(Errno::EINVAL);
        }
        if code & 0x07 == BPF_JMP {
            if code & 0xf0 == BPF_JA {
                let to = pc + 1 + ins.k as usize;
                valid[to] &= known;
                // The next instruction is reached only by jumps.
                known = all;
            } else {
                valid[pc + 1 + usize::from(ins.jt)] &= known;
                valid[pc + 1 + usize::from(ins.jf)] &= known;
                known = all;
            }
        } else if code & 0x07 == BPF_RET {
            known = all;
        }
    }
    Ok(())
}

/// Whether a filter action is one Linux knows (`SECCOMP_GET_ACTION_AVAIL`).
pub fn action_known(action: u32) -> bool {
    matches!(
        action,
        SECCOMP_RET_KILL_PROCESS
            | SECCOMP_RET_KILL_THREAD
            | SECCOMP_RET_TRAP
            | SECCOMP_RET_ERRNO
            | SECCOMP_RET_USER_NOTIF
            | SECCOMP_RET_TRACE
            | SECCOMP_RET_LOG
            | SECCOMP_RET_ALLOW
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ins(code: u16, jt: u8, jf: u8, k: u32) -> SockFilter {
        SockFilter { code, jt, jf, k }
    }

    #[test]
    fn a_filter_that_denies_one_call() {
        // Load nr; if 39 (getpid) return ERRNO(1), else ALLOW.
        let f = SeccompFilter::new(&[
            ins(BPF_LD | BPF_W | BPF_ABS, 0, 0, 0),
            ins(BPF_JMP | BPF_JEQ | BPF_K, 0, 1, 39),
            ins(BPF_RET | BPF_K, 0, 0, SECCOMP_RET_ERRNO | 1),
            ins(BPF_RET | BPF_K, 0, 0, SECCOMP_RET_ALLOW),
        ])
        .unwrap();
        let mut d = SeccompData {
            nr: 39,
            arch: AUDIT_ARCH_X86_64,
            ..SeccompData::default()
        };
        assert_eq!(f.run(&d), SECCOMP_RET_ERRNO | 1);
        d.nr = 0;
        assert_eq!(f.run(&d), SECCOMP_RET_ALLOW);
    }

    #[test]
    fn malformed_filters_are_refused() {
        let ret = ins(BPF_RET | BPF_K, 0, 0, 0);
        for bad in [
            &[][..],
            &[ins(BPF_LD | BPF_W | BPF_ABS, 0, 0, 2), ret][..],
            &[ins(BPF_LD | BPF_W | BPF_ABS, 0, 0, 64), ret][..],
            &[ins(BPF_LD | 0x08 | BPF_ABS, 0, 0, 0), ret][..],
            &[ins(BPF_JMP | BPF_JA, 0, 0, 1), ret][..],
            &[ins(BPF_JMP | BPF_JEQ | BPF_K, 1, 0, 0), ret][..],
            &[ins(BPF_ALU | BPF_DIV | BPF_K, 0, 0, 0), ret][..],
            &[ins(BPF_ALU | 0x90 | BPF_K, 0, 0, 3), ret][..],
            &[ins(BPF_ALU | BPF_LSH | BPF_K, 0, 0, 32), ret][..],
            &[ins(BPF_LD | BPF_MEM, 0, 0, 0), ret][..],
            &[ins(BPF_ST, 0, 0, 16), ret][..],
            &[ins(BPF_LD | BPF_IMM, 0, 0, 0)][..],
        ] {
            assert_eq!(SeccompFilter::new(bad), Err(Errno::EINVAL), "{bad:?}");
        }
        let long = alloc::vec![ret; BPF_MAXINSNS + 1];
        assert_eq!(SeccompFilter::new(&long), Err(Errno::EINVAL));
    }

    #[test]
    fn scratch_memory_written_on_one_branch_only_is_refused() {
        let f = [
            ins(BPF_JMP | BPF_JEQ | BPF_K, 0, 1, 0),
            ins(BPF_ST, 0, 0, 3),
            ins(BPF_LD | BPF_MEM, 0, 0, 3),
            ins(BPF_RET | BPF_A, 0, 0, 0),
        ];
        assert_eq!(SeccompFilter::new(&f), Err(Errno::EINVAL));
        let ok = [
            ins(BPF_ST, 0, 0, 3),
            ins(BPF_JMP | BPF_JEQ | BPF_K, 0, 0, 0),
            ins(BPF_LD | BPF_MEM, 0, 0, 3),
            ins(BPF_RET | BPF_A, 0, 0, 0),
        ];
        assert!(SeccompFilter::new(&ok).is_ok());
    }

    /// Random programs (from a fixed-seed generator, biased towards the
    /// opcodes the checker accepts) never panic the checker, and every
    /// accepted one runs to a verdict: what the fuzz target checks, run
    /// in every test pass.
    #[test]
    fn random_programs_never_panic() {
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let codes = [
            0x00, 0x01, 0x02, 0x03, 0x04, 0x0c, 0x14, 0x1c, 0x24, 0x2c, 0x34, 0x3c, 0x44, 0x4c,
            0x54, 0x5c, 0x64, 0x6c, 0x74, 0x7c, 0x84, 0xa4, 0xac, 0x05, 0x15, 0x1d, 0x25, 0x2d,
            0x35, 0x3d, 0x45, 0x4d, 0x06, 0x16, 0x07, 0x87, 0x20, 0x60, 0x61, 0x80, 0x81, 0x94,
        ];
        let mut accepted = 0;
        for _ in 0..20_000 {
            let len = (next() % 12 + 1) as usize;
            let prog: Vec<SockFilter> = (0..len)
                .map(|_| {
                    let r = next();
                    SockFilter {
                        code: if r % 8 == 0 {
                            (r >> 8) as u16
                        } else {
                            codes[(r >> 8) as usize % codes.len()]
                        },
                        jt: (r >> 24) as u8 % 4,
                        jf: (r >> 32) as u8 % 4,
                        k: if r % 3 == 0 {
                            (r >> 40) as u32
                        } else {
                            (r >> 40) as u32 % 68
                        },
                    }
                })
                .collect();
            if let Ok(f) = SeccompFilter::new(&prog) {
                accepted += 1;
                let data = SeccompData {
                    nr: next() as i32,
                    arch: next() as u32,
                    instruction_pointer: next(),
                    args: [next(), next(), next(), next(), next(), next()],
                };
                let _ = f.run(&data);
            }
        }
        assert!(accepted > 100, "only {accepted} random programs were valid");
    }

    #[test]
    fn arithmetic_and_the_length_load() {
        let f = SeccompFilter::new(&[
            ins(BPF_LD | BPF_W | BPF_LEN, 0, 0, 0),
            ins(BPF_MISC | BPF_TAX, 0, 0, 0),
            ins(BPF_LD | BPF_IMM, 0, 0, 6),
            ins(BPF_ALU | BPF_MUL | BPF_X, 0, 0, 0),
            ins(BPF_ALU | BPF_RSH | BPF_K, 0, 0, 2),
            ins(BPF_RET | BPF_A, 0, 0, 0),
        ])
        .unwrap();
        assert_eq!(f.run(&SeccompData::default()), 64 * 6 / 4);
        let div = SeccompFilter::new(&[
            ins(BPF_LDX | BPF_IMM, 0, 0, 0),
            ins(BPF_ALU | BPF_DIV | BPF_X, 0, 0, 0),
            ins(BPF_RET | BPF_K, 0, 0, SECCOMP_RET_ALLOW),
        ])
        .unwrap();
        assert_eq!(div.run(&SeccompData::default()), 0);
    }
}
