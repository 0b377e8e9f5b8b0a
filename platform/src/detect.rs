//! Choosing a backend.

use std::sync::Arc;

use abi_linux::Result;

use crate::memory_file::MemoryFile;
use crate::platform::Platform;
use crate::ptrace::PtracePlatform;
use crate::systrap::SystrapPlatform;

/// Returns the best backend the host allows: seccomp-trap if it works, else
/// ptrace; the ptrace backend's error if neither does (`EPERM` when the host
/// refuses ptrace).
pub fn detect(memory_file: Arc<MemoryFile>) -> Result<Box<dyn Platform>> {
    if let Ok(p) = SystrapPlatform::new(memory_file.clone()) {
        return Ok(Box::new(p));
    }
    Ok(Box::new(PtracePlatform::new(memory_file)?))
}
