//! The leak checker's mode, a process-wide setting.

use core::fmt;
use core::str::FromStr;
use core::sync::atomic::{AtomicU8, Ordering};

/// How the leak checker behaves; gVisor's `--ref-leak-mode`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum LeakMode {
    /// No registration and no checking: every registry call is a cheap no-op.
    #[default]
    Disabled,
    /// Objects are registered; a leak check logs the leaked objects.
    LogNames,
    /// Like [`LogNames`](Self::LogNames), and each object also records where
    /// it was registered (a backtrace with the `std` feature), shown with it
    /// in leak reports.
    LogTraces,
    /// Objects are registered; a leak check panics when it finds a leak.
    Panic,
}

impl LeakMode {
    const fn to_u8(self) -> u8 {
        match self {
            Self::Disabled => 0,
            Self::LogNames => 1,
            Self::LogTraces => 2,
            Self::Panic => 3,
        }
    }

    const fn from_u8(v: u8) -> Self {
        match v {
            1 => Self::LogNames,
            2 => Self::LogTraces,
            3 => Self::Panic,
            _ => Self::Disabled,
        }
    }

    /// The flag value that names this mode (`"disabled"`, `"log-names"`,
    /// `"log-traces"` or `"panic"`).
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Disabled => "disabled",
            Self::LogNames => "log-names",
            Self::LogTraces => "log-traces",
            Self::Panic => "panic",
        }
    }
}

impl fmt::Display for LeakMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The error for a string that names no [`LeakMode`].
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ParseLeakModeError;

impl fmt::Display for ParseLeakModeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("invalid ref leak mode: expected disabled, log-names, log-traces or panic")
    }
}

impl core::error::Error for ParseLeakModeError {}

impl FromStr for LeakMode {
    type Err = ParseLeakModeError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "disabled" => Ok(Self::Disabled),
            "log-names" => Ok(Self::LogNames),
            "log-traces" => Ok(Self::LogTraces),
            "panic" => Ok(Self::Panic),
            _ => Err(ParseLeakModeError),
        }
    }
}

static LEAK_MODE: AtomicU8 = AtomicU8::new(LeakMode::Disabled.to_u8());

/// Sets the process-wide leak checking mode.
///
/// Objects registered while checking was on stay registered (and are
/// unregistered on destruction) after it is turned off.
pub fn set_leak_mode(mode: LeakMode) {
    LEAK_MODE.store(mode.to_u8(), Ordering::Relaxed);
}

/// Returns the process-wide leak checking mode.
#[must_use]
pub fn leak_mode() -> LeakMode {
    LeakMode::from_u8(LEAK_MODE.load(Ordering::Relaxed))
}

/// Returns true unless the mode is [`LeakMode::Disabled`].
#[must_use]
pub fn leak_check_enabled() -> bool {
    LEAK_MODE.load(Ordering::Relaxed) != LeakMode::Disabled.to_u8()
}

#[cfg(test)]
mod tests {
    use alloc::string::ToString;

    use super::{LeakMode, ParseLeakModeError};

    /// The values of gVisor's `runsc --ref-leak-mode` flag.
    const FLAG_VALUES: [(&str, LeakMode); 4] = [
        ("disabled", LeakMode::Disabled),
        ("log-names", LeakMode::LogNames),
        ("log-traces", LeakMode::LogTraces),
        ("panic", LeakMode::Panic),
    ];

    #[test]
    fn flag_values_parse_and_print_back() {
        for (text, mode) in FLAG_VALUES {
            assert_eq!(text.parse::<LeakMode>(), Ok(mode));
            assert_eq!(mode.to_string(), text);
        }
    }

    #[test]
    fn other_strings_are_rejected() {
        for text in ["", "Panic", "log_names", "log", " disabled", "panic\n"] {
            assert_eq!(text.parse::<LeakMode>(), Err(ParseLeakModeError));
        }
    }

    #[test]
    fn default_mode_is_disabled() {
        assert_eq!(LeakMode::default(), LeakMode::Disabled);
    }

    #[test]
    fn mode_round_trips_through_storage() {
        for (_, mode) in FLAG_VALUES {
            assert_eq!(LeakMode::from_u8(mode.to_u8()), mode);
        }
    }
}
