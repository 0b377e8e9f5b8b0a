//! Core dumps (Linux's `fs/coredump.c` and `binfmt_elf.c`'s
//! `elf_core_dump`): a process killed by a signal whose default action
//! dumps core writes an ELF core file `core` in its working directory,
//! when `RLIMIT_CORE` allows at least a page and the process is dumpable,
//! and its parent then sees the core bit of the wait status.
//!
//! The file holds the dumping thread's registers (`NT_PRSTATUS`,
//! `NT_PRFPREG`), the process (`NT_PRPSINFO`), its auxiliary vector
//! (`NT_AUXV`) and mapped files (`NT_FILE`), and the memory Linux's
//! default `coredump_filter` (0x33) selects: anonymous memory, writable
//! private file mappings, and the first page of mapped ELF files.
//! Anonymous pages never touched are left as holes, as Linux leaves them;
//! file mappings above 64 MiB get only their present pages. Other threads'
//! registers are not included (Linux adds a `NT_PRSTATUS` per thread).

use abi_linux::{Errno, OpenFlags, RlimitResource};
use vfs_core::io::SliceSource;
use vfs_core::{OpenOptions, PathOperation, WriteOptions};
use zerocopy::IntoBytes;

use crate::mm::Backing;
use crate::task::Task;

/// The signals whose default action dumps core (`SIG_KERNEL_COREDUMP_MASK`).
pub fn dumps_core(signal: i32) -> bool {
    matches!(signal, 3..=8 | 11 | 24 | 25 | 31)
}

const PAGE: u64 = 4096;
/// The largest file mapping whose untouched pages a dump reads.
const FILE_READ_LIMIT: u64 = 64 << 20;
const NT_PRSTATUS: u32 = 1;
const NT_PRFPREG: u32 = 2;
const NT_PRPSINFO: u32 = 3;
const NT_AUXV: u32 = 6;
const NT_FILE: u32 = 0x4649_4c45;
const PT_LOAD: u32 = 1;
const PT_NOTE: u32 = 4;

/// One memory segment of the dump.
struct Segment {
    start: u64,
    end: u64,
    flags: u32,
    /// How many bytes from `start` are dumped (the rest reads as zeros).
    dumped: u64,
    /// Whether a file backs it.
    file: bool,
}

/// Writes the core file of `t`'s process, killed by `signal`. Returns
/// whether a core was written (the core bit): a dump cut short by
/// `RLIMIT_CORE` still counts, as on Linux; a limit below a page, a
/// process that is not dumpable, or a file that cannot be made do not.
pub fn dump(t: &Task, signal: i32) -> bool {
    let limit = t.ctx.limits.cur(RlimitResource::CORE);
    // binfmt_elf's `min_coredump`: a page.
    if limit < PAGE || !t.group.attrs().dumpable {
        return false;
    }
    write_core(t, signal, limit).unwrap_or(false)
}

fn write_core(t: &Task, signal: i32, limit: u64) -> Result<bool, Errno> {
    let segments = segments(t);
    let notes = notes(t, signal);
    let phnum = 1 + segments.len();
    let headers = 64 + 56 * phnum as u64;
    let notes_at = headers;
    let mut data_at = (notes_at + notes.len() as u64).next_multiple_of(PAGE);
    let mut image = Vec::with_capacity(headers as usize + notes.len());
    image.extend_from_slice(&elf_header(phnum as u16));
    image.extend_from_slice(&phdr(PT_NOTE, 0, notes_at, 0, notes.len() as u64, 0, 4));
    let mut placed = Vec::with_capacity(segments.len());
    for s in &segments {
        image.extend_from_slice(&phdr(
            PT_LOAD,
            s.flags,
            data_at,
            s.start,
            s.dumped,
            s.end - s.start,
            PAGE,
        ));
        placed.push(data_at);
        data_at += s.dumped;
    }
    image.extend_from_slice(&notes);

    let file = create(t)?;
    let mut written = 0u64;
    let mut write_at = |offset: u64, bytes: &[u8]| -> Result<bool, Errno> {
        let room = limit.saturating_sub(written);
        let n = (bytes.len() as u64).min(room) as usize;
        let mut done = 0;
        while done < n {
            let mut src = SliceSource::new(&bytes[done..n]);
            let w = file.pwrite(
                &t.ctx,
                &mut src,
                (offset + done as u64) as i64,
                WriteOptions::default(),
            )?;
            if w == 0 {
                return Err(Errno::EIO);
            }
            done += w;
        }
        written += n as u64;
        Ok(n == bytes.len())
    };
    // Once writing started the process counts as having dumped core,
    // even when RLIMIT_CORE cuts the file short (as on Linux).
    let result = (|| {
        if !write_at(0, &image)? {
            return Ok(true);
        }
        let mut page = vec![0u8; PAGE as usize];
        for (s, &at) in segments.iter().zip(&placed) {
            let end = s.start + s.dumped;
            // Anonymous memory never touched reads as zeros: only its
            // present pages are written (a reservation of terabytes costs
            // nothing). A file mapping's untouched pages hold the file's
            // bytes (a program's .data), so every page of a small one is
            // read; a large one (a huge sparse file, say) gets its
            // present pages only, so a dump never pulls more of a file
            // into memory than FILE_READ_LIMIT.
            let pages: Box<dyn Iterator<Item = u64>> = if s.file && s.dumped <= FILE_READ_LIMIT {
                Box::new((s.start..end).step_by(PAGE as usize))
            } else {
                Box::new(t.mm.present_in(s.start, end).into_iter())
            };
            for addr in pages {
                // Unreadable pages stay holes.
                if t.mm.copy_in_exact(addr, &mut page).is_err() {
                    continue;
                }
                if !write_at(at + (addr - s.start), &page)? {
                    return Ok(true);
                }
            }
        }
        // The file's size covers the last segment even if it ends in a hole.
        let size = abi_linux::Statx {
            stx_mask: abi_linux::StatxMask::SIZE.bits(),
            stx_size: data_at,
            ..abi_linux::Statx::default()
        };
        file.set_stat(
            &t.ctx,
            vfs_core::SetStatOptions {
                stat: size,
                need_write_perm: false,
            },
        )?;
        Ok(true)
    })();
    file.release(&t.ctx);
    result
}

/// Creates `core` in the working directory as Linux does for the
/// default `core_pattern`: an existing file is unlinked first, the new
/// one is made with `O_EXCL | O_NOFOLLOW`, mode 0600, owned by the
/// filesystem ids.
fn create(t: &Task) -> Result<vfs_core::FileRef, Errno> {
    let (root, cwd) = t.fs.root_and_cwd()?;
    let vfs = &t.kernel.vfs;
    let pop = PathOperation::new(&root, &cwd, b"core");
    let _ = vfs.unlink_at(&t.ctx, &pop);
    let file = vfs.open_at(
        &t.ctx,
        &pop,
        OpenOptions {
            flags: OpenFlags::CREAT | OpenFlags::EXCL | OpenFlags::WRONLY | OpenFlags::NOFOLLOW,
            mode: 0o600,
            file_exec: false,
        },
    );
    root.release(&t.ctx);
    cwd.release(&t.ctx);
    file
}

/// The segments of the address space and how much of each is dumped
/// (`vma_dump_size` with `coredump_filter` 0x33).
fn segments(t: &Task) -> Vec<Segment> {
    t.mm.vmas()
        .into_iter()
        .map(|(start, vma)| {
            let size = vma.end - start;
            let dumped = match &vma.backing {
                Backing::Private | Backing::Shared { .. } => size,
                // A private file mapping that can be written may hold the
                // process's own copies of pages (.data, .bss).
                Backing::File(f) if f.private && vma.perms.write => size,
                Backing::File(_) => {
                    let mut magic = [0u8; 4];
                    let elf = vma.perms.read
                        && vma.file_offset() == 0
                        && t.mm.copy_in_exact(start, &mut magic).is_ok()
                        && magic == *b"\x7fELF";
                    if elf { PAGE.min(size) } else { 0 }
                }
            };
            let flags = u32::from(vma.perms.read) << 2
                | u32::from(vma.perms.write) << 1
                | u32::from(vma.perms.execute);
            Segment {
                start,
                end: vma.end,
                flags,
                dumped,
                file: matches!(vma.backing, Backing::File(_)),
            }
        })
        .collect()
}

fn elf_header(phnum: u16) -> [u8; 64] {
    let mut h = [0u8; 64];
    h[..4].copy_from_slice(b"\x7fELF");
    h[4] = 2; // ELFCLASS64
    h[5] = 1; // ELFDATA2LSB
    h[6] = 1; // EV_CURRENT
    h[16..18].copy_from_slice(&4u16.to_le_bytes()); // ET_CORE
    h[18..20].copy_from_slice(&62u16.to_le_bytes()); // EM_X86_64
    h[20..24].copy_from_slice(&1u32.to_le_bytes());
    h[32..40].copy_from_slice(&64u64.to_le_bytes()); // e_phoff
    h[52..54].copy_from_slice(&64u16.to_le_bytes()); // e_ehsize
    h[54..56].copy_from_slice(&56u16.to_le_bytes()); // e_phentsize
    h[56..58].copy_from_slice(&phnum.to_le_bytes());
    h[58..60].copy_from_slice(&64u16.to_le_bytes()); // e_shentsize
    h
}

fn phdr(
    kind: u32,
    flags: u32,
    offset: u64,
    vaddr: u64,
    filesz: u64,
    memsz: u64,
    align: u64,
) -> [u8; 56] {
    let mut p = [0u8; 56];
    p[..4].copy_from_slice(&kind.to_le_bytes());
    p[4..8].copy_from_slice(&flags.to_le_bytes());
    p[8..16].copy_from_slice(&offset.to_le_bytes());
    p[16..24].copy_from_slice(&vaddr.to_le_bytes());
    p[32..40].copy_from_slice(&filesz.to_le_bytes());
    p[40..48].copy_from_slice(&memsz.to_le_bytes());
    p[48..56].copy_from_slice(&align.to_le_bytes());
    p
}

/// Appends an ELF note: name, type, description, each padded to 4 bytes.
fn note(out: &mut Vec<u8>, name: &str, kind: u32, desc: &[u8]) {
    out.extend_from_slice(&(name.len() as u32 + 1).to_le_bytes());
    out.extend_from_slice(&(desc.len() as u32).to_le_bytes());
    out.extend_from_slice(&kind.to_le_bytes());
    out.extend_from_slice(name.as_bytes());
    out.push(0);
    out.resize(out.len().next_multiple_of(4), 0);
    out.extend_from_slice(desc);
    out.resize(out.len().next_multiple_of(4), 0);
}

fn notes(t: &Task, signal: i32) -> Vec<u8> {
    let tasks = &t.kernel.tasks;
    let ppid = tasks.ppid(t.tgid);
    let pgrp = tasks.pgid(t.tgid).unwrap_or(0);
    let sid = tasks.sid(t.tgid).unwrap_or(0);
    let mut out = Vec::new();

    // struct elf_prstatus (336 bytes).
    let mut prstatus = vec![0u8; 336];
    prstatus[0..4].copy_from_slice(&signal.to_le_bytes()); // pr_info.si_signo
    prstatus[12..14].copy_from_slice(&(signal as u16).to_le_bytes()); // pr_cursig
    prstatus[16..24].copy_from_slice(&t.kill.pending_bits().to_le_bytes());
    prstatus[24..32].copy_from_slice(&t.signal_mask().to_le_bytes());
    for (i, id) in [t.tid, ppid, pgrp, sid].into_iter().enumerate() {
        prstatus[32 + 4 * i..36 + 4 * i].copy_from_slice(&id.to_le_bytes());
    }
    let (user, sys) = t.kill.cpu_times();
    for (i, ns) in [user, sys].into_iter().enumerate() {
        let at = 48 + 16 * i;
        prstatus[at..at + 8].copy_from_slice(&(ns / 1_000_000_000).to_le_bytes());
        prstatus[at + 8..at + 16].copy_from_slice(&(ns % 1_000_000_000 / 1000).to_le_bytes());
    }
    prstatus[112..328].copy_from_slice(t.regs.general.as_bytes());
    prstatus[328..332].copy_from_slice(&1i32.to_le_bytes()); // pr_fpvalid
    note(&mut out, "CORE", NT_PRSTATUS, &prstatus);

    // struct elf_prpsinfo (136 bytes).
    let mut psinfo = vec![0u8; 136];
    psinfo[0] = 0; // pr_state: running
    psinfo[1] = b'R';
    let c = &t.ctx.credentials;
    psinfo[16..20].copy_from_slice(&c.real_uid.to_le_bytes());
    psinfo[20..24].copy_from_slice(&c.real_gid.to_le_bytes());
    for (i, id) in [t.tgid, ppid, pgrp, sid].into_iter().enumerate() {
        psinfo[24 + 4 * i..28 + 4 * i].copy_from_slice(&id.to_le_bytes());
    }
    let comm = t.process.comm();
    let n = comm.len().min(15);
    psinfo[40..40 + n].copy_from_slice(&comm[..n]);
    let mut args: Vec<u8> = t.process.argv.join(&b' ');
    args.truncate(79);
    psinfo[56..56 + args.len()].copy_from_slice(&args);
    note(&mut out, "CORE", NT_PRPSINFO, &psinfo);

    let auxv: Vec<u8> = t
        .process
        .auxv
        .iter()
        .flat_map(|&(k, v)| k.to_le_bytes().into_iter().chain(v.to_le_bytes()))
        .collect();
    note(&mut out, "CORE", NT_AUXV, &auxv);

    // NT_FILE: count, page size, (start, end, offset in pages) each, then
    // the names.
    let files: Vec<(u64, u64, u64, String)> =
        t.mm.vmas()
            .into_iter()
            .filter_map(|(start, vma)| match (&vma.backing, &vma.name) {
                (Backing::File(_), Some(name)) if name.starts_with('/') => {
                    Some((start, vma.end, vma.file_offset() / PAGE, name.clone()))
                }
                _ => None,
            })
            .collect();
    let mut desc = Vec::new();
    desc.extend_from_slice(&(files.len() as u64).to_le_bytes());
    desc.extend_from_slice(&PAGE.to_le_bytes());
    for (start, end, pgoff, _) in &files {
        for v in [start, end, pgoff] {
            desc.extend_from_slice(&v.to_le_bytes());
        }
    }
    for (.., name) in &files {
        desc.extend_from_slice(name.as_bytes());
        desc.push(0);
    }
    note(&mut out, "CORE", NT_FILE, &desc);

    // The FXSAVE area (struct user_i387_struct).
    let fp = t.regs.fp();
    let mut fxsave = [0u8; 512];
    let n = fp.len().min(512);
    fxsave[..n].copy_from_slice(&fp[..n]);
    note(&mut out, "CORE", NT_PRFPREG, &fxsave);
    out
}
