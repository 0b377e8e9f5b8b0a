//! Feeds arbitrary bytes to the 9P2000.L decoder: it must never panic, and
//! whatever it accepts must re-encode to a frame that decodes to the same
//! message.
#![no_main]

use goferfs::Message;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // The msize limit is part of the decoder's contract; vary it with the
    // input so both the limit check and large frames are exercised.
    let msize = if data.first().is_some_and(|b| b & 1 == 1) { 8192 } else { 1 << 20 };
    if let Ok((tag, msg)) = Message::decode(data, msize) {
        let mut buf = Vec::new();
        msg.encode(tag, &mut buf).expect("a decoded message re-encodes");
        assert_eq!(Message::decode(&buf, u32::MAX).expect("re-decodes"), (tag, msg));
    }
    // The stream-framing check must agree with the decoder on sizes.
    if data.len() >= 4 {
        let _ = goferfs::message::frame_len([data[0], data[1], data[2], data[3]], msize);
    }
});
