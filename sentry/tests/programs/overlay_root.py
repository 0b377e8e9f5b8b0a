"""Changes to an overlay root made by Python and by coreutils, sed and tar,
printed so that a run in the sandbox (whose root is an overlay over the
host's) can be compared with a run in the kernel's overlayfs over the
same tree. Neither run changes the tree itself."""

import errno
import mmap
import os
import shutil
import subprocess


def show(*args):
    print(*args, flush=True)


def attempt(what, fn):
    try:
        fn()
        show(what, "ok")
    except OSError as e:
        show(what, errno.errorcode[e.errno])


# An existing file appended to: its contents grow, its inode number and
# device stay.
p = "/etc/hostname"
before = os.stat(p)
with open(p) as f:
    old = f.read()
with open(p, "a") as f:
    f.write("appended\n")
after = os.stat(p)
with open(p) as f:
    show("append", f.read() == old + "appended\n", after.st_ino == before.st_ino,
         after.st_dev == before.st_dev, after.st_size - before.st_size)

# A descriptor opened read-only before the copy-up reads the copy; a
# mapping made before it keeps the old page.
p = "/etc/debian_version"
fd = os.open(p, os.O_RDONLY)
m = mmap.mmap(fd, 0, prot=mmap.PROT_READ)
old = m[:]
with open(p, "w") as f:
    f.write("rewritten\n")
show("reread", os.pread(fd, 100, 0), m[:] == old, os.fstat(fd).st_size)
m.close()
os.close(fd)

# New directories and files anywhere.
os.makedirs("/usr/local/new/deep")
with open("/usr/local/new/deep/f", "w") as f:
    f.write("deep\n")
show("new", open("/usr/local/new/deep/f").read(), sorted(os.listdir("/usr/local/new")))

# Lower files removed stay removed; a new file may take the name.
os.remove("/etc/shells")
show("removed", os.path.exists("/etc/shells"), "shells" in os.listdir("/etc"))
attempt("remove again", lambda: os.remove("/etc/shells"))
with open("/etc/shells", "w") as f:
    f.write("/bin/sh\n")
show("recreated", open("/etc/shells").read())

# A lower directory is not empty until its lower entries are gone.
attempt("rmdir", lambda: os.rmdir("/etc/default"))
shutil.rmtree("/etc/default")
show("rmtree", os.path.exists("/etc/default"))
attempt("mkdir again", lambda: os.mkdir("/etc/default"))
show("empty again", os.listdir("/etc/default"))

# A lower directory moved elsewhere (a rename where the kernel allows it,
# a copy where it says EXDEV) keeps its entries.
names = sorted(os.listdir("/etc/apt"))
shutil.move("/etc/apt", "/opt/apt-moved")
show("moved", sorted(os.listdir("/opt/apt-moved")) == names, os.path.exists("/etc/apt"))

# Metadata of lower files changes above them.
os.chmod("/etc/hostname", 0o600)
os.chown("/etc/passwd", 12, 34)
os.utime("/etc/group", (1000000000, 1000000000))
st = os.stat("/etc/passwd")
show("meta", oct(os.stat("/etc/hostname").st_mode), st.st_uid, st.st_gid,
     os.stat("/etc/group").st_mtime)
os.setxattr("/etc/hostname", "user.note", b"kept")
show("xattr", os.getxattr("/etc/hostname", "user.note"))

# Sizes and blocks of untouched lower files and directories are theirs.
for p in ["/etc/services", "/usr/share/doc"]:
    st = os.lstat(p)
    show("lower", p, st.st_size, st.st_blocks, st.st_nlink)

# Truncation keeps the head of a lower file.
with open("/etc/services", "rb") as f:
    head = f.read(10)
os.truncate("/etc/services", 10)
with open("/etc/services", "rb") as f:
    show("truncate", f.read() == head)

# Real programs: sed -i (a new file renamed over a lower one), tar into a
# lower directory, stat -f of the root.
subprocess.run(["sed", "-i", "s/^root:/ROOT:/", "/etc/group"], check=True)
with open("/etc/group") as f:
    show("sed", f.readline().split(":")[0])
subprocess.run(["tar", "-cf", "/tmp/apt.tar", "-C", "/opt", "apt-moved"], check=True)
subprocess.run(["tar", "-xf", "/tmp/apt.tar", "-C", "/usr/share"], check=True)
show("tar", sorted(os.listdir("/usr/share/apt-moved")) == names)
show("statfs", subprocess.run(["stat", "-f", "-c", "%T", "/"], capture_output=True,
                              text=True).stdout.strip())
