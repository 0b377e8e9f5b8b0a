/* System V shared memory, semaphores and message queues: creation by key,
 * attach counts across fork, removal while attached, all-or-nothing
 * semop with SEM_UNDO, blocking and its ends (a wake, a timeout, a
 * signal, a removal), message selection by type, and Linux's errno for
 * each misuse. Keys derive from the pid, so a native run does not meet
 * another's objects in the host's namespace. */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "show.h"

union semun {
    int val;
    struct semid_ds *buf;
    unsigned short *array;
    struct seminfo *info;
};

static void on_alarm(int sig) { (void)sig; }

/* Polls until `cmd` (GETNCNT/GETZCNT) of semaphore 0 reaches `n`. */
static void await_count(int id, int cmd, int n) {
    for (int i = 0; i < 5000 && semctl(id, 0, cmd) != n; i++)
        usleep(1000);
}

static void shared_memory(key_t key) {
    show("shmget private size 0", shmget(IPC_PRIVATE, 0, 0600));
    show("shmget missing key", shmget(key, 4096, 0600));
    int id = shmget(key, 10000, IPC_CREAT | 0640);
    show("shmget create", id);
    show("shmget same key", shmget(key, 10000, 0600) == id ? 0 : -1);
    show("shmget excl", shmget(key, 10, IPC_CREAT | IPC_EXCL | 0600));
    show("shmget larger", shmget(key, 20000, 0600));

    struct shmid_ds ds;
    show("IPC_STAT", shmctl(id, IPC_STAT, &ds));
    printf("segsz %zu mode %o nattch %lu cpid-is-me %d uid %u\n", ds.shm_segsz,
           ds.shm_perm.mode, ds.shm_nattch, ds.shm_cpid == getpid(), ds.shm_perm.uid);

    char *p = shmat(id, NULL, 0);
    show("shmat", p == (void *)-1 ? -1 : 0);
    strcpy(p, "parent");
    shmctl(id, IPC_STAT, &ds);
    printf("nattch after shmat %lu atime-set %d lpid-is-me %d\n", ds.shm_nattch,
           ds.shm_atime != 0, ds.shm_lpid == getpid());

    char line[512], want[32];
    snprintf(want, sizeof want, "/SYSV%08x (deleted)", key);
    FILE *maps = fopen("/proc/self/maps", "r");
    int named = 0;
    while (maps && fgets(line, sizeof line, maps))
        named |= strstr(line, want) != NULL && strstr(line, "rw-s") != NULL;
    if (maps)
        fclose(maps);
    printf("maps shows the segment: %d\n", named);

    pid_t pid = fork();
    if (pid == 0) {
        struct shmid_ds c;
        shmctl(id, IPC_STAT, &c);
        printf("child nattch %lu sees '%s'\n", c.shm_nattch, p);
        char *q = shmat(id, NULL, SHM_RDONLY);
        show("child mprotect write of read-only attach", mprotect(q, 4096, PROT_READ | PROT_WRITE));
        strcpy(p, "child");
        _exit(q[0] == 'c' ? 0 : 1);
    }
    wait_child("shm child", pid);
    shmctl(id, IPC_STAT, &ds);
    printf("parent sees '%s' nattch %lu\n", p, ds.shm_nattch);

    show("shmat unaligned", (long)shmat(id, p + 1, 0));
    show("shmat over a mapping", (long)shmat(id, p, 0));
    char *again = shmat(id, p + 1, SHM_RND | SHM_REMAP);
    show("shmat SHM_RND|SHM_REMAP", again == p ? 0 : -1);
    shmctl(id, IPC_STAT, &ds);
    printf("nattch after remap %lu\n", ds.shm_nattch);
    show("shmdt not an attach", shmdt(p + 4096 * 8));
    show("shmdt unaligned", shmdt(p + 1));
    show("shmdt inner page", shmdt(p + 4096));

    show("IPC_RMID while attached", shmctl(id, IPC_RMID, NULL));
    show("IPC_STAT after RMID", shmctl(id, IPC_STAT, &ds));
    printf("dest %d nattch %lu key-cleared %d\n", !!(ds.shm_perm.mode & SHM_DEST),
           ds.shm_nattch, ds.shm_perm.__key == 0);
    show("shmget removed key", shmget(key, 4096, 0600));
    printf("still readable '%s'\n", p);
    show("shmdt", shmdt(p));
    show("shmdt again", shmdt(p));
    show("IPC_STAT after last detach", shmctl(id, IPC_STAT, &ds));

    id = shmget(IPC_PRIVATE, 4096, 0600);
    show("shmctl bad cmd", shmctl(id, 99, &ds));
    show("shmctl negative id", shmctl(-1, IPC_STAT, &ds));
    show("SHM_LOCK", shmctl(id, SHM_LOCK, NULL));
    shmctl(id, IPC_STAT, &ds);
    printf("locked %d\n", !!(ds.shm_perm.mode & SHM_LOCKED));
    show("SHM_UNLOCK", shmctl(id, SHM_UNLOCK, NULL));
    ds.shm_perm.mode = 0604;
    show("IPC_SET", shmctl(id, IPC_SET, &ds));
    shmctl(id, IPC_STAT, &ds);
    printf("mode after IPC_SET %o\n", ds.shm_perm.mode);
    struct shminfo info;
    show("IPC_INFO", shmctl(0, IPC_INFO, (struct shmid_ds *)&info));
    printf("shmmni %lu shmmin %lu shmmax %lu\n", info.shmmni, info.shmmin, info.shmmax);
    show("IPC_RMID", shmctl(id, IPC_RMID, NULL));
    show("IPC_RMID again", shmctl(id, IPC_RMID, NULL));
}

static void semaphores(key_t key) {
    show("semget negative", semget(IPC_PRIVATE, -1, 0600));
    show("semget zero", semget(IPC_PRIVATE, 0, 0600));
    int id = semget(key, 3, IPC_CREAT | 0600);
    show("semget", id);
    show("semget more", semget(key, 4, 0600));
    show("semget fewer", semget(key, 2, 0600) == id ? 0 : -1);

    union semun arg = {.val = 2};
    show("SETVAL", semctl(id, 0, SETVAL, arg));
    printf("GETVAL %d GETPID-is-me %d\n", semctl(id, 0, GETVAL), semctl(id, 0, GETPID) == getpid());
    arg.val = 40000;
    show("SETVAL too big", semctl(id, 0, SETVAL, arg));
    show("GETVAL bad index", semctl(id, 7, GETVAL));
    unsigned short vals[3] = {2, 0, 5};
    arg.array = vals;
    show("SETALL", semctl(id, 0, SETALL, arg));
    unsigned short got[3] = {9, 9, 9};
    arg.array = got;
    show("GETALL", semctl(id, 0, GETALL, arg));
    printf("values %u %u %u\n", got[0], got[1], got[2]);

    struct sembuf take2[2] = {{0, -1, 0}, {1, -1, IPC_NOWAIT}};
    show("semop all-or-nothing", semop(id, take2, 2));
    printf("GETVAL after refused semop %d\n", semctl(id, 0, GETVAL));
    struct sembuf bad = {5, 1, 0};
    show("semop index past set", semop(id, &bad, 1));
    show("semop no ops", semop(id, take2, 0));
    show("semop too many ops", semop(id, take2, 501));
    struct sembuf zero = {2, 0, IPC_NOWAIT};
    show("wait-for-zero nowait", semop(id, &zero, 1));
    struct sembuf over = {2, 32767, 0};
    show("semop past SEMVMX", semop(id, &over, 1));
    struct timespec ts = {0, 30 * 1000 * 1000};
    struct sembuf block = {1, -1, 0};
    show("semtimedop timeout", semtimedop(id, &block, 1, &ts));
    ts.tv_nsec = -1;
    show("semtimedop bad timeout", semtimedop(id, &block, 1, &ts));

    pid_t pid = fork();
    if (pid == 0) {
        struct sembuf down = {1, -1, 0};
        _exit(semop(id, &down, 1) == 0 ? 0 : 1);
    }
    await_count(id, GETNCNT, 1);
    printf("GETNCNT with a waiter %d\n", semctl(id, 1, GETNCNT));
    struct sembuf up = {1, 1, 0};
    show("semop wakes", semop(id, &up, 1));
    wait_child("sem waiter", pid);
    printf("GETNCNT after %d GETVAL %d\n", semctl(id, 1, GETNCNT), semctl(id, 1, GETVAL));

    pid = fork();
    if (pid == 0) {
        struct sembuf undo[2] = {{0, 3, SEM_UNDO}, {2, -5, SEM_UNDO}};
        int r = semop(id, undo, 2);
        _exit(r == 0 && semctl(id, 0, GETVAL) == 5 ? 0 : 1);
    }
    wait_child("sem undo child", pid);
    printf("after SEM_UNDO exit: %d %d\n", semctl(id, 0, GETVAL), semctl(id, 2, GETVAL));

    struct sigaction sa = {.sa_handler = on_alarm, .sa_flags = SA_RESTART};
    sigaction(SIGALRM, &sa, NULL);
    struct itimerval it = {{0, 0}, {0, 50 * 1000}};
    setitimer(ITIMER_REAL, &it, NULL);
    show("semop with SA_RESTART signal", semop(id, &block, 1));

    pid = fork();
    if (pid == 0) {
        /* The exit status tells the parent: printing here would race it. */
        int r = semop(id, &block, 1);
        _exit(r < 0 && errno == EIDRM ? 0 : 1);
    }
    await_count(id, GETNCNT, 1);
    struct semid_ds ds;
    arg.buf = &ds;
    show("IPC_STAT", semctl(id, 0, IPC_STAT, arg));
    printf("nsems %lu mode %o otime-set %d\n", ds.sem_nsems, ds.sem_perm.mode, ds.sem_otime != 0);
    show("semctl bad cmd", semctl(id, 0, 99));
    show("IPC_RMID", semctl(id, 0, IPC_RMID));
    wait_child("semop of the removed set ended with EIDRM", pid);
    show("GETVAL removed", semctl(id, 0, GETVAL));
}

struct msg {
    long mtype;
    char text[64];
};

static void message_queues(key_t key) {
    int id = msgget(key, IPC_CREAT | IPC_EXCL | 0600);
    show("msgget", id);
    show("msgget excl", msgget(key, IPC_CREAT | IPC_EXCL | 0600));
    struct msg m = {0, "zero"};
    show("msgsnd type 0", msgsnd(id, &m, 5, 0));
    show("msgsnd too big", msgsnd(id, &m, 8193, 0));
    long types[] = {5, 3, 7, 3, 1};
    for (int i = 0; i < 5; i++) {
        m.mtype = types[i];
        snprintf(m.text, sizeof m.text, "message %d of type %ld", i, types[i]);
        msgsnd(id, &m, strlen(m.text) + 1, 0);
    }
    struct msqid_ds ds;
    msgctl(id, IPC_STAT, &ds);
    printf("qnum %lu cbytes %lu qbytes %lu lspid-is-me %d\n", ds.msg_qnum, ds.__msg_cbytes,
           ds.msg_qbytes, ds.msg_lspid == getpid());

    struct msg r;
    show("msgrcv small buffer", msgrcv(id, &r, 4, 0, 0));
    long n = msgrcv(id, &r, 4, 0, MSG_NOERROR);
    printf("MSG_NOERROR: %ld '%.4s' type %ld\n", n, r.text, r.mtype);
    n = msgrcv(id, &r, sizeof r.text, 3, 0);
    printf("type 3: %ld '%s'\n", n, r.text);
    n = msgrcv(id, &r, sizeof r.text, 7, MSG_EXCEPT);
    printf("except 7: '%s'\n", r.text);
    n = msgrcv(id, &r, sizeof r.text, -6, 0);
    printf("at most 6: '%s'\n", r.text);
    show("msgrcv absent type nowait", msgrcv(id, &r, sizeof r.text, 9, IPC_NOWAIT));
    show("MSG_COPY without IPC_NOWAIT", msgrcv(id, &r, sizeof r.text, 0, MSG_COPY));
    n = msgrcv(id, &r, sizeof r.text, 0, 0);
    printf("last: '%s'\n", r.text);
    show("msgrcv empty nowait", msgrcv(id, &r, sizeof r.text, 0, IPC_NOWAIT));

    pid_t pid = fork();
    if (pid == 0) {
        struct msg c;
        long got = msgrcv(id, &c, sizeof c.text, 42, 0);
        _exit(got == 8 && strcmp(c.text, "wake up") == 0 ? 0 : 1);
    }
    usleep(20000);
    m.mtype = 42;
    strcpy(m.text, "wake up");
    show("msgsnd to a waiting receiver", msgsnd(id, &m, 8, 0));
    wait_child("the child received 'wake up'", pid);

    static char big[8192 + sizeof(long)];
    *(long *)big = 1;
    int sent = 0;
    while (msgsnd(id, big, 8192, IPC_NOWAIT) == 0)
        sent++;
    printf("sent %d full messages, then %s\n", sent, strerrorname_np(errno));
    msgctl(id, IPC_STAT, &ds);
    printf("full queue: qnum %lu cbytes %lu\n", ds.msg_qnum, ds.__msg_cbytes);
    pid = fork();
    if (pid == 0) {
        int r2 = msgsnd(id, big, 100, 0);
        _exit(r2 < 0 && errno == EIDRM ? 0 : 1);
    }
    usleep(20000);
    ds.msg_qbytes = 1000;
    show("IPC_SET lower qbytes", msgctl(id, IPC_SET, &ds));
    msgctl(id, IPC_STAT, &ds);
    printf("qbytes now %lu\n", ds.msg_qbytes);
    show("IPC_RMID with a blocked sender", msgctl(id, IPC_RMID, NULL));
    wait_child("the blocked sender ended with EIDRM", pid);
    show("msgsnd removed", msgsnd(id, &m, 8, 0));
    show("msgctl bad cmd", msgctl(0, 99, NULL));
    struct msginfo info;
    show("IPC_INFO", msgctl(0, IPC_INFO, (struct msqid_ds *)&info));
    printf("msgmax %d msgmnb %d msgmni %d\n", info.msgmax, info.msgmnb, info.msgmni);
}

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    key_t base = 0x51000000 | (getpid() & 0xffff) << 4;
    shared_memory(base + 1);
    semaphores(base + 2);
    message_queues(base + 3);
    return 0;
}
