//! inotify: the events of every file operation on watched files and
//! directories (a C program), and `tail -f` following a growing file.
//! Each runs natively and in the sentry on both platforms; output and
//! exit status must match.

pub mod common;
use common::native::{c_program, same_as_native};

#[test]
fn inotify_events_follow_linux() {
    c_program("inotify");
}

/// `tail -f` follows appended lines through inotify (it would say
/// "reverting to polling" on its standard error, which is merged into
/// the output compared).
#[test]
fn tail_follows_a_growing_file() {
    let script = r#"import os, subprocess, time, tempfile, select
d = tempfile.mkdtemp(dir='/tmp')
path = os.path.join(d, 'log')
with open(path, 'w') as f:
    f.write('first\n')
tail = subprocess.Popen(['/usr/bin/tail', '-n', '+1', '-f', path],
                        stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
def lines(n, timeout=20):
    got, end = b'', time.time() + timeout
    while got.count(b'\n') < n and time.time() < end:
        r, _, _ = select.select([tail.stdout], [], [], end - time.time())
        if r:
            got += os.read(tail.stdout.fileno(), 4096)
    return got.decode()
print(lines(1), end='')
for i in range(3):
    with open(path, 'a') as f:
        f.write('appended %d\n' % i)
    print(lines(1), end='')
tail.kill(); tail.wait()
os.unlink(path); os.rmdir(d)
"#;
    same_as_native(&["/usr/bin/python3", "-c", script], &[]);
}
