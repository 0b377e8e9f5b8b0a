//! Credentials and resource limits: a C program that changes its ids,
//! groups, capabilities and limits runs natively (as root) and in the
//! sentry on both platforms; output and exit status must match.

pub mod common;
use common::native::{c_program, same_as_native};

#[test]
fn set_id_family_groups_capabilities_and_rlimits_match_linux() {
    c_program("identity");
}

/// The environment both runs get: the sandbox starts with an empty one,
/// and `make` needs `PATH` to find its recipes' programs.
const PATH: [(&str, &str); 1] = [("PATH", "/usr/bin:/bin")];

#[test]
fn bash_ulimit_sets_and_enforces_limits() {
    // Raising a hard limit is left out: it needs CAP_SYS_RESOURCE, which
    // the sandbox's root has and this host's root may not.
    let script = "ulimit -n 50; echo soft $(ulimit -n) hard $(ulimit -Hn)\n\
        ulimit -Sn 5; (exec 4</dev/null) 2>/dev/null; echo fd 4: $?; (exec 7</dev/null) 2>/dev/null; echo fd 7: $?\n\
        (ulimit -f 1; head -c 2048 /dev/zero > /tmp/big; echo head: $?)\n\
        echo size $(stat -c %s /tmp/big)\n";
    same_as_native(&["/bin/bash", "-c", script], &PATH);
}

#[test]
fn python_changes_ids_groups_and_limits() {
    let script = "import os, resource\n\
        resource.setrlimit(resource.RLIMIT_NOFILE, (10, 20))\n\
        print(resource.getrlimit(resource.RLIMIT_NOFILE))\n\
        fds = []\n\
        try:\n    while True: fds.append(os.open('/dev/null', os.O_RDONLY))\n\
        except OSError as e: print('stopped', e.errno == 24, max(fds))\n\
        os.setgroups([30, 10, 20]); print(os.getgroups())\n\
        pid = os.fork()\n\
        if pid == 0:\n    os.setresgid(100, 100, 100); os.setresuid(1000, 1000, 1000)\n    \
        print(os.getresuid(), os.getresgid())\n    \
        try: os.setuid(0)\n    except PermissionError: print('setuid(0) refused')\n    \
        os._exit(3)\n\
        print('child', os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))\n";
    same_as_native(&["/usr/bin/python3", "-c", script], &[]);
}

#[test]
fn make_runs_its_recipes() {
    let dir = common::native::work_dir();
    let makefile = dir.join("Makefile.credentials");
    std::fs::write(
        &makefile,
        "all: first second\n\t@echo all done\n\
         first:\n\t@echo first by uid $$(id -u)\n\
         second:\n\t@sh -c 'echo second; exit 0'\n\
         broken:\n\t@false\n",
    )
    .unwrap();
    let makefile = makefile.to_str().unwrap();
    same_as_native(&["/usr/bin/make", "-f", makefile], &PATH);
    same_as_native(
        &["/usr/bin/make", "-k", "-f", makefile, "broken", "all"],
        &PATH,
    );
}

#[test]
fn filesystem_ids_and_set_user_id_executables_behave_as_linux() {
    c_program("fsuid");
}

/// Real set-user-ID and set-group-ID programs (copies of `id`, made on
/// the sandbox's memory `/tmp` and natively on the host's), started by
/// `setpriv` as nobody: the bits take effect, set-group-ID only with
/// group execute, not under `--no-new-privs`, never for a script.
/// `su` and `setpriv` to another user, as the signals issue asks.
#[test]
fn setuid_programs_su_and_setpriv_behave_as_linux() {
    let script = "d=$(mktemp -d /tmp/setuid.XXXXXX); chmod 755 $d\n\
        cp /usr/bin/id $d/id; chmod 4755 $d/id\n\
        cp /usr/bin/id $d/gid; chmod 2755 $d/gid\n\
        cp /usr/bin/id $d/gnox; chmod 2745 $d/gnox\n\
        as_nobody() { setpriv --reuid 65534 --regid 65534 --clear-groups \"$@\"; }\n\
        as_nobody $d/id; as_nobody $d/gid\n\
        chown 0:100 $d/gid; chmod 2755 $d/gid; as_nobody $d/gid\n\
        as_nobody $d/gnox; as_nobody --no-new-privs $d/id\n\
        printf '#!/bin/sh\\nid -u; id -ru\\n' > $d/script; chmod 4755 $d/script; as_nobody $d/script\n\
        rm -rf $d\n\
        su nobody -s /bin/sh -c 'id; echo $0'; echo su: $?\n\
        runuser -u nobody -- id -u\n";
    same_as_native(&["/bin/bash", "-c", script], &PATH);
}

/// The program's own seccomp filters: errors, every action, stacking,
/// argument checks, inheritance, TSYNC, strict mode and the endings.
#[test]
fn application_seccomp_filters_behave_as_linux() {
    c_program("seccomp");
}

/// RLIMIT_DATA (mmap, mremap, brk, malloc), RLIMIT_STACK (the next
/// program's stack) and RLIMIT_NPROC (processes and threads of a user).
#[test]
fn memory_and_process_limits_are_enforced() {
    c_program("rlimits");
}

/// RLIMIT_NICE and RLIMIT_RTPRIO let an unprivileged process lower its
/// nice value to `20 - limit` and take a real-time policy up to the
/// limit (Linux's `can_nice` and `__sched_setscheduler`). Checked in the
/// sandbox only: raising these hard limits needs CAP_SYS_RESOURCE, which
/// this host's root lacks, so the native run cannot set them up.
#[test]
fn nice_and_realtime_priority_limits_let_a_user_go_that_far() {
    let script = "import errno, os, resource\n\
        resource.setrlimit(resource.RLIMIT_NICE, (25, 25))\n\
        resource.setrlimit(resource.RLIMIT_RTPRIO, (10, 10))\n\
        os.setgroups([]); os.setresgid(54321, 54321, 54321); os.setresuid(54321, 54321, 54321)\n\
        def t(f):\n    try: f(); return 'ok'\n    except OSError as e: return errno.errorcode[e.errno]\n\
        print(t(lambda: os.setpriority(os.PRIO_PROCESS, 0, -5)),\n\
              t(lambda: os.setpriority(os.PRIO_PROCESS, 0, -6)),\n\
              t(lambda: os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(10))),\n\
              t(lambda: os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(11))))\n";
    for platform in common::native::platforms() {
        let out = common::run_limited(
            std::process::Command::new(env!("CARGO_BIN_EXE_sentry"))
                .args(["run", "--platform", platform, "--rootfs", "/", "--"])
                .args(["/usr/bin/python3", "-c", script]),
        );
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            "ok EACCES ok EPERM\n",
            "{platform}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// `vmstat` and `free` run; `/proc/swaps`, `/proc/PID/personality`,
/// `timerslack_ns` (following `prctl`) and the random pool's sysctls
/// read as on Linux.
#[test]
fn vmstat_and_small_proc_files_read_as_on_linux() {
    let script = "vmstat > /dev/null; echo vmstat $?; vmstat -s > /dev/null; echo vmstat -s $?\n\
        free > /dev/null; echo free $?; head -1 /proc/swaps\n\
        cat /proc/self/personality /proc/self/timerslack_ns\n\
        python3 -c 'import ctypes; ctypes.CDLL(None).prctl(29, 12345, 0, 0, 0); print(open(\"/proc/self/timerslack_ns\").read().strip())'\n\
        sysctl -n kernel.random.entropy_avail kernel.random.poolsize\n";
    same_as_native(
        &["/bin/sh", "-c", script],
        &[("PATH", "/usr/bin:/bin:/usr/sbin:/sbin")],
    );
}

/// `/proc/PID/smaps` and `smaps_rollup` hold what tools read (`pmap -X`,
/// psutil's USS and PSS): one entry per mapping with its size, the
/// resident pages split into clean and dirty, shared and private.
#[test]
fn smaps_and_smaps_rollup_read_as_on_linux() {
    let script = r#"import re
def entries(path):
    out, cur = [], None
    for line in open(path):
        if re.match(r'^[0-9a-f]+-[0-9a-f]+ ', line):
            start, end = [int(x, 16) for x in line.split()[0].split('-')]
            cur = {'_size': (end - start) // 1024, '_keys': []}
            out.append(cur)
        else:
            k, v = line.split(':', 1)
            cur['_keys'].append(k)
            cur[k] = v.strip()
    return out
kb = lambda v: int(v.split()[0])
e = entries('/proc/self/smaps')
core = ['Size', 'Rss', 'Pss', 'Shared_Clean', 'Shared_Dirty', 'Private_Clean',
        'Private_Dirty', 'Referenced', 'Anonymous', 'Swap', 'SwapPss', 'Locked', 'VmFlags']
print('every entry has the keys tools read', all(all(k in x for k in core) for x in e))
print('sizes agree with the ranges', all(kb(x['Size']) == x['_size'] for x in e))
print('rss within size', all(kb(x['Rss']) <= x['_size'] for x in e))
print('rss is clean plus dirty', all(kb(x['Rss']) == sum(kb(x[k]) for k in
      ['Shared_Clean', 'Shared_Dirty', 'Private_Clean', 'Private_Dirty']) for x in e))
print('one entry per mapping', len(e) == sum(1 for _ in open('/proc/self/maps')))
r = entries('/proc/self/smaps_rollup')[0]
print('rollup has the keys', all(k in r for k in ['Rss', 'Pss', 'Private_Clean', 'Private_Dirty', 'Swap']))
print('rollup sums the entries', kb(r['Rss']) >= sum(kb(x['Rss']) for x in e) * 9 // 10)
"#;
    same_as_native(&["/usr/bin/python3", "-c", script], &[]);
}

/// `make -j2` builds a small C project (three objects and a link, two
/// jobs at a time) and the result runs.
#[test]
fn make_j2_builds_a_c_project() {
    let script = r#"d=$(mktemp -d /tmp/mk.XXXXXX); cd $d
echo 'int one(void) { return 1; }' > one.c
echo 'int two(void) { return 2; }' > two.c
cat > main.c <<'END'
#include <stdio.h>
int one(void);
int two(void);
int main(void) { printf("one and two make %d\n", one() + two()); return 0; }
END
printf 'prog: one.o two.o main.o\n\tgcc -o $@ $^\n%%.o: %%.c\n\tgcc -c -o $@ $<\n' > Makefile
make -j2 -s; echo make: $?; ./prog; ls *.o | wc -l
make -s; echo again: $?
cd /; rm -rf $d
"#;
    same_as_native(&["/bin/sh", "-c", script], &PATH);
}

/// The same features with real programs: Python's own seccomp filter
/// (through ctypes) refusing `uname` to it and to coreutils' `uname`,
/// `os.execve` of a descriptor, and one 4 MiB `os.write` to a pipe.
#[test]
fn python_seccomp_fexecve_and_a_large_write() {
    // The sandbox's /tmp is its own, and the checkout may be under the
    // host's: run a copy from the shared work directory.
    let src = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/programs/seccomp_fexecve_writes.py"
    );
    let script = common::native::work_dir().join("seccomp_fexecve_writes.py");
    std::fs::copy(src, &script).unwrap();
    same_as_native(&["/usr/bin/python3", "-u", script.to_str().unwrap()], &PATH);
}

#[test]
fn prctl_options_behave_as_linux() {
    c_program("prctl");
}

#[test]
fn nice_values_and_scheduling_policies_behave_as_linux() {
    c_program("sched");
}

/// `/proc/PID/stat` fields by number (nice, threads, priority, the
/// process group and session, CPU ticks), `statm`, `/proc/stat` and `/proc/version`, as
/// a program reads them natively and in the sentry.
#[test]
fn proc_stat_statm_and_version_read_as_on_linux() {
    let script = r#"import os, threading, time
os.nice(5)
ev = threading.Event()
t = threading.Thread(target=ev.wait); t.start()
f = open('/proc/self/stat').read().rsplit(')', 1)[1].split()
# f[0] is field 3 (state)
print('fields', len(f) + 2, 'nice', f[16], 'threads', f[17], 'priority', f[15])
print('ppid matches', int(f[1]) == os.getppid(), 'pgrp matches', int(f[2]) == os.getpgrp(), 'session matches', int(f[3]) == os.getsid(0))
t0 = time.process_time()
while time.process_time() - t0 < 0.05: pass
print('utime ticks > 0', int(f[11]) >= 0 and int(open('/proc/self/stat').read().rsplit(')', 1)[1].split()[11]) > 0)
m = open('/proc/self/statm').read().split()
print('statm fields', len(m), 'resident > 0', int(m[1]) > 0, 'size >= resident', int(m[0]) >= int(m[1]))
print('version', open('/proc/version').read().startswith('Linux version '))
st = open('/proc/stat').read().splitlines()
cpu = st[0].split()
print('stat cpu', cpu[0], len(cpu), all(v.isdigit() for v in cpu[1:]), 'per-cpu lines', sum(1 for l in st if l.startswith('cpu') and l[3].isdigit()) == os.cpu_count())
keys = {l.split()[0] for l in st}
print('stat keys', sorted(keys & {'btime', 'processes', 'procs_running', 'procs_blocked', 'ctxt', 'intr'}))
bt = int(next(l for l in st if l.startswith('btime')).split()[1])
print('btime sane', abs(time.time() - float(open('/proc/uptime').read().split()[0]) - bt) < 5)
ev.set(); t.join()
"#;
    same_as_native(&["/usr/bin/python3", "-c", script], &[]);
}

/// `/proc/self/mountinfo` is well formed and agrees with
/// `/proc/self/mounts` and with `stat`'s devices, natively and in the
/// sentry (the mounts themselves differ).
#[test]
fn proc_mountinfo_agrees_with_mounts_and_stat() {
    let script = r#"import os
info = [l.split() for l in open('/proc/self/mountinfo')]
mounts = [l.split() for l in open('/proc/self/mounts')]
print('well formed', all(len(f) >= 10 and '-' in f[6:] and ':' in f[2] and f[3].startswith('/') for f in info))
ids = {f[0] for f in info}
print('one line per mount', len(info) == len(mounts))
print('same mount points in order', [f[4] for f in info] == [m[1] for m in mounts])
print('same types', [f[f.index('-', 6) + 1] for f in info] == [m[2] for m in mounts])
print('parents listed', all(f[1] in ids or f[4] == '/' for f in info))
root = [f for f in info if f[4] == '/']
st = os.stat('/')
maj, mnr = root[-1][2].split(':')
print('root device matches stat', os.major(st.st_dev) == int(maj) and os.minor(st.st_dev) == int(mnr))
proc = [f for f in info if f[4] == '/proc']
st = os.stat('/proc')
maj, mnr = proc[-1][2].split(':')
print('proc device matches stat', os.major(st.st_dev) == int(maj) and os.minor(st.st_dev) == int(mnr))
"#;
    same_as_native(&["/usr/bin/python3", "-c", script], &[]);
}

/// `/proc/PID/cwd` and `/proc/PID/root` read as paths and lead to the
/// directories when followed (also a child's), natively and in the
/// sentry.
#[test]
fn proc_cwd_and_root_links_resolve_as_on_linux() {
    let script = r#"import os, subprocess
os.chdir('/usr/share')
print('cwd link', os.readlink('/proc/self/cwd'))
print('root link', os.readlink('/proc/self/root'))
print('listed', sorted(n for n in os.listdir('/proc/self') if n in ('cwd', 'root', 'exe', 'fd', 'task')))
print('through cwd', os.path.isdir('/proc/self/cwd/doc'), os.stat('/proc/self/cwd').st_ino == os.stat('.').st_ino)
print('through root', os.stat('/proc/self/root/usr').st_ino == os.stat('/usr').st_ino)
p = subprocess.Popen(['sleep', '5'], cwd='/etc')
print('child cwd', os.readlink('/proc/%d/cwd' % p.pid))
p.kill(); p.wait()
os.chdir('/proc/self/cwd/..')
print('chdir through the link', os.getcwd())
"#;
    same_as_native(&["/usr/bin/python3", "-c", script], &[]);
}

/// The `/proc/sys` files the sentry serves agree with what the system
/// calls report (uname, prctl's capability bound, sysconf, rlimits) and
/// have Linux's forms, natively and in the sentry.
#[test]
fn proc_sys_values_agree_with_the_system_calls() {
    let script = r#"import os, re, resource, socket
def rd(p): return open('/proc/sys/' + p).read()
print('listing has', sorted(set(os.listdir('/proc/sys')) & {'fs', 'kernel', 'net'}))
print('hostname matches uname', rd('kernel/hostname').strip() == os.uname().nodename)
print('osrelease matches uname', rd('kernel/osrelease').strip() == os.uname().release)
print('version matches uname', rd('kernel/version').strip() == os.uname().version)
print('ostype', rd('kernel/ostype').strip())
nr_open = int(rd('fs/nr_open'))
print('the RLIMIT_NOFILE ceiling is within nr_open', resource.getrlimit(resource.RLIMIT_NOFILE)[1] <= nr_open)
last = int(rd('kernel/cap_last_cap'))
import ctypes
libc = ctypes.CDLL(None, use_errno=True)
print('cap_last_cap is the last one prctl knows', libc.prctl(23, last, 0, 0, 0) >= 0, libc.prctl(23, last + 1, 0, 0, 0))
ng = int(rd('kernel/ngroups_max'))
print('ngroups_max', ng == os.sysconf('SC_NGROUPS_MAX'))
print('pid_max at least a pid', int(rd('kernel/pid_max')) > os.getpid())
print('overflow ids', rd('kernel/overflowuid').strip(), rd('kernel/overflowgid').strip())
uuid = re.compile(r'^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}\n$')
b1, b2 = rd('kernel/random/boot_id'), rd('kernel/random/boot_id')
u1, u2 = rd('kernel/random/uuid'), rd('kernel/random/uuid')
print('boot_id stable', bool(uuid.match(b1)), b1 == b2, 'uuid fresh', bool(uuid.match(u1)), u1 != u2)
s = socket.socket(socket.AF_UNIX); s.bind('\0sysctl-test-%d' % os.getpid()); s.listen(1 << 20)
print('somaxconn', int(rd('net/core/somaxconn')) > 0)
print('threads-max', int(rd('kernel/threads-max')) > 0)
"#;
    same_as_native(&["/usr/bin/python3", "-c", script], &[]);
}

/// `/proc/PID/limits` agrees with getrlimit in Linux's layout;
/// `oom_score_adj` takes writes in range and refuses others; the ID maps
/// show the initial user namespace; the IPC and mqueue sysctls agree
/// with what the calls report, natively and in the sentry.
#[test]
fn proc_pid_limits_oom_score_adj_and_id_maps() {
    let script = r#"import os, re, resource
lines = open('/proc/self/limits').read().splitlines()
print(lines[0])
res = [resource.RLIMIT_CPU, resource.RLIMIT_FSIZE, resource.RLIMIT_DATA, resource.RLIMIT_STACK,
       resource.RLIMIT_CORE, resource.RLIMIT_RSS, resource.RLIMIT_NPROC, resource.RLIMIT_NOFILE,
       resource.RLIMIT_MEMLOCK, resource.RLIMIT_AS, resource.RLIMIT_LOCKS, resource.RLIMIT_SIGPENDING,
       resource.RLIMIT_MSGQUEUE, resource.RLIMIT_NICE, resource.RLIMIT_RTPRIO, resource.RLIMIT_RTTIME]
def show(v): return 'unlimited' if v == resource.RLIM_INFINITY else str(v)
for line, r in zip(lines[1:], res):
    name, soft, hard, unit = line[:25].rstrip(), line[26:46].rstrip(), line[47:67].rstrip(), line[68:].rstrip()
    print(name, unit, (soft, hard) == tuple(map(show, resource.getrlimit(r))))
resource.setrlimit(resource.RLIMIT_NOFILE, (77, resource.getrlimit(resource.RLIMIT_NOFILE)[1]))
print('after setrlimit', [l for l in open('/proc/self/limits') if 'open files' in l][0].split()[3])
def put(v):
    fd = os.open('/proc/self/oom_score_adj', os.O_WRONLY)
    try:
        return os.write(fd, v)
    except OSError as e:
        return e.strerror
    finally:
        os.close(fd)
print('oom_score_adj', open('/proc/self/oom_score_adj').read().strip())
print('writes', put(b'300\n'), put(b'1001'), put(b'abc'), put(b' 500 '))
print('now', open('/proc/self/oom_score_adj').read().strip())
pid = os.fork()
if pid == 0:
    os._exit(int(open('/proc/self/oom_score_adj').read()) == 500)
print('inherited by fork', os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))
print('mode', oct(os.stat('/proc/self/oom_score_adj').st_mode & 0o777))
print('uid_map', open('/proc/self/uid_map').read().split(), open('/proc/self/gid_map').read().split())
print('setgroups', open('/proc/self/setgroups').read().strip())
def rd(p): return open('/proc/sys/' + p).read().split()
print('sem', rd('kernel/sem'), 'shmmni', rd('kernel/shmmni'), 'msgmax', rd('kernel/msgmax'),
      'msgmnb', rd('kernel/msgmnb'), 'mqueue', [rd('fs/mqueue/' + f) for f in
      ['msg_default', 'msg_max', 'msgsize_default', 'msgsize_max', 'queues_max']])
"#;
    same_as_native(&["/usr/bin/python3", "-c", script], &[]);
}

/// Processes that changed their user IDs show them to others: `kill`,
/// `tgkill` and `kill(0, ..)` follow Linux's permission rule between
/// users, and `/proc/PID/status`, the owner of `/proc/PID` and `ps` show
/// the new IDs, natively and in the sentry.
#[test]
fn other_users_processes_are_signalled_and_shown_as_linux_does() {
    let script = r#"import os, signal, time, ctypes, subprocess
libc = ctypes.CDLL(None, use_errno=True)
r, w = os.pipe()
secret = ctypes.create_string_buffer(b'secret', 16)
def become(uid):
    os.setgroups([]); os.setgid(uid); os.setuid(uid)
def child(uid):
    pid = os.fork()
    if pid == 0:
        become(uid)
        dumpable = libc.prctl(3, 0, 0, 0, 0)
        # Dumpable again, so its own user may read its memory.
        libc.prctl(4, 1, 0, 0, 0)
        os.write(w, bytes([dumpable]))
        os.close(w)
        time.sleep(60)
        os._exit(0)
    return pid
other, same = child(2000), child(1000)
print('dumpable after setuid', os.read(r, 1), os.read(r, 1))
st = os.stat('/proc/%d' % other)
print('owner of /proc/PID', st.st_uid, st.st_gid)
print([l.strip() for l in open('/proc/%d/status' % other) if l.startswith(('Uid', 'Gid'))])
print('ps', subprocess.run(['ps', '-o', 'uid=,gid=', '-p', str(other)], capture_output=True, text=True).stdout.split(), flush=True)
pid = os.fork()
if pid == 0:
    become(1000)
    def tr(f):
        try:
            f(); return 'ok'
        except OSError as e:
            return e.strerror
    def tgkill(tgid, sig):
        if libc.syscall(234, tgid, tgid, sig) != 0:
            raise OSError(ctypes.get_errno(), os.strerror(ctypes.get_errno()))
    print('another user', tr(lambda: os.kill(other, 0)), tr(lambda: os.kill(other, signal.SIGTERM)),
          tr(lambda: tgkill(other, 0)))
    print('the same user', tr(lambda: os.kill(same, 0)), tr(lambda: tgkill(same, 0)))
    class Iov(ctypes.Structure):
        _fields_ = [('base', ctypes.c_void_p), ('len', ctypes.c_size_t)]
    def peek(pid):
        got = ctypes.create_string_buffer(16)
        local, remote = Iov(ctypes.addressof(got), 6), Iov(ctypes.addressof(secret), 6)
        one, zero = ctypes.c_ulong(1), ctypes.c_ulong(0)
        n = libc.syscall(ctypes.c_long(310), ctypes.c_long(pid), ctypes.byref(local), one, ctypes.byref(remote), one, zero)
        if n < 0:
            raise OSError(ctypes.get_errno(), os.strerror(ctypes.get_errno()))
        return got.value
    print('process_vm_readv', tr(lambda: peek(other)), tr(lambda: print(peek(same))))
    print('root', tr(lambda: os.kill(os.getppid(), 0)))
    print('own group', tr(lambda: os.kill(0, 0)), flush=True)
    os._exit(0)
os.waitpid(pid, 0)
print('root signals anyone', os.kill(other, signal.SIGKILL), os.kill(same, signal.SIGKILL))
print([os.waitstatus_to_exitcode(os.waitpid(p, 0)[1]) for p in (other, same)])
"#;
    same_as_native(
        &["/usr/bin/python3", "-c", script],
        &[("PATH", "/usr/bin:/bin")],
    );
}

/// `/proc/PID/fdinfo/N` shows a descriptor's offset, flags (with
/// close-on-exec), mount and inode as Linux does.
#[test]
fn proc_fdinfo_shows_offsets_flags_mounts_and_inodes() {
    let script = r#"import os
path = '/tmp/fdinfo-%d' % os.getpid()
fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC, 0o600)
os.write(fd, b'0123456789')
os.lseek(fd, 4, os.SEEK_SET)
info = dict(l.split(':', 1) for l in open('/proc/self/fdinfo/%d' % fd).read().splitlines()[:4])
info = {k: v.strip() for k, v in info.items()}
flags = int(info['flags'], 8) & ~0o100000
print('pos', info['pos'], 'flags', oct(flags), 'ino matches', int(info['ino']) == os.fstat(fd).st_ino)
ids = {l.split()[0] for l in open('/proc/self/mountinfo')}
print('mnt_id in mountinfo', info['mnt_id'] in ids)
r, w = os.pipe()
pinfo = dict(l.split(':', 1) for l in open('/proc/self/fdinfo/%d' % w).read().splitlines()[:2])
print('pipe', {k: v.strip() for k, v in pinfo.items()})
print('listed', str(fd) in os.listdir('/proc/self/fdinfo'))
try:
    open('/proc/self/fdinfo/999')
except OSError as e:
    print('closed fd', e.strerror)
os.unlink(path)
"#;
    same_as_native(&["/usr/bin/python3", "-c", script], &[]);
}
