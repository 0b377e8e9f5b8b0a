# Real-program checks for three sandbox features a C test covers case by
# case: Python installs its own seccomp filter through ctypes (uname
# refused for it and for a child uname from coreutils), runs a program by
# descriptor with os.execve(fd, ...), and makes one 4 MiB os.write to a
# pipe a thread drains. Run natively and in the sentry; the output must match.
import ctypes, os, struct, subprocess
libc = ctypes.CDLL(None, use_errno=True)
# A filter: uname -> ERRNO(EPERM), everything else allowed.
BPF_LD_W_ABS, BPF_JEQ_K, BPF_RET_K = 0x20, 0x15, 0x06
prog = [(BPF_LD_W_ABS, 0, 0, 0), (BPF_JEQ_K, 0, 1, 63),
        (BPF_RET_K, 0, 0, 0x00050000 | 1), (BPF_RET_K, 0, 0, 0x7fff0000)]
raw = b''.join(struct.pack('HBBI', *i) for i in prog)
buf = ctypes.create_string_buffer(raw)
fprog = struct.pack('HxxxxxxQ', len(prog), ctypes.addressof(buf))
fbuf = ctypes.create_string_buffer(fprog)
print('no_new_privs', libc.prctl(38, 1, 0, 0, 0))
print('seccomp', libc.syscall(317, 1, 0, fbuf))
try:
    os.uname(); print('uname allowed')
except OSError as e:
    print('uname refused:', e.strerror)
r = subprocess.run(['uname', '-s'], capture_output=True, text=True)
print('child uname exit', r.returncode, 'said', r.stderr.strip().split(':')[-1].strip())
print(open('/proc/self/status').read().split('Seccomp:')[1].split()[0])
# fexecve: run /bin/echo by descriptor, as os.execve does with an fd.
fd = os.open('/bin/echo', os.O_RDONLY)
pid = os.fork()
if pid == 0:
    os.execve(fd, ['echo', 'run by descriptor'], {})
print('fexecve child', os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))
# One os.write of 4 MiB to a pipe a thread drains.
import threading
r_, w_ = os.pipe()
got = []
t = threading.Thread(target=lambda: got.append(sum(iter(lambda: len(os.read(r_, 65536)), 0))))
t.start()
n = os.write(w_, b'x' * (4 << 20)); os.close(w_); t.join()
print('one write of 4 MiB returned', n, 'reader got', got[0])
