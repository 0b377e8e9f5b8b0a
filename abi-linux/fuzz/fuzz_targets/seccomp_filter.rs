//! Feeds arbitrary instructions to the seccomp filter checker (they come
//! from application memory): it must never panic, and a filter it
//! accepts must run to a verdict over arbitrary `seccomp_data` without
//! panicking (forward jumps only, scratch words in range).
#![no_main]

use abi_linux::seccomp::{SeccompData, SeccompFilter, SockFilter};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (head, rest) = data.split_at(data.len().min(64));
    let mut seccomp_data = SeccompData::default();
    let mut words = head.chunks_exact(8).map(|c| u64::from_ne_bytes(c.try_into().unwrap()));
    if let Some(w) = words.next() {
        seccomp_data.nr = w as i32;
        seccomp_data.arch = (w >> 32) as u32;
    }
    if let Some(w) = words.next() {
        seccomp_data.instruction_pointer = w;
    }
    for (arg, w) in seccomp_data.args.iter_mut().zip(words) {
        *arg = w;
    }
    if let Ok(filter) = SeccompFilter::new(&SockFilter::parse_all(rest)) {
        let _ = filter.run(&seccomp_data);
    }
});
