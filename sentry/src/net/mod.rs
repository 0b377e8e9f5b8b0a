//! Sockets: UNIX domain sockets today; other families are refused with
//! Linux's `EAFNOSUPPORT` until the networking stack lands.

pub mod unix;
