/* LD_PRELOAD counter of send-family syscalls, for benchmarks: strace slows the send loop and changes
 * how writes merge, a counter does not. Build: cc -shared -fPIC -O2 -o libsendcount.so sendcount.c -ldl */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include <sys/types.h>

static atomic_long sends;

#define FORWARD(ret, name, params, args)                              \
    ret name params {                                                 \
        static ret (*real) params;                                    \
        if (!real) real = (ret (*) params)dlsym(RTLD_NEXT, #name);    \
        atomic_fetch_add_explicit(&sends, 1, memory_order_relaxed);   \
        return real args;                                             \
    }

FORWARD(ssize_t, send, (int fd, const void *buf, size_t len, int flags), (fd, buf, len, flags))
FORWARD(ssize_t, sendto, (int fd, const void *buf, size_t len, int flags, const struct sockaddr *to, socklen_t tolen), (fd, buf, len, flags, to, tolen))
FORWARD(ssize_t, sendmsg, (int fd, const struct msghdr *msg, int flags), (fd, msg, flags))
FORWARD(int, sendmmsg, (int fd, struct mmsghdr *msgs, unsigned int n, int flags), (fd, msgs, n, flags))

long tt_send_count(void) { return atomic_load_explicit(&sends, memory_order_relaxed); }
