//! Where the leak checker's log messages go.

use spin::RwLock;

/// A function that receives one log message (a leak report, possibly over
/// several lines).
pub type LogSink = fn(&str);

/// The installed sink; `None` means the default.
static LOG_SINK: RwLock<Option<LogSink>> = RwLock::new(None);

/// Installs `sink` as the receiver of leak-checker log messages, replacing
/// the previous one.
///
/// The default prints to standard error with the `std` feature and discards
/// messages without it.
pub fn set_log_sink(sink: LogSink) {
    *LOG_SINK.write() = Some(sink);
}

/// Restores the default sink.
pub fn reset_log_sink() {
    *LOG_SINK.write() = None;
}

/// Sends `message` to the installed sink.
pub(crate) fn log_message(message: &str) {
    // Copy the function pointer out so that the sink runs without the lock.
    let sink = *LOG_SINK.read();
    match sink {
        Some(sink) => sink(message),
        None => default_sink(message),
    }
}

#[cfg(feature = "std")]
fn default_sink(message: &str) {
    std::eprintln!("{message}");
}

#[cfg(not(feature = "std"))]
fn default_sink(_message: &str) {}
