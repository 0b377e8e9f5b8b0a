/* 64 threads created and joined, with a mutex-protected total. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t c = PTHREAD_COND_INITIALIZER;
static long total; static int ready;
static void *work(void *arg) {
    long id = (long)arg;
    for (int i = 0; i < 1000; i++) { pthread_mutex_lock(&m); total += id; pthread_mutex_unlock(&m); }
    pthread_mutex_lock(&m); ready++; pthread_cond_broadcast(&c); pthread_mutex_unlock(&m);
    return (void *)(id * 2);
}
int main(void) {
    pthread_t t[64];
    for (long i = 0; i < 64; i++) if (pthread_create(&t[i], 0, work, (void *)i)) { perror("create"); return 1; }
    pthread_mutex_lock(&m); while (ready < 64) pthread_cond_wait(&c, &m); pthread_mutex_unlock(&m);
    long sum = 0;
    for (int i = 0; i < 64; i++) { void *r; pthread_join(t[i], &r); sum += (long)r; }
    printf("total=%ld sum=%ld\n", total, sum);
    return 0;
}
