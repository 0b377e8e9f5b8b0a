"""Drives an interactive busybox shell on a terminal (the command line
given runs under a new pty): a command, a foreground `sleep` interrupted
with ^C, `$?` after it, and `exit 7`. Waits for the prompt before each
keystroke, never for a fixed time, and prints the whole session and the
exit status."""

import os
import pty
import select
import sys
import time

pid, fd = pty.fork()
if pid == 0:
    os.execvp(sys.argv[1], sys.argv[1:])
out = b""


def wait_for(text, after):
    """Reads until `text` shows up past offset `after` (60 s at most)."""
    global out
    deadline = time.time() + 60
    while text not in out[after:] and time.time() < deadline:
        r, _, _ = select.select([fd], [], [], 0.1)
        if r:
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                return
            if not chunk:
                return
            out += chunk


def send(keys, then):
    mark = len(out)
    os.write(fd, keys)
    wait_for(then, mark)


wait_for(b"# ", 0)
send(b"echo one\r", b"# ")
# The marker comes from the foreground job itself, so the terminal is
# its by then: ^C must reach it, not the shell. (The quotes keep the
# echoed command line from matching.)
send(b"sh -c 'echo re''ady; exec sleep 30'\r", b"ready\r\n")
send(b"\x03", b"# ")
send(b"echo after $?\r", b"# ")
mark = len(out)
os.write(fd, b"exit 7\r")
wait_for(b"\xff", mark)  # to the end of output
_, status = os.waitpid(pid, 0)
sys.stdout.write(out.decode(errors="replace").replace("\r", ""))
print("status", os.waitstatus_to_exitcode(status))
