"""The mqueue filesystem: mounted on /dev/mqueue, it lists the queues
mq_open makes, each a file with the queue's mode and owner that reads as
QSIZE/NOTIFY/SIGNO/NOTIFY_PID, and forgets them at mq_unlink. Run as root
in an IPC namespace of its own (natively: unshare -mi)."""

import ctypes, os, subprocess
rt = ctypes.CDLL("librt.so.1", use_errno=True)
os.makedirs("/dev/mqueue", exist_ok=True)
subprocess.run(["/usr/bin/mount", "-t", "mqueue", "none", "/dev/mqueue"], check=True)
class Attr(ctypes.Structure):
    _fields_ = [("flags", ctypes.c_long), ("maxmsg", ctypes.c_long), ("msgsize", ctypes.c_long), ("curmsgs", ctypes.c_long), ("pad", ctypes.c_long * 4)]
a = Attr(0, 4, 64, 0)
rt.mq_open.restype = ctypes.c_int
q = rt.mq_open(b"/sentry-q", os.O_CREAT | os.O_RDWR, 0o640, ctypes.byref(a))
print("open", q >= 0)
for m in [b"hello", b"world!"]:
    print("send", rt.mq_send(q, m, len(m), 1))
print(sorted(os.listdir("/dev/mqueue")))
st = os.stat("/dev/mqueue/sentry-q")
print(oct(st.st_mode), st.st_uid, st.st_gid, oct(os.stat("/dev/mqueue").st_mode))
print(repr(open("/dev/mqueue/sentry-q").read()))
print("unlink", rt.mq_unlink(b"/sentry-q"), sorted(os.listdir("/dev/mqueue")))
print(open("/proc/self/mounts").read().count(" mqueue "))
