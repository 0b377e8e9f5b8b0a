/* Mutex, condition variable, barrier and rwlock contention with checked
 * totals; thread-local storage; a detached thread. */
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>

#define N 8
#define ROUNDS 2000
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static pthread_rwlock_t rw = PTHREAD_RWLOCK_INITIALIZER;
static pthread_barrier_t barrier;
static long counter, queue, consumed, rw_value, rw_reads;
static __thread long tls = -1;
static sem_t detached_done;

static void *worker(void *arg) {
    long id = (long)arg;
    tls = id;
    pthread_barrier_wait(&barrier);
    for (int i = 0; i < ROUNDS; i++) {
        pthread_mutex_lock(&mu);
        counter++;
        queue++;
        pthread_cond_signal(&cv);
        pthread_mutex_unlock(&mu);
        if (i % 10 == 0) {
            pthread_rwlock_wrlock(&rw);
            rw_value += 2;
            pthread_rwlock_unlock(&rw);
        } else {
            pthread_rwlock_rdlock(&rw);
            if (rw_value % 2 == 0)
                __atomic_fetch_add(&rw_reads, 1, __ATOMIC_RELAXED);
            pthread_rwlock_unlock(&rw);
        }
    }
    pthread_barrier_wait(&barrier);
    return (void *)(tls == id ? 1L : 0L);
}

static void *consumer(void *arg) {
    (void)arg;
    long want = (long)N * ROUNDS;
    pthread_mutex_lock(&mu);
    while (consumed < want) {
        while (queue == 0)
            pthread_cond_wait(&cv, &mu);
        consumed += queue;
        queue = 0;
    }
    pthread_mutex_unlock(&mu);
    return 0;
}

static void *detached(void *arg) {
    (void)arg;
    tls = 99;
    sem_post(&detached_done);
    return 0;
}

int main(void) {
    pthread_t t[N], c, d;
    pthread_barrier_init(&barrier, 0, N);
    sem_init(&detached_done, 0, 0);
    pthread_create(&c, 0, consumer, 0);
    for (long i = 0; i < N; i++)
        pthread_create(&t[i], 0, worker, (void *)i);
    long tls_ok = 0;
    for (int i = 0; i < N; i++) {
        void *r;
        pthread_join(t[i], &r);
        tls_ok += (long)r;
    }
    pthread_join(c, 0);
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_create(&d, &attr, detached, 0);
    sem_wait(&detached_done);
    printf("counter=%ld consumed=%ld rw=%ld reads=%ld tls_ok=%ld main_tls=%ld\n", counter,
           consumed, rw_value, rw_reads, tls_ok, tls);
    return 0;
}
