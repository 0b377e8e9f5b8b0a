//! Parsing and validating ELF64 executables (gVisor's
//! `pkg/sentry/loader/elf.go`, Linux's `fs/binfmt_elf.c`).
//!
//! The bytes come from the sandbox's filesystem and are untrusted: every
//! offset and size is checked before use, arithmetic is checked, and the
//! only allocation (the program headers) is bounded by
//! [`MAX_PHDRS_SIZE`]. A malformed file is `ENOEXEC`, as on Linux; a read
//! error is that error.

use abi_linux::{Errno, Result};

/// The page size of x86_64.
pub const PAGE_SIZE: u64 = 4096;

/// The largest program-header table Linux accepts (`elf_read_phdrs`).
pub const MAX_PHDRS_SIZE: usize = 65536;

/// The longest interpreter path accepted (`PATH_MAX`).
pub const MAX_INTERP_LEN: u64 = 4096;

const EHDR_SIZE: usize = 64;
const PHDR_SIZE: usize = 56;
const ELFCLASS64: u8 = 2;
const ELFDATA2LSB: u8 = 1;
const EV_CURRENT: u8 = 1;
const EM_X86_64: u16 = 62;
/// `e_type` of a fixed-address executable.
pub const ET_EXEC: u16 = 2;
/// `e_type` of a position-independent executable or shared object.
pub const ET_DYN: u16 = 3;
/// A loadable segment.
pub const PT_LOAD: u32 = 1;
/// The interpreter path.
pub const PT_INTERP: u32 = 3;
/// The program-header table itself.
pub const PT_PHDR: u32 = 6;
/// Segment flag: executable.
pub const PF_X: u32 = 1;
/// Segment flag: writable.
pub const PF_W: u32 = 2;
/// Segment flag: readable.
pub const PF_R: u32 = 4;

/// Where the loader reads an executable from.
pub trait ElfSource {
    /// The size of the file in bytes.
    fn size(&self) -> u64;

    /// Fills `buf` with the bytes at `offset`; `ENOEXEC` if the file is too
    /// short.
    fn read_exact_at(&self, offset: u64, buf: &mut [u8]) -> Result<()>;
}

impl ElfSource for [u8] {
    fn size(&self) -> u64 {
        self.len() as u64
    }

    fn read_exact_at(&self, offset: u64, buf: &mut [u8]) -> Result<()> {
        let start = usize::try_from(offset).map_err(|_| Errno::ENOEXEC)?;
        let end = start.checked_add(buf.len()).ok_or(Errno::ENOEXEC)?;
        let src = self.get(start..end).ok_or(Errno::ENOEXEC)?;
        buf.copy_from_slice(src);
        Ok(())
    }
}

/// One program header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProgramHeader {
    /// `p_type`.
    pub kind: u32,
    /// `p_flags` (`PF_R`, `PF_W`, `PF_X`).
    pub flags: u32,
    /// `p_offset`: where the segment's bytes start in the file.
    pub offset: u64,
    /// `p_vaddr`: where the segment goes, before the load bias.
    pub vaddr: u64,
    /// `p_filesz`: how many bytes come from the file.
    pub file_size: u64,
    /// `p_memsz`: the segment's size in memory (the rest is zeros).
    pub mem_size: u64,
}

/// A validated ELF64 x86_64 executable.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ElfInfo {
    /// `ET_EXEC` or `ET_DYN`.
    pub kind: u16,
    /// The entry point, before the load bias.
    pub entry: u64,
    /// `e_phoff`.
    pub phdr_offset: u64,
    /// The program headers.
    pub phdrs: Vec<ProgramHeader>,
    /// The interpreter path of a dynamic executable, without its NUL.
    pub interp: Option<Vec<u8>>,
}

fn u16_at(b: &[u8], o: usize) -> u16 {
    u16::from_le_bytes([b[o], b[o + 1]])
}

fn u32_at(b: &[u8], o: usize) -> u32 {
    u32::from_le_bytes([b[o], b[o + 1], b[o + 2], b[o + 3]])
}

fn u64_at(b: &[u8], o: usize) -> u64 {
    let mut w = [0u8; 8];
    w.copy_from_slice(&b[o..o + 8]);
    u64::from_le_bytes(w)
}

impl ElfInfo {
    /// Reports whether the file starts with the ELF magic.
    pub fn has_magic(head: &[u8]) -> bool {
        head.starts_with(b"\x7fELF")
    }

    /// Reads and validates the headers of `file`.
    ///
    /// Returns `ENOEXEC` for anything Linux would refuse to run: not ELF,
    /// not 64-bit little-endian x86_64, neither `ET_EXEC` nor `ET_DYN`, a
    /// program-header table that is empty, too large or outside the file, a
    /// loadable segment with `p_filesz > p_memsz`, an overflowing range, a
    /// file offset and address that are not congruent modulo the page size,
    /// no loadable segment, or a bad interpreter path.
    pub fn parse(file: &(impl ElfSource + ?Sized)) -> Result<ElfInfo> {
        let mut eh = [0u8; EHDR_SIZE];
        file.read_exact_at(0, &mut eh)?;
        if !Self::has_magic(&eh)
            || eh[4] != ELFCLASS64
            || eh[5] != ELFDATA2LSB
            || eh[6] != EV_CURRENT
        {
            return Err(Errno::ENOEXEC);
        }
        let kind = u16_at(&eh, 16);
        if kind != ET_EXEC && kind != ET_DYN {
            return Err(Errno::ENOEXEC);
        }
        if u16_at(&eh, 18) != EM_X86_64 || u32_at(&eh, 20) != u32::from(EV_CURRENT) {
            return Err(Errno::ENOEXEC);
        }
        let entry = u64_at(&eh, 24);
        let phdr_offset = u64_at(&eh, 32);
        let phentsize = usize::from(u16_at(&eh, 54));
        let phnum = usize::from(u16_at(&eh, 56));
        if phentsize != PHDR_SIZE {
            return Err(Errno::ENOEXEC);
        }
        let table_size = phnum * PHDR_SIZE;
        if table_size == 0 || table_size > MAX_PHDRS_SIZE {
            return Err(Errno::ENOEXEC);
        }
        let table_end = phdr_offset
            .checked_add(table_size as u64)
            .ok_or(Errno::ENOEXEC)?;
        if table_end > file.size() {
            return Err(Errno::ENOEXEC);
        }
        let mut table = vec![0u8; table_size];
        file.read_exact_at(phdr_offset, &mut table)?;
        let mut phdrs = Vec::with_capacity(phnum);
        let mut interp = None;
        for raw in table.chunks_exact(PHDR_SIZE) {
            let ph = ProgramHeader {
                kind: u32_at(raw, 0),
                flags: u32_at(raw, 4),
                offset: u64_at(raw, 8),
                vaddr: u64_at(raw, 16),
                file_size: u64_at(raw, 32),
                mem_size: u64_at(raw, 40),
            };
            match ph.kind {
                PT_LOAD => Self::check_load(&ph, file.size())?,
                PT_INTERP => {
                    if interp.is_some() {
                        return Err(Errno::ENOEXEC);
                    }
                    interp = Some(Self::read_interp(file, &ph)?);
                }
                _ => {}
            }
            phdrs.push(ph);
        }
        if !phdrs.iter().any(|p| p.kind == PT_LOAD) {
            return Err(Errno::ENOEXEC);
        }
        Ok(ElfInfo {
            kind,
            entry,
            phdr_offset,
            phdrs,
            interp,
        })
    }

    fn check_load(ph: &ProgramHeader, file_size: u64) -> Result<()> {
        if ph.file_size > ph.mem_size {
            return Err(Errno::ENOEXEC);
        }
        let file_end = ph.offset.checked_add(ph.file_size).ok_or(Errno::ENOEXEC)?;
        if file_end > file_size {
            return Err(Errno::ENOEXEC);
        }
        let mem_end = ph.vaddr.checked_add(ph.mem_size).ok_or(Errno::ENOEXEC)?;
        // The end rounded up to a page must not overflow either.
        mem_end.checked_add(PAGE_SIZE - 1).ok_or(Errno::ENOEXEC)?;
        if ph.vaddr % PAGE_SIZE != ph.offset % PAGE_SIZE {
            return Err(Errno::ENOEXEC);
        }
        Ok(())
    }

    fn read_interp(file: &(impl ElfSource + ?Sized), ph: &ProgramHeader) -> Result<Vec<u8>> {
        if ph.file_size < 2 || ph.file_size > MAX_INTERP_LEN {
            return Err(Errno::ENOEXEC);
        }
        let end = ph.offset.checked_add(ph.file_size).ok_or(Errno::ENOEXEC)?;
        if end > file.size() {
            return Err(Errno::ENOEXEC);
        }
        let mut path = vec![0u8; ph.file_size as usize];
        file.read_exact_at(ph.offset, &mut path)?;
        if path.pop() != Some(0) || path.contains(&0) {
            return Err(Errno::ENOEXEC);
        }
        Ok(path)
    }

    /// The lowest and highest-plus-one addresses of the loadable segments,
    /// page-aligned, before the load bias.
    pub fn load_span(&self) -> (u64, u64) {
        let loads = self.phdrs.iter().filter(|p| p.kind == PT_LOAD);
        let start = loads.clone().map(|p| p.vaddr).min().unwrap_or(0);
        let end = loads
            .map(|p| p.vaddr.saturating_add(p.mem_size))
            .max()
            .unwrap_or(0);
        (page_down(start), page_up(end).unwrap_or(u64::MAX))
    }

    /// The address of the program headers in memory before the load bias,
    /// if a loadable segment covers them (`PT_PHDR`'s, else the one that
    /// maps `e_phoff`).
    pub fn phdr_vaddr(&self) -> Option<u64> {
        if let Some(p) = self.phdrs.iter().find(|p| p.kind == PT_PHDR) {
            return Some(p.vaddr);
        }
        self.phdrs
            .iter()
            .filter(|p| p.kind == PT_LOAD)
            .find(|p| {
                p.offset <= self.phdr_offset
                    && self.phdr_offset < p.offset.saturating_add(p.file_size)
            })
            .map(|p| p.vaddr + (self.phdr_offset - p.offset))
    }
}

/// Rounds down to a page boundary.
pub fn page_down(x: u64) -> u64 {
    x & !(PAGE_SIZE - 1)
}

/// Rounds up to a page boundary; `None` on overflow.
pub fn page_up(x: u64) -> Option<u64> {
    x.checked_add(PAGE_SIZE - 1).map(page_down)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn busybox() -> Option<Vec<u8>> {
        std::fs::read("/usr/bin/busybox").ok()
    }

    #[test]
    fn static_busybox_parses_like_readelf() {
        let Some(bytes) = busybox() else {
            eprintln!("skipped: /usr/bin/busybox is missing");
            return;
        };
        let info = ElfInfo::parse(bytes.as_slice()).unwrap();
        // The oracle: the header fields as the host's `od` would read them,
        // taken here straight from the bytes at their specified offsets.
        assert_eq!(info.entry, u64_at(&bytes, 24));
        assert_eq!(usize::from(u16_at(&bytes, 56)), info.phdrs.len());
        assert!(info.interp.is_none());
    }

    #[test]
    fn truncated_header_is_enoexec() {
        let Some(bytes) = busybox() else { return };
        for len in [0, 4, 63] {
            assert_eq!(ElfInfo::parse(&bytes[..len]), Err(Errno::ENOEXEC));
        }
    }

    #[test]
    fn wrong_machine_is_enoexec() {
        let Some(mut bytes) = busybox() else { return };
        bytes[18] = 183; // EM_AARCH64.
        assert_eq!(ElfInfo::parse(bytes.as_slice()), Err(Errno::ENOEXEC));
    }

    #[test]
    fn script_is_not_elf() {
        assert_eq!(
            ElfInfo::parse(b"#!/bin/sh\necho hi\n".as_slice()),
            Err(Errno::ENOEXEC)
        );
    }

    /// Deterministic mutations of a real executable's headers: each must
    /// parse or fail with `ENOEXEC`, never panic, and a successful parse
    /// must describe segments inside the file.
    #[test]
    fn mutated_headers_never_panic() {
        let Some(bytes) = busybox() else { return };
        let info = ElfInfo::parse(bytes.as_slice()).unwrap();
        let table_end = (info.phdr_offset as usize) + info.phdrs.len() * PHDR_SIZE;
        let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let mut head = bytes[..table_end.min(bytes.len())].to_vec();
        let original = head.clone();
        for _ in 0..20_000 {
            head.copy_from_slice(&original);
            for _ in 0..(next() % 4 + 1) {
                let i = (next() as usize) % head.len();
                head[i] = match next() % 3 {
                    0 => next() as u8,
                    1 => 0xff,
                    _ => 0,
                };
            }
            match ElfInfo::parse(head.as_slice()) {
                Ok(parsed) => {
                    for p in parsed.phdrs.iter().filter(|p| p.kind == PT_LOAD) {
                        assert!(p.offset + p.file_size <= head.len() as u64);
                        assert!(p.file_size <= p.mem_size);
                    }
                }
                Err(e) => assert_eq!(e, Errno::ENOEXEC),
            }
        }
    }
}
