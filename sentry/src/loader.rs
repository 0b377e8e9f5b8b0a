//! Loading a program into a fresh address space (gVisor's
//! `pkg/sentry/loader`, Linux's `fs/binfmt_elf.c` and
//! `fs/binfmt_script.c`): `#!` scripts, static, static-PIE and dynamic ELF
//! executables (the interpreter is loaded from the sandbox's own
//! filesystem), and the initial stack with argv, envp and the auxiliary
//! vector.
//!
//! Segments are copied from the file into private anonymous memory at load
//! time; file-backed mappings through `configure_mmap` come later.

use std::sync::Arc;

use abi_linux::auxv::*;
use abi_linux::mode::{S_ISGID, S_ISUID, S_IXGRP};
use abi_linux::{CapabilitySet, Errno, OpenFlags};
use platform::{Access, Registers};
use vfs_core::io::SliceDest;
use vfs_core::{
    Context, Credentials, FileRef, OpenOptions, PathOperation, ReadOptions, VirtualFilesystem,
};

use crate::elf::{self, ElfInfo, ElfSource, PAGE_SIZE, PT_LOAD, page_down, page_up};
use crate::mm::MemoryManager;

/// The largest `#!` line Linux reads (`BINPRM_BUF_SIZE`).
const BINPRM_BUF_SIZE: usize = 256;
/// How many interpreters may nest (`#!` of `#!` ...).
const MAX_LOADER_DEPTH: usize = 4;
/// Where a position-independent executable is loaded (Linux's
/// `ELF_ET_DYN_BASE` for 47-bit address spaces, without randomisation).
const ET_DYN_BASE: u64 = 0x5555_5555_4000;
/// The smallest stack mapping.
const MIN_STACK: u64 = 128 << 10;
/// The largest stack: what fits below the top of the address space
/// above the mmap area, less Linux's 1 MiB guard gap.
const MAX_STACK: u64 = crate::mm::MMAP_GAP - (1 << 20);

/// The size of the stack mapping for a soft `RLIMIT_STACK` of `limit`
/// bytes: the limit, page-aligned, within [`MIN_STACK`] and
/// [`MAX_STACK`] (an unlimited stack gets the most). Linux grows the
/// stack on demand up to the limit; the sentry maps it whole (its pages
/// are only made when touched), so a deeper stack faults as on Linux.
fn stack_size(limit: u64) -> u64 {
    (limit & !(PAGE_SIZE - 1)).clamp(MIN_STACK, MAX_STACK)
}
/// The most bytes of argument and environment strings (Linux allows a
/// quarter of the stack limit).
const MAX_ARG_BYTES: usize = 2 << 20;

/// What to run.
#[derive(Clone)]
pub struct LoadRequest<'a> {
    /// The VFS.
    pub vfs: &'a Arc<VirtualFilesystem>,
    /// The root and starting directory for path lookups.
    pub root: &'a vfs_core::VirtualDentry,
    /// The working directory.
    pub cwd: &'a vfs_core::VirtualDentry,
    /// The path of the program (empty for the starting directory's own
    /// file: `execveat` with `AT_EMPTY_PATH`).
    pub path: &'a [u8],
    /// The name the program is run by (`AT_EXECFN`, and what a script's
    /// interpreter is given): the path, or `/dev/fd/N[/path]` for a run
    /// relative to a descriptor.
    pub filename: &'a [u8],
    /// `filename` will not exist in the new program (its descriptor is
    /// close-on-exec), so a script cannot run (`ENOENT`).
    pub filename_inaccessible: bool,
    /// A symbolic link as the program's final component is refused
    /// (`AT_SYMLINK_NOFOLLOW`: `ELOOP`).
    pub nofollow: bool,
    /// The argument vector.
    pub argv: Vec<Vec<u8>>,
    /// The environment.
    pub envp: Vec<Vec<u8>>,
    /// The caller's credentials, from which the program's are computed.
    pub creds: &'a Credentials,
    /// Whether set-user-ID and set-group-ID bits are ignored
    /// (`PR_SET_NO_NEW_PRIVS`).
    pub no_new_privs: bool,
    /// The soft `RLIMIT_STACK`: how large the stack may grow.
    pub stack_limit: u64,
}

/// The result of a load.
#[derive(Debug)]
pub struct Loaded {
    /// The registers to start the program with.
    pub regs: Registers,
    /// The final argument vector (after `#!` rewriting).
    pub argv: Vec<Vec<u8>>,
    /// The auxiliary vector given to the program (`/proc/PID/auxv`, core
    /// dumps), ending with `AT_NULL`.
    pub auxv: Vec<(u64, u64)>,
    /// The absolute path of the executable run (the interpreter of a `#!`
    /// script), for `/proc/PID/exe`.
    pub exe: Vec<u8>,
    /// The credentials the program runs with.
    pub creds: Credentials,
    /// Whether the exec changed identity or gained capabilities
    /// (`AT_SECURE`): the process becomes non-dumpable and loses its
    /// parent-death signal.
    pub secure: bool,
}

/// The credentials a program starts with (Linux's `bprm_fill_uid` and
/// `cap_bprm_creds_from_file`, with no file capabilities): the file's
/// set-user-ID and set-group-ID bits (the latter only with group
/// execute) take effect unless the mount is `nosuid` or the caller set
/// `no_new_privs`; root (real or effective) gets the bounding set plus
/// the inheritable one as permitted, effective when the effective ID is
/// root; anyone else keeps only ambient capabilities, which an identity
/// change clears. Returns the credentials and whether the exec is
/// "secure" (identity changed or capabilities gained).
pub fn exec_credentials(
    old: &Credentials,
    file: &abi_linux::Statx,
    ignore_setid: bool,
) -> (Credentials, bool) {
    let mut new = old.clone();
    let mode = u32::from(file.stx_mode);
    if !ignore_setid {
        if mode & S_ISUID != 0 {
            new.effective_uid = file.stx_uid;
        }
        if mode & (S_ISGID | S_IXGRP) == S_ISGID | S_IXGRP {
            new.effective_gid = file.stx_gid;
        }
    }
    let setid = new.effective_uid != old.real_uid || new.effective_gid != old.real_gid;
    if setid {
        new.ambient_caps = CapabilitySet::empty();
    }
    let root_ids = new.effective_uid == 0 || new.real_uid == 0;
    new.permitted_caps = if root_ids {
        old.bounding_caps.union(old.inheritable_caps)
    } else {
        new.ambient_caps
    };
    new.effective_caps = if new.effective_uid == 0 {
        new.permitted_caps
    } else {
        new.ambient_caps
    };
    new.saved_uid = new.effective_uid;
    new.fs_uid = new.effective_uid;
    new.saved_gid = new.effective_gid;
    new.fs_gid = new.effective_gid;
    let grew = !new.permitted_caps.is_subset(old.permitted_caps);
    let secure = setid || (new.real_uid != 0 && grew);
    (new, secure)
}

struct FileSource<'a> {
    file: &'a FileRef,
    ctx: &'a dyn Context,
    size: u64,
}

impl ElfSource for FileSource<'_> {
    fn size(&self) -> u64 {
        self.size
    }

    fn read_exact_at(&self, offset: u64, buf: &mut [u8]) -> abi_linux::Result<()> {
        let mut done = 0;
        while done < buf.len() {
            let off = offset
                .checked_add(done as u64)
                .and_then(|o| i64::try_from(o).ok())
                .ok_or(Errno::ENOEXEC)?;
            let mut dst = SliceDest::new(&mut buf[done..]);
            let n = self
                .file
                .pread(self.ctx, &mut dst, off, ReadOptions::default())?;
            if n == 0 {
                return Err(Errno::ENOEXEC);
            }
            done += n;
        }
        Ok(())
    }
}

fn open_exec(
    ctx: &dyn Context,
    req: &LoadRequest<'_>,
    path: &[u8],
    nofollow: bool,
) -> Result<FileRef, Errno> {
    let pop = PathOperation::new(req.root, req.cwd, path);
    req.vfs.open_at(
        ctx,
        &pop,
        OpenOptions {
            flags: if nofollow {
                OpenFlags::NOFOLLOW
            } else {
                OpenFlags::empty()
            },
            mode: 0,
            file_exec: true,
        },
    )
}

/// Parses a `#!` line: the interpreter and its optional single argument.
fn parse_shebang(head: &[u8]) -> Result<(Vec<u8>, Option<Vec<u8>>), Errno> {
    let line = &head[2..];
    let line = match line.iter().position(|&b| b == b'\n') {
        Some(i) => &line[..i],
        None if head.len() >= BINPRM_BUF_SIZE => return Err(Errno::ENOEXEC),
        None => line,
    };
    let trimmed: &[u8] = {
        let start = line
            .iter()
            .position(|&b| b != b' ' && b != b'\t')
            .unwrap_or(line.len());
        let end = line
            .iter()
            .rposition(|&b| b != b' ' && b != b'\t')
            .map_or(start, |i| i + 1);
        &line[start..end.max(start)]
    };
    if trimmed.is_empty() {
        return Err(Errno::ENOEXEC);
    }
    let split = trimmed.iter().position(|&b| b == b' ' || b == b'\t');
    Ok(match split {
        None => (trimmed.to_vec(), None),
        Some(i) => {
            let arg: Vec<u8> = trimmed[i..]
                .iter()
                .copied()
                .skip_while(|&b| b == b' ' || b == b'\t')
                .collect();
            (trimmed[..i].to_vec(), (!arg.is_empty()).then_some(arg))
        }
    })
}

fn perms_of(flags: u32) -> Access {
    Access {
        read: flags & elf::PF_R != 0,
        write: flags & elf::PF_W != 0,
        execute: flags & elf::PF_X != 0,
    }
}

/// Maps the loadable segments of `info` at `bias` and copies their file
/// bytes in.
fn map_segments(
    mm: &MemoryManager,
    src: &FileSource<'_>,
    info: &ElfInfo,
    bias: u64,
    name: &str,
) -> Result<(), Errno> {
    for ph in info.phdrs.iter().filter(|p| p.kind == PT_LOAD) {
        if ph.mem_size == 0 {
            continue;
        }
        let start = bias
            .checked_add(page_down(ph.vaddr))
            .ok_or(Errno::ENOEXEC)?;
        let end = bias
            .checked_add(ph.vaddr + ph.mem_size)
            .and_then(page_up)
            .ok_or(Errno::ENOEXEC)?;
        if start < mm.min_addr() || end > mm.max_addr() {
            return Err(Errno::ENOMEM);
        }
        mm.map_anonymous(
            start,
            end - start,
            perms_of(ph.flags),
            false,
            true,
            Some(name.to_string()),
        )?;
        // The file's bytes from the page boundary, as a file mapping shows
        // them; the rest of the last page and the bss stay zero.
        let mut off = page_down(ph.offset);
        let file_end = ph.offset + ph.file_size;
        let mut addr = start;
        let mut buf = vec![0u8; 1 << 16];
        while off < file_end {
            let n = ((file_end - off) as usize).min(buf.len());
            src.read_exact_at(off, &mut buf[..n])?;
            if mm.copy_out_force(addr, &buf[..n])? != n {
                return Err(Errno::EFAULT);
            }
            off += n as u64;
            addr += n as u64;
        }
    }
    Ok(())
}

/// The load bias and mapped span of an executable or interpreter.
fn choose_bias(mm: &MemoryManager, info: &ElfInfo, interp: bool) -> Result<u64, Errno> {
    if info.kind == elf::ET_EXEC {
        return Ok(0);
    }
    let (lo, hi) = info.load_span();
    if !interp {
        return ET_DYN_BASE.checked_sub(lo).ok_or(Errno::ENOEXEC);
    }
    // Reserve the whole span wherever it fits; the segments then replace
    // parts of the reservation.
    let base = mm.map_anonymous(0, hi - lo, Access::NONE, false, false, None)?;
    Ok(base - lo)
}

/// Loads the program `req.path` into `mm` (empty) and builds its stack.
pub fn load(
    ctx: &dyn Context,
    mm: &MemoryManager,
    mut req: LoadRequest<'_>,
) -> Result<Loaded, Errno> {
    let mut path = req.path.to_vec();
    let mut depth = 0;
    let (file, info) = loop {
        let file = open_exec(ctx, &req, &path, depth == 0 && req.nofollow)?;
        let size = file.stat(ctx, vfs_core::StatOptions::default())?.stx_size;
        let mut head = vec![0u8; (size as usize).min(BINPRM_BUF_SIZE)];
        let src = FileSource {
            file: &file,
            ctx,
            size,
        };
        src.read_exact_at(0, &mut head)?;
        if head.starts_with(b"#!") {
            file.release(ctx);
            depth += 1;
            if depth > MAX_LOADER_DEPTH {
                return Err(Errno::ELOOP);
            }
            let (interp, arg) = parse_shebang(&head)?;
            // The script is named as it was run (Linux's `bprm->interp`);
            // a name that will not exist for the interpreter cannot be.
            let name = if depth == 1 {
                if req.filename_inaccessible {
                    return Err(Errno::ENOENT);
                }
                req.filename.to_vec()
            } else {
                path.clone()
            };
            let mut argv = vec![interp.clone()];
            argv.extend(arg);
            argv.push(name);
            argv.extend(req.argv.iter().skip(1).cloned());
            req.argv = argv;
            path = interp;
            continue;
        }
        match ElfInfo::parse(&src) {
            Ok(info) => break (file, info),
            Err(e) => {
                file.release(ctx);
                return Err(e);
            }
        }
    };
    let identity = file
        .stat(ctx, vfs_core::StatOptions::default())
        .map(|stat| {
            let nosuid = file
                .mount()
                .flags()
                .contains(vfs_core::MountOptionFlags::NO_SUID);
            exec_credentials(req.creds, &stat, nosuid || req.no_new_privs)
        });
    let (creds, secure) = match identity {
        Ok(identity) => identity,
        Err(e) => {
            file.release(ctx);
            return Err(e);
        }
    };
    let vd = file.virtual_dentry();
    let exe = req
        .vfs
        .path_name(req.root, &vd)
        .unwrap_or_else(|_| path.clone());
    vd.release(ctx);
    let result = load_elf(ctx, mm, &req, &path, &file, &info, (&creds, secure));
    file.release(ctx);
    result.map(|Started { regs, argv, auxv }| Loaded {
        regs,
        argv,
        auxv,
        exe,
        creds,
        secure,
    })
}

fn load_elf(
    ctx: &dyn Context,
    mm: &MemoryManager,
    req: &LoadRequest<'_>,
    path: &[u8],
    file: &FileRef,
    info: &ElfInfo,
    identity: (&Credentials, bool),
) -> Result<Started, Errno> {
    let size = file.stat(ctx, vfs_core::StatOptions::default())?.stx_size;
    let src = FileSource { file, ctx, size };
    let name = String::from_utf8_lossy(path).into_owned();
    let bias = choose_bias(mm, info, false)?;
    map_segments(mm, &src, info, bias, &name)?;
    let (_, hi) = info.load_span();
    mm.set_brk_start(bias.checked_add(hi).ok_or(Errno::ENOEXEC)?);
    let entry = bias.wrapping_add(info.entry);
    let phdr = info.phdr_vaddr().map_or(0, |v| bias.wrapping_add(v));
    let (start_ip, interp_base) = match &info.interp {
        None => (entry, 0),
        Some(interp_path) => {
            let ifile = open_exec(ctx, req, interp_path, false)?;
            let isize = ifile.stat(ctx, vfs_core::StatOptions::default())?.stx_size;
            let isrc = FileSource {
                file: &ifile,
                ctx,
                size: isize,
            };
            let loaded = ElfInfo::parse(&isrc).and_then(|iinfo| {
                if iinfo.interp.is_some() {
                    return Err(Errno::ELIBBAD);
                }
                let ibias = choose_bias(mm, &iinfo, true)?;
                let iname = String::from_utf8_lossy(interp_path).into_owned();
                map_segments(mm, &isrc, &iinfo, ibias, &iname)?;
                let (lo, _) = iinfo.load_span();
                Ok((ibias.wrapping_add(iinfo.entry), ibias.wrapping_add(lo)))
            });
            ifile.release(ctx);
            loaded?
        }
    };
    let phnum = info.phdrs.len() as u64;
    let auxv = |execfn: u64, platform: u64, random: u64| {
        let (creds, secure) = identity;
        vec![
            (AT_PHDR, phdr),
            (AT_PHENT, 56),
            (AT_PHNUM, phnum),
            (AT_PAGESZ, PAGE_SIZE),
            (AT_BASE, interp_base),
            (AT_FLAGS, 0),
            (AT_ENTRY, entry),
            (AT_UID, u64::from(creds.real_uid)),
            (AT_EUID, u64::from(creds.effective_uid)),
            (AT_GID, u64::from(creds.real_gid)),
            (AT_EGID, u64::from(creds.effective_gid)),
            (AT_SECURE, u64::from(secure)),
            (AT_HWCAP, hwcap()),
            (AT_CLKTCK, 100),
            (AT_RANDOM, random),
            (AT_EXECFN, execfn),
            (AT_PLATFORM, platform),
            (AT_NULL, 0),
        ]
    };
    let stack_size = stack_size(req.stack_limit);
    let (sp, auxv) = build_stack(mm, stack_size, &req.argv, &req.envp, req.filename, auxv)?;
    let mut regs = Registers::new();
    regs.set_instruction_pointer(start_ip);
    regs.set_stack_pointer(sp);
    Ok(Started {
        regs,
        argv: req.argv.clone(),
        auxv,
    })
}

/// How a loaded ELF program starts: its registers, argument vector and
/// auxiliary vector.
struct Started {
    regs: Registers,
    argv: Vec<Vec<u8>>,
    auxv: Vec<(u64, u64)>,
}

/// `AT_HWCAP` on x86_64: CPUID leaf 1's EDX.
fn hwcap() -> u64 {
    let leaf = core::arch::x86_64::__cpuid(1);
    u64::from(leaf.edx)
}

/// Maps the stack and writes the strings, `AT_RANDOM` bytes, auxiliary
/// vector, environment and argument pointers and `argc`; returns the
/// initial stack pointer (pointing at `argc`, 16-byte aligned).
fn build_stack(
    mm: &MemoryManager,
    stack_size: u64,
    argv: &[Vec<u8>],
    envp: &[Vec<u8>],
    execfn: &[u8],
    auxv: impl Fn(u64, u64, u64) -> Vec<(u64, u64)>,
) -> Result<(u64, Vec<(u64, u64)>), Errno> {
    let total: usize = argv.iter().chain(envp).map(|s| s.len() + 1).sum();
    if total + execfn.len() > MAX_ARG_BYTES {
        return Err(Errno::E2BIG);
    }
    let top = mm.max_addr() - PAGE_SIZE;
    let bottom = top - stack_size;
    mm.map_anonymous(
        bottom,
        stack_size,
        Access::READ_WRITE,
        false,
        true,
        Some("[stack]".into()),
    )?;
    let mut sp = top;
    let push_bytes = |bytes: &[u8], sp: &mut u64| -> Result<u64, Errno> {
        *sp -= bytes.len() as u64;
        mm.copy_out_exact(*sp, bytes)?;
        Ok(*sp)
    };
    let with_nul = |s: &[u8]| {
        let mut v = s.to_vec();
        v.push(0);
        v
    };
    let execfn_addr = push_bytes(&with_nul(execfn), &mut sp)?;
    let mut env_addrs = Vec::with_capacity(envp.len());
    for s in envp.iter().rev() {
        env_addrs.push(push_bytes(&with_nul(s), &mut sp)?);
    }
    env_addrs.reverse();
    let mut arg_addrs = Vec::with_capacity(argv.len());
    for s in argv.iter().rev() {
        arg_addrs.push(push_bytes(&with_nul(s), &mut sp)?);
    }
    arg_addrs.reverse();
    let platform_addr = push_bytes(b"x86_64\0", &mut sp)?;
    let mut random = [0u8; 16];
    crate::devices::fill_random(&mut random)?;
    sp &= !15;
    let random_addr = push_bytes(&random, &mut sp)?;
    let aux = auxv(execfn_addr, platform_addr, random_addr);
    let mut words: Vec<u64> = Vec::new();
    words.push(argv.len() as u64);
    words.extend(&arg_addrs);
    words.push(0);
    words.extend(&env_addrs);
    words.push(0);
    for &(k, v) in &aux {
        words.push(k);
        words.push(v);
    }
    sp = (sp - words.len() as u64 * 8) & !15;
    let bytes: Vec<u8> = words.iter().flat_map(|w| w.to_le_bytes()).collect();
    mm.copy_out_exact(sp, &bytes)?;
    Ok((sp, aux))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shebang_with_argument_splits_at_first_blank() {
        let (interp, arg) = parse_shebang(b"#! /bin/sh -e -x\necho").unwrap();
        assert_eq!(interp, b"/bin/sh");
        assert_eq!(arg.as_deref(), Some(&b"-e -x"[..]));
    }

    #[test]
    fn shebang_without_argument() {
        let (interp, arg) = parse_shebang(b"#!/bin/busybox\n").unwrap();
        assert_eq!(interp, b"/bin/busybox");
        assert_eq!(arg, None);
    }

    #[test]
    fn empty_shebang_is_enoexec() {
        assert_eq!(parse_shebang(b"#!  \n"), Err(Errno::ENOEXEC));
    }
}
