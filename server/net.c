/*
 * net.c - warpd's event loops and connections.
 *
 * THE LOOPS
 *   Each of the `threads` loops owns an epoll set, a listening socket bound
 *   with SO_REUSEPORT to the common port (the kernel spreads connections
 *   over the loops), an eventfd to wake it, and the clients it accepted.
 *   A client never changes loops, so everything about it is touched by one
 *   thread: no lock on the request path. The registry of every client
 *   (CLIENT LIST, maxclients) is locked only on connect, disconnect and
 *   CLIENT commands.
 *
 * A CLIENT'S LIFE
 *   readable -> read into qbuf -> parse and run every whole command
 *   (pipelining), appending replies to obuf in order -> at the end of the
 *   loop's round (every client epoll_wait returned has run), write obuf:
 *   the replies leave in a burst, as Redis writes them before it sleeps.
 *   What the socket does not take waits for EPOLLOUT. After a round with
 *   events the loop polls without sleeping for `busy-poll` µs, so that a
 *   client's next request is read without a wake-up. When more than
 *   WARPD_OBUF_SOFT bytes of replies wait, the loop stops reading that
 *   client until they drain (a slow reader stalls only itself); replies
 *   beyond client-output-buffer-limit, or a query buffer beyond
 *   client-query-buffer-limit, close it. A protocol error gets its error
 *   reply, then the connection closes. Idle clients are closed after
 *   `timeout` seconds (0: never).
 *
 * STOPPING
 *   net_stop() sets server.stopping and wakes every loop. A loop then
 *   closes its listener, stops reading, writes each client's pending
 *   replies (for at most about 2 s), closes them and returns.
 */
#include "net.h"

#include "command.h"
#include "resp.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#define TAG_LISTEN ((void *)1)
#define TAG_WAKE   ((void *)2)
#define READ_CHUNK (16u * 1024)

/* ------------------------------------------------------------------------ */
/* Listening                                                                 */
/* ------------------------------------------------------------------------ */

static int listen_on(const char *addr, int port)
{
    struct addrinfo hints = {0}, *res, *ai;
    char portstr[16];
    int fd = -1, one = 1, rc;

    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    snprintf(portstr, sizeof portstr, "%d", port);
    rc = getaddrinfo(addr, portstr, &hints, &res);
    if (rc != 0) {
        wd_log("bind %s: %s", addr, gai_strerror(rc));
        return -1;
    }
    for (ai = res; ai; ai = ai->ai_next) {
        fd = socket(ai->ai_family,
                    ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0)
            continue;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
        if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 &&
            listen(fd, server.cfg.tcp_backlog) == 0)
            break;
        close(fd);
        fd = -1;
    }
    if (fd < 0)
        wd_log("bind %s:%d: %s", addr, port, strerror(errno));
    freeaddrinfo(res);
    return fd;
}

static int bound_port(int fd)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;

    if (getsockname(fd, (struct sockaddr *)&ss, &len) != 0)
        return -1;
    if (ss.ss_family == AF_INET6)
        return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
    return ntohs(((struct sockaddr_in *)&ss)->sin_port);
}

/* Whether `port` is free: a bind without SO_REUSEPORT fails while any
 * socket listens on it. The loops' sockets share the port through
 * SO_REUSEPORT, which would let a second warpd (or any process of the
 * same user setting it) join them silently and take half the clients; a
 * second warpd fails here instead, as a second redis-server does. */
static bool port_free(const char *addr, int port)
{
    struct addrinfo hints = {0}, *res, *ai;
    char portstr[16];
    bool inuse = false;
    int one = 1;

    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    snprintf(portstr, sizeof portstr, "%d", port);
    if (getaddrinfo(addr, portstr, &hints, &res) != 0)
        return true; /* listen_on() reports it */
    for (ai = res; ai && !inuse; ai = ai->ai_next) {
        int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, 0);
        if (fd < 0)
            continue;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        inuse =
            bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 && errno == EADDRINUSE;
        close(fd);
    }
    freeaddrinfo(res);
    return !inuse;
}

int net_listen(void)
{
    if (server.cfg.port != 0 && !port_free(server.cfg.bind, server.cfg.port)) {
        wd_log("bind %s:%d: %s", server.cfg.bind, server.cfg.port,
               strerror(EADDRINUSE));
        return -1;
    }
    for (int i = 0; i < server.nloops; i++) {
        int port = i == 0 ? server.cfg.port : server.port;
        int fd = listen_on(server.cfg.bind, port);
        if (fd < 0)
            return -1;
        server.loops[i].listen_fd = fd;
        if (i == 0)
            server.port = bound_port(fd);
    }
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Clients                                                                   */
/* ------------------------------------------------------------------------ */

static void addr_string(const struct sockaddr_storage *ss, char *out,
                        size_t cap)
{
    char ip[INET6_ADDRSTRLEN] = "?";
    int port = 0;

    if (ss->ss_family == AF_INET) {
        const struct sockaddr_in *s = (const struct sockaddr_in *)ss;
        inet_ntop(AF_INET, &s->sin_addr, ip, sizeof ip);
        port = ntohs(s->sin_port);
    } else if (ss->ss_family == AF_INET6) {
        const struct sockaddr_in6 *s = (const struct sockaddr_in6 *)ss;
        inet_ntop(AF_INET6, &s->sin6_addr, ip, sizeof ip);
        port = ntohs(s->sin6_port);
    }
    snprintf(out, cap, "%s:%d", ip, port);
}

/* Put `c` on its loop's pending list (its replies are written at the end
 * of the round: loop_main()), if it is not on it yet. */
static void pending_add(wd_client *c)
{
    if (c->pending)
        return;
    c->pending = true;
    c->pprev = NULL;
    c->pnext = c->loop->pending;
    if (c->pnext)
        c->pnext->pprev = c;
    c->loop->pending = c;
}

/* Take `c` off its loop's pending list, if it is on it. */
static void pending_remove(wd_client *c)
{
    if (!c->pending)
        return;
    if (c->pprev)
        c->pprev->pnext = c->pnext;
    else
        c->loop->pending = c->pnext;
    if (c->pnext)
        c->pnext->pprev = c->pprev;
    c->pending = false;
}

static void client_free(wd_client *c)
{
    wd_loop *l = c->loop;

    pending_remove(c);
    epoll_ctl(l->epfd, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    if (c->prev)
        c->prev->next = c->next;
    else
        l->clients = c->next;
    if (c->next)
        c->next->prev = c->prev;
    pthread_mutex_lock(&server.reg_lock);
    if (c->gprev)
        c->gprev->gnext = c->gnext;
    else
        server.registry = c->gnext;
    if (c->gnext)
        c->gnext->gprev = c->gprev;
    free(c->name);
    pthread_mutex_unlock(&server.reg_lock);
    atomic_fetch_sub(&server.nclients, 1);
    buf_free(&c->qbuf);
    buf_free(&c->obuf);
    resp_parser_free(&c->parser);
    free(c->argv);
    free(c->argvlen);
    free(c);
}

static void set_events(wd_client *c)
{
    uint32_t ev = 0;
    struct epoll_event e;

    if (!c->reading_paused)
        ev |= EPOLLIN;
    if (c->sent < c->obuf.len)
        ev |= EPOLLOUT;
    if (ev == c->events)
        return;
    e.events = ev;
    e.data.ptr = c;
    epoll_ctl(c->loop->epfd, EPOLL_CTL_MOD, c->fd, &e);
    c->events = ev;
}

static void accept_one(wd_loop *l, int fd, struct sockaddr_storage *ss)
{
    int one = 1;
    uint64_t max =
        atomic_load_explicit(&server.cfg.maxclients, memory_order_relaxed);
    wd_client *c;
    struct epoll_event e;
    socklen_t len = sizeof(struct sockaddr_storage);
    struct sockaddr_storage local;

    if (atomic_fetch_add(&server.nclients, 1) >= max) {
        static const char err[] = "-ERR max number of clients reached\r\n";
        atomic_fetch_sub(&server.nclients, 1);
        STAT_ADD(&l->stats, rejected, 1);
        (void)!write(fd, err, sizeof err - 1);
        close(fd);
        return;
    }
    c = calloc(1, sizeof *c);
    if (!c) {
        atomic_fetch_sub(&server.nclients, 1);
        close(fd);
        return;
    }
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    c->fd = fd;
    c->loop = l;
    c->id = atomic_fetch_add(&server.next_client_id, 1);
    c->resp = 2;
    c->parser.bulklen = -1;
    c->authenticated =
        !atomic_load_explicit(&server.auth_required, memory_order_relaxed);
    c->created_ms = wd_now_ms();
    /* the loop's clock, as check_idle() reads it: the monotonic clock of
     * now may be past it, and idle = now_ms - last_ms would wrap */
    atomic_store_explicit(&c->last_ms, l->now_ms, memory_order_relaxed);
    atomic_store_explicit(&c->lastcmd, "NULL", memory_order_relaxed);
    addr_string(ss, c->addr, sizeof c->addr);
    if (getsockname(fd, (struct sockaddr *)&local, &len) == 0)
        addr_string(&local, c->laddr, sizeof c->laddr);
    c->events = EPOLLIN;
    e.events = EPOLLIN;
    e.data.ptr = c;
    if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &e) != 0) {
        atomic_fetch_sub(&server.nclients, 1);
        close(fd);
        free(c);
        return;
    }
    c->next = l->clients;
    if (l->clients)
        l->clients->prev = c;
    l->clients = c;
    pthread_mutex_lock(&server.reg_lock);
    c->gnext = server.registry;
    if (server.registry)
        server.registry->gprev = c;
    server.registry = c;
    pthread_mutex_unlock(&server.reg_lock);
    STAT_ADD(&l->stats, connections, 1);
}

static void accept_all(wd_loop *l)
{
    for (;;) {
        struct sockaddr_storage ss;
        socklen_t len = sizeof ss;
        int fd = accept4(l->listen_fd, (struct sockaddr *)&ss, &len,
                         SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR)
                continue;
            return; /* EAGAIN, or out of descriptors: try next time */
        }
        accept_one(l, fd, &ss);
    }
}

/* Close a client whose pending replies exceed client-output-buffer-limit
 * (`hard`; 0: no limit). */
static void check_output_limit(wd_client *c, uint64_t hard)
{
    if (hard && !c->closing && c->obuf.len - c->sent > hard) {
        wd_log("closing client %s: output buffer over "
               "client-output-buffer-limit (%llu bytes)",
               c->addr, (unsigned long long)hard);
        c->closing = true;
    }
}

/* Run every whole command in the query buffer while replies fit.
 * Consecutive GETs are answered together (getrun_flush()), before the
 * next other command runs, so replies stay in order. */
static void process_input(wd_client *c)
{
    uint64_t hard = atomic_load_explicit(&server.cfg.client_output_buffer_limit,
                                         memory_order_relaxed);
    wd_getrun run;

    run.n = 0;
    while (!c->close_after_reply && !c->closing) {
        if (c->obuf.len - c->sent > WARPD_OBUF_SOFT) {
            c->reading_paused = true;
            break;
        }
        int rc = resp_parse(c);
        if (rc == 0)
            break;
        if (rc < 0) {
            getrun_flush(c, &run);
            add_errorf(c, "ERR Protocol error: %s", c->parser.error);
            c->close_after_reply = true;
            break;
        }
        STAT_ADD(&c->loop->stats, commands, 1);
        if (getrun_fits(c)) {
            atomic_store_explicit(&c->lastcmd, "get", memory_order_relaxed);
            getrun_add(c, &run);
            resp_consume(c);
            if (run.n == GETRUN_MAX) {
                getrun_flush(c, &run);
                check_output_limit(c, hard);
            }
            continue;
        }
        getrun_flush(c, &run);
        command_run(c);
        resp_consume(c);
        check_output_limit(c, hard);
    }
    getrun_flush(c, &run);
    check_output_limit(c, hard);
    atomic_store_explicit(&c->qbuf_len, c->qbuf.len, memory_order_relaxed);
}

/* Write what the socket takes. Returns -1 when the client must close. */
static int client_flush(wd_client *c)
{
    if (c->closing)
        return -1;
    while (c->sent < c->obuf.len) {
        ssize_t n = write(c->fd, c->obuf.p + c->sent, c->obuf.len - c->sent);
        if (n > 0) {
            c->sent += (size_t)n;
            STAT_ADD(&c->loop->stats, net_out, (uint64_t)n);
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
        return -1;
    }
    if (c->sent == c->obuf.len) {
        c->obuf.len = c->sent = 0;
        if (c->obuf.cap > 4 * WARPD_OBUF_SOFT)
            buf_free(&c->obuf);
        if (c->close_after_reply)
            return -1;
    } else if (c->sent > c->obuf.cap / 2) {
        memmove(c->obuf.p, c->obuf.p + c->sent, c->obuf.len - c->sent);
        c->obuf.len -= c->sent;
        c->sent = 0;
    }
    atomic_store_explicit(&c->obuf_len, c->obuf.len - c->sent,
                          memory_order_relaxed);
    return 0;
}

/* Flush; resume a paused reader whose replies drained. Returns -1 when
 * the client must close. */
static int client_after_io(wd_client *c)
{
    if (client_flush(c) < 0)
        return -1;
    while (c->reading_paused && c->obuf.len - c->sent <= WARPD_OBUF_SOFT / 2) {
        c->reading_paused = false;
        process_input(c); /* may pause again */
        if (client_flush(c) < 0)
            return -1;
    }
    set_events(c);
    return 0;
}

static void client_read(wd_client *c)
{
    wd_parser *p = &c->parser;
    uint64_t limit = atomic_load_explicit(&server.cfg.client_query_buffer_limit,
                                          memory_order_relaxed);
    size_t want = READ_CHUNK;
    ssize_t n;

    if (p->start > 0 &&
        (p->start >= c->qbuf.len / 2 || c->qbuf.len == c->qbuf.cap))
        resp_compact(c);
    if (p->reqtype == 1 && p->bulklen > (int64_t)READ_CHUNK) {
        /* a big argument: read it in large pieces */
        size_t rest = (size_t)p->bulklen + 2;
        size_t have = c->qbuf.len - p->pos;
        if (rest > have)
            want = rest - have < (1u << 20) ? rest - have : (1u << 20);
    }
    if (!buf_reserve(&c->qbuf, want + 1)) {
        client_free(c);
        return;
    }
    n = read(c->fd, c->qbuf.p + c->qbuf.len, c->qbuf.cap - c->qbuf.len - 1);
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    if (n <= 0) {
        client_free(c);
        return;
    }
    c->qbuf.len += (size_t)n;
    STAT_ADD(&c->loop->stats, net_in, (uint64_t)n);
    atomic_store_explicit(&c->last_ms, c->loop->now_ms, memory_order_relaxed);
    if (limit && c->qbuf.len - p->start > limit) {
        wd_log("closing client %s: query buffer over "
               "client-query-buffer-limit (%llu bytes)",
               c->addr, (unsigned long long)limit);
        client_free(c);
        return;
    }
    process_input(c);
    pending_add(c);
}

/* Write the replies of every client read this round. */
static void flush_pending(wd_loop *l)
{
    while (l->pending) {
        wd_client *c = l->pending;
        pending_remove(c);
        if (client_after_io(c) < 0)
            client_free(c);
    }
}

static void check_idle(wd_loop *l)
{
    uint64_t t =
        atomic_load_explicit(&server.cfg.timeout, memory_order_relaxed);
    wd_client *c = l->clients, *next;

    if (t == 0)
        return;
    for (; c; c = next) {
        next = c->next;
        uint64_t last = atomic_load_explicit(&c->last_ms, memory_order_relaxed);
        if (l->now_ms > last && l->now_ms - last > t * 1000)
            client_free(c);
    }
}

/* At stop: write each client's pending replies, for at most ~2 s in all. */
static void drain_and_close(wd_loop *l)
{
    uint64_t deadline = wd_mono_ms() + 2000;

    while (l->clients) {
        wd_client *c = l->clients;
        while (c->sent < c->obuf.len && !c->closing) {
            uint64_t now = wd_mono_ms();
            struct pollfd pfd = {.fd = c->fd, .events = POLLOUT};
            if (now >= deadline)
                break;
            if (poll(&pfd, 1, (int)(deadline - now)) <= 0)
                break;
            c->close_after_reply = false;
            if (client_flush(c) < 0)
                break;
        }
        client_free(c);
    }
}

static void *loop_main(void *arg)
{
    wd_loop *l = arg;
    struct epoll_event evs[128];
    uint64_t last_idle = wd_mono_ms();
    uint64_t now_us = wd_mono_us();
    uint64_t spin_until = 0; /* busy-poll: no sleep until then */

    while (!atomic_load(&server.stopping)) {
        int n = epoll_wait(l->epfd, evs, 128, now_us < spin_until ? 0 : 100);
        now_us = wd_mono_us();
        l->now_ms = now_us / 1000;
        if (n > 0)
            spin_until = now_us + atomic_load_explicit(&server.cfg.busy_poll,
                                                       memory_order_relaxed);
        for (int i = 0; i < n; i++) {
            void *tag = evs[i].data.ptr;
            if (tag == TAG_LISTEN) {
                accept_all(l);
            } else if (tag == TAG_WAKE) {
                uint64_t v;
                (void)!read(l->wake_fd, &v, sizeof v);
            } else {
                wd_client *c = tag;
                if (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR))
                    client_read(c); /* may free c */
                else if (evs[i].events & EPOLLOUT) {
                    if (client_after_io(c) < 0)
                        client_free(c);
                }
            }
        }
        flush_pending(l);
        if (l->now_ms - last_idle >= 1000) {
            check_idle(l);
            last_idle = l->now_ms;
        }
    }
    epoll_ctl(l->epfd, EPOLL_CTL_DEL, l->listen_fd, NULL);
    close(l->listen_fd);
    l->listen_fd = -1;
    drain_and_close(l);
    return NULL;
}

int net_start(void)
{
    for (int i = 0; i < server.nloops; i++) {
        wd_loop *l = &server.loops[i];
        struct epoll_event e = {.events = EPOLLIN};
        l->index = i;
        l->epfd = epoll_create1(EPOLL_CLOEXEC);
        l->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        if (l->epfd < 0 || l->wake_fd < 0) {
            wd_log("epoll/eventfd: %s", strerror(errno));
            return -1;
        }
        e.data.ptr = TAG_LISTEN;
        epoll_ctl(l->epfd, EPOLL_CTL_ADD, l->listen_fd, &e);
        e.data.ptr = TAG_WAKE;
        epoll_ctl(l->epfd, EPOLL_CTL_ADD, l->wake_fd, &e);
        if (pthread_create(&l->thread, NULL, loop_main, l) != 0) {
            wd_log("pthread_create failed");
            return -1;
        }
    }
    return 0;
}

void net_stop(void)
{
    atomic_store(&server.stopping, true);
    for (int i = 0; i < server.nloops; i++) {
        uint64_t one = 1;
        (void)!write(server.loops[i].wake_fd, &one, sizeof one);
    }
    for (int i = 0; i < server.nloops; i++) {
        wd_loop *l = &server.loops[i];
        pthread_join(l->thread, NULL);
        close(l->epfd);
        close(l->wake_fd);
        buf_free(&l->scratch);
        buf_free(&l->wbuf);
        buf_free(&l->batch);
    }
}

/* ------------------------------------------------------------------------ */
/* Registry and counters                                                     */
/* ------------------------------------------------------------------------ */

/* One CLIENT LIST line; the registry lock is held. The name has no
 * length limit (as in Redis), so the line has none either. */
static void client_line(wd_client *c, wd_buf *out)
{
    uint64_t now = wd_now_ms(), mono = wd_mono_ms();
    uint64_t last = atomic_load_explicit(&c->last_ms, memory_order_relaxed);

    (void)buf_printf(
        out,
        "id=%llu addr=%s laddr=%s fd=%d name=%s age=%llu idle=%llu "
        "flags=N db=0 sub=0 psub=0 ssub=0 multi=-1 qbuf=%llu qbuf-free=0 "
        "argv-mem=0 multi-mem=0 obl=0 oll=0 omem=%llu tot-mem=0 events=r "
        "cmd=%s user=default redir=-1 resp=%d\n",
        (unsigned long long)c->id, c->addr, c->laddr, c->fd,
        c->name ? c->name : "",
        (unsigned long long)((now - c->created_ms) / 1000),
        (unsigned long long)((mono > last ? mono - last : 0) / 1000),
        (unsigned long long)atomic_load_explicit(&c->qbuf_len,
                                                 memory_order_relaxed),
        (unsigned long long)atomic_load_explicit(&c->obuf_len,
                                                 memory_order_relaxed),
        atomic_load_explicit(&c->lastcmd, memory_order_relaxed),
        atomic_load_explicit(&c->resp, memory_order_relaxed));
}

void net_client_info(wd_client *c, wd_buf *out)
{
    pthread_mutex_lock(&server.reg_lock);
    client_line(c, out);
    pthread_mutex_unlock(&server.reg_lock);
}

void net_client_list(wd_buf *out)
{
    pthread_mutex_lock(&server.reg_lock);
    for (wd_client *c = server.registry; c; c = c->gnext)
        client_line(c, out);
    pthread_mutex_unlock(&server.reg_lock);
}

#define STAT_FIELDS(X)                                                         \
    X(commands)                                                                \
    X(connections)                                                             \
    X(net_in)                                                                  \
    X(net_out)                                                                 \
    X(hits)                                                                    \
    X(misses)                                                                  \
    X(expired)                                                                 \
    X(rejected)                                                                \
    X(qgets)                                                                   \
    X(qget_partners)                                                           \
    X(qget_found)

static void stats_raw(wd_stats *out)
{
#define ZERO(f) atomic_store_explicit(&out->f, 0, memory_order_relaxed);
    STAT_FIELDS(ZERO)
#undef ZERO
    for (int i = 0; i < server.nloops; i++) {
        wd_stats *s = &server.loops[i].stats;
#define SUM(f)                                                                 \
    atomic_store_explicit(                                                     \
        &out->f,                                                               \
        atomic_load_explicit(&out->f, memory_order_relaxed) +                  \
            atomic_load_explicit(&s->f, memory_order_relaxed),                 \
        memory_order_relaxed);
        STAT_FIELDS(SUM)
#undef SUM
    }
}

void net_stats_sum(wd_stats *out)
{
    stats_raw(out);
    pthread_mutex_lock(&server.stat_lock);
#define SUB(f)                                                                 \
    atomic_store_explicit(                                                     \
        &out->f,                                                               \
        atomic_load_explicit(&out->f, memory_order_relaxed) -                  \
            atomic_load_explicit(&server.stat_base.f, memory_order_relaxed),   \
        memory_order_relaxed);
    STAT_FIELDS(SUB)
#undef SUB
    pthread_mutex_unlock(&server.stat_lock);
}

void net_stats_reset(void)
{
    pthread_mutex_lock(&server.stat_lock);
    stats_raw(&server.stat_base);
    pthread_mutex_unlock(&server.stat_lock);
}
