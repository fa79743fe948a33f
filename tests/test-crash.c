/*
 * test-crash.c - a store killed with SIGKILL in the middle of its writes
 * recovers every acknowledged write, and nothing that was never written.
 *
 * Each iteration forks this test binary. The child opens the store, runs
 * two writer threads (puts and deletes of a small key space, each thread
 * owning half of the keys) and, in one variant, a thread that checkpoints
 * over and over. Before each write a writer tells the parent what it is
 * about to do (INTENT), and after the library acknowledges it, that it was
 * done (ACK), over a pipe. The parent kills the child with SIGKILL after a
 * random delay of 0-50 ms or after a random number of acks, reopens the
 * directory and checks every key against its model:
 *
 *   - the value of (key k, version v) is a pure function of (k, v), and
 *     starts with k and v, so the parent can tell exactly which write a
 *     stored value came from, and that its bytes are right;
 *   - a key must be in the state left by its last acknowledged write, or
 *     by a later write that was in flight (sent INTENT but not ACK): a
 *     write the kill interrupted may or may not have reached the log;
 *   - a key never written this iteration keeps the state the previous
 *     reopen verified; no key outside the key space exists.
 *
 * The verified state becomes the next iteration's starting point, so the
 * same directory is recovered again and again (torn tails, switched
 * segments, interrupted checkpoints pile up).
 *
 * The `moves` variants add a mover thread that moves the slots of the key
 * space to random shards without pause. Their keys mostly carry one of a
 * few hash tags, so that a few slots hold keys of both writers and move
 * again and again, mid-write; after each reopen every shard's counters
 * must match the keys found on it, and `warp check` must pass.
 *
 * WARP_CRASH_ITERS sets the iterations of each test (default 20; `make
 * soak` runs 500). WARP_TEST_SEED replays a run.
 */
#include "testutil.h"

#include "durability.h"

#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/wait.h>

#define NKEYS           256
#define WRITERS         2
#define MAX_OPS_PER_KEY 4096
#define SHARDS          4
#define TAGS            6 /* moves variants: hash-tag groups of keys */

/* ------------------------------------------------------------------------ */
/* Values: a pure function of (key, version)                                 */
/* ------------------------------------------------------------------------ */

#define VALUE_HEADER 16

static uint64_t mix(uint64_t k, uint64_t v)
{
    uint64_t s = k * 0x9E3779B97F4A7C15ull ^ v;
    return next_rand(&s);
}

/* Length of the value of version v of key k: mostly small, sometimes a
 * few KiB (so that 64 KiB WAL segments fill and switch often). */
static size_t value_len(uint32_t k, uint64_t v)
{
    uint64_t h = mix(k, v);

    if (h % 32 == 0)
        return VALUE_HEADER + 2000 + (size_t)(h >> 8) % 14000;
    return VALUE_HEADER + (size_t)(h >> 8) % 200;
}

/* Write the value into buf (capacity at least value_len). */
static void value_fill(uint8_t *buf, uint32_t k, uint64_t v)
{
    uint64_t kk = k;
    size_t len = value_len(k, v);

    memcpy(buf, &kk, 8);
    memcpy(buf + 8, &v, 8);
    fill_value(buf + VALUE_HEADER, len - VALUE_HEADER, kk << 40 ^ v);
}

/* Whether keys carry hash tags (the moves variants); set before the child
 * is forked, so both processes name keys alike. */
static bool tagged_keys;

/* Key k: "crash:k", or with tags "{mc<g>}:k" (g one of TAGS groups, each
 * holding keys of both writers) for most keys and "mc:k" for every
 * fourth. */
static size_t key_of(char *buf, size_t cap, uint32_t k)
{
    if (!tagged_keys)
        return format_key(buf, cap, "crash", k);
    int n = k % 4 == 0
                ? snprintf(buf, cap, "mc:%u", k)
                : snprintf(buf, cap, "{mc%u}:%u", (k / WRITERS) % TAGS, k);
    assert_true(n > 0 && (size_t)n < cap);
    return (size_t)n;
}

/* Which key `key` (klen bytes) is, or NKEYS if it is none of ours. */
static uint32_t key_number(const void *key, size_t klen)
{
    char buf[64], want[64];
    const char *colon;
    unsigned k;

    if (klen >= sizeof(buf))
        return NKEYS;
    memcpy(buf, key, klen);
    buf[klen] = 0;
    if (!(colon = strchr(buf, ':')) || sscanf(colon + 1, "%u", &k) != 1 ||
        k >= NKEYS)
        return NKEYS;
    key_of(want, sizeof(want), k);
    return strcmp(want, buf) == 0 ? k : NKEYS;
}

/* ------------------------------------------------------------------------ */
/* Messages from the child                                                   */
/* ------------------------------------------------------------------------ */

enum { MSG_INTENT = 1, MSG_ACK = 2, MSG_FAIL = 3 };
enum { OP_PUT = 1, OP_DEL = 2 };

typedef struct msg {
    uint8_t type;
    uint8_t op;
    uint16_t line; /* MSG_FAIL: the child's source line */
    int32_t rc;    /* MSG_FAIL: the result code */
    uint32_t key;
    uint32_t pad;
    uint64_t version;
} msg;

_Static_assert(sizeof(msg) <= 512, "a message is one atomic pipe write");

/* ------------------------------------------------------------------------ */
/* The parent's model                                                        */
/* ------------------------------------------------------------------------ */

/* One write of this iteration to one key. */
typedef struct op_rec {
    uint8_t op;
    bool acked;
    uint64_t version;
} op_rec;

typedef struct key_model {
    bool present;          /* the verified state at the iteration's start */
    uint64_t version;      /* its version, if present */
    uint64_t next_version; /* the last version ever attempted */
    op_rec ops[MAX_OPS_PER_KEY];
    uint32_t nops;
} key_model;

typedef struct variant {
    const char *name;
    warp_fsync fsync;
    bool checkpointer; /* the child checkpoints while it writes */
    bool mover;        /* the child moves slots while it writes */
} variant;

typedef struct crash_run {
    const variant *var;
    test_dir *dir;
    warp_options opts;
    uint64_t seed;
    key_model *keys;
    int wfd; /* the child's end of the pipe */
    uint32_t iter;
    /* totals, for the summary line */
    uint64_t acked, in_flight_seen, in_flight_lost, torn_bytes;
    uint64_t moved_seen; /* keys found on another shard after a reopen */
} crash_run;

/* ------------------------------------------------------------------------ */
/* The child                                                                 */
/* ------------------------------------------------------------------------ */

typedef struct child_ctx {
    crash_run *run;
    warp_db *db;
    uint32_t thread;
} child_ctx;

static void child_send(crash_run *run, const msg *m)
{
    const char *p = (const char *)m;
    size_t left = sizeof(*m);

    while (left) {
        ssize_t w = write(run->wfd, p, left);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            _exit(3); /* the parent is gone */
        p += w;
        left -= (size_t)w;
    }
}

static void child_fail(crash_run *run, int line, int rc)
{
    msg m = {.type = MSG_FAIL, .line = (uint16_t)line, .rc = rc};

    child_send(run, &m);
    _exit(2);
}

static void *child_writer(void *arg)
{
    child_ctx *c = arg;
    crash_run *run = c->run;
    uint64_t rng = run->seed ^ (uint64_t)run->iter << 20 ^ c->thread;
    uint8_t *val = malloc(VALUE_HEADER + 16384);
    char key[64];

    if (!val)
        child_fail(run, __LINE__, WARP_ENOMEM);
    for (;;) {
        uint64_t r = next_rand(&rng);
        uint32_t k = (uint32_t)(r % (NKEYS / WRITERS)) * WRITERS + c->thread;
        key_model *km = &run->keys[k];
        uint64_t v = ++km->next_version;
        bool del = (r >> 32) % 8 == 0;
        size_t klen = key_of(key, sizeof(key), k);
        msg m = {.type = MSG_INTENT,
                 .op = del ? OP_DEL : OP_PUT,
                 .key = k,
                 .version = v};
        int rc;

        child_send(run, &m);
        if (del) {
            rc = warp_delete(c->db, key, klen);
            if (rc == WARP_NOTFOUND)
                rc = WARP_OK;
        } else {
            value_fill(val, k, v);
            rc = warp_put(c->db, key, klen, val, value_len(k, v), NULL, NULL);
        }
        if (rc != WARP_OK)
            child_fail(run, __LINE__, rc);
        m.type = MSG_ACK;
        child_send(run, &m);
    }
    return NULL;
}

static void *child_checkpointer(void *arg)
{
    child_ctx *c = arg;
    uint64_t rng = c->run->seed ^ c->run->iter ^ 0xC0FFEE;

    for (;;) {
        int rc = warp_checkpoint(c->db);
        if (rc != WARP_OK)
            child_fail(c->run, __LINE__, rc);
        usleep((useconds_t)(next_rand(&rng) % 3000));
    }
    return NULL;
}

/* Move the slot of a random key to a random shard, without pause. */
static void *child_mover(void *arg)
{
    child_ctx *c = arg;
    uint64_t rng = c->run->seed ^ (uint64_t)c->run->iter << 24 ^ 0xB0B;
    char key[64];

    for (;;) {
        uint64_t r = next_rand(&rng);
        size_t klen = key_of(key, sizeof(key), (uint32_t)(r % NKEYS));
        warp_placement p;
        int rc = warp_locate(c->db, key, klen, &p);
        if (rc == WARP_OK)
            rc = warp_slot_move(c->db, p.slot, (uint32_t)((r >> 32) % SHARDS));
        if (rc != WARP_OK)
            child_fail(c->run, __LINE__, rc);
    }
    return NULL;
}

/* The child: open, write (and move) until killed. Never returns. */
static void child_main(crash_run *run)
{
    child_ctx ctx[WRITERS + 2];
    pthread_t th[WRITERS + 2];
    warp_db *db = NULL;
    int rc = warp_open(run->dir->db, &run->opts, &db);
    uint32_t n = 0;

    if (rc != WARP_OK)
        child_fail(run, __LINE__, rc);
    for (uint32_t t = 0; t < WRITERS; t++, n++) {
        ctx[n] = (child_ctx){.run = run, .db = db, .thread = t};
        if (pthread_create(&th[n], NULL, child_writer, &ctx[n]))
            child_fail(run, __LINE__, WARP_ENOMEM);
    }
    if (run->var->checkpointer) {
        ctx[n] = (child_ctx){.run = run, .db = db, .thread = n};
        if (pthread_create(&th[n], NULL, child_checkpointer, &ctx[n]))
            child_fail(run, __LINE__, WARP_ENOMEM);
        n++;
    }
    if (run->var->mover) {
        ctx[n] = (child_ctx){.run = run, .db = db, .thread = n};
        if (pthread_create(&th[n], NULL, child_mover, &ctx[n]))
            child_fail(run, __LINE__, WARP_ENOMEM);
        n++;
    }
    sleep(30); /* the parent kills us long before */
    _exit(4);
}

/* ------------------------------------------------------------------------ */
/* The parent                                                                */
/* ------------------------------------------------------------------------ */

static uint64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Take one message into the model. Returns 1 for an ack, 0 otherwise. */
static int take_message(crash_run *run, const msg *m)
{
    key_model *km;

    if (m->type == MSG_FAIL) {
        print_error("iteration %u: the child failed at test-crash.c:%u with "
                    "%d (%s)\n",
                    run->iter, m->line, m->rc, warp_strerror(m->rc));
        fail();
    }
    assert_true(m->key < NKEYS);
    km = &run->keys[m->key];
    if (m->type == MSG_INTENT) {
        assert_true(km->nops < MAX_OPS_PER_KEY);
        /* a key's writes come from one thread: one at a time, in order */
        assert_true(km->nops == 0 || km->ops[km->nops - 1].acked);
        assert_true(m->version > km->next_version);
        km->next_version = m->version;
        km->ops[km->nops++] = (op_rec){.op = m->op, .version = m->version};
        return 0;
    }
    assert_int_equal(m->type, MSG_ACK);
    assert_true(km->nops > 0);
    assert_int_equal(km->ops[km->nops - 1].version, m->version);
    km->ops[km->nops - 1].acked = true;
    return 1;
}

/* Run one child: fork, read its messages until the kill condition, kill
 * it, read the rest, and reap it. */
static void run_child(crash_run *run, uint64_t *rng)
{
    int fds[2];
    pid_t pid;
    bool by_acks = next_rand(rng) % 2;
    uint64_t delay_ms = next_rand(rng) % 51;
    uint64_t ack_target = 1 + next_rand(rng) % 400;
    uint64_t start, acks = 0;
    bool killed = false;
    uint8_t buf[sizeof(msg) * 64];
    size_t have = 0;
    int status;

    assert_int_equal(pipe(fds), 0);
    fflush(stdout);
    fflush(stderr);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(fds[0]);
        run->wfd = fds[1];
        child_main(run);
    }
    close(fds[1]);
    start = mono_ms();
    for (;;) {
        uint64_t now = mono_ms();
        /* by acks: give up waiting after 5 s (a slow disk) */
        uint64_t deadline = start + (by_acks ? 5000 : delay_ms);
        if (!killed && (now >= deadline || (by_acks && acks >= ack_target))) {
            kill(pid, SIGKILL);
            killed = true;
        }
        struct pollfd pfd = {.fd = fds[0], .events = POLLIN};
        int wait = killed ? -1 : (int)(deadline > now ? deadline - now : 0);
        int pr = poll(&pfd, 1, wait);
        if (pr < 0 && errno == EINTR)
            continue;
        assert_true(pr >= 0);
        if (pr == 0)
            continue;
        ssize_t r = read(fds[0], buf + have, sizeof(buf) - have);
        if (r < 0 && errno == EINTR)
            continue;
        assert_true(r >= 0);
        if (r == 0)
            break; /* every writer of the pipe is gone */
        have += (size_t)r;
        size_t used = 0;
        for (; have - used >= sizeof(msg); used += sizeof(msg)) {
            msg m;
            memcpy(&m, buf + used, sizeof(m));
            acks += (uint64_t)take_message(run, &m);
        }
        memmove(buf, buf + used, have - used);
        have -= used;
    }
    close(fds[0]);
    assert_int_equal(have, 0);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGKILL) {
        print_error("iteration %u: the child ended with status 0x%x, not by "
                    "SIGKILL\n",
                    run->iter, status);
        fail();
    }
    run->acked += acks;
}

/* Whether (present, version) is a state key `km` may be in now: the state
 * after its last acknowledged write, or after a later one. */
static bool state_allowed(const key_model *km, bool present, uint64_t version)
{
    uint32_t first = 0; /* states after ops[0..j) for j >= first are allowed */
    bool p = km->present;
    uint64_t v = km->version;

    for (uint32_t i = 0; i < km->nops; i++)
        if (km->ops[i].acked)
            first = i + 1;
    for (uint32_t j = 0; j <= km->nops; j++) {
        if (j > 0) {
            p = km->ops[j - 1].op == OP_PUT;
            v = km->ops[j - 1].version;
        }
        if (j >= first && p == present && (!p || v == version))
            return true;
    }
    return false;
}

static void describe_model(const key_model *km, uint32_t k)
{
    print_error("  key %u started %s", k, km->present ? "present" : "absent");
    if (km->present)
        print_error(" at version %llu", (unsigned long long)km->version);
    print_error("; writes this iteration:");
    for (uint32_t i = 0; i < km->nops; i++)
        print_error(" %s v%llu%s", km->ops[i].op == OP_PUT ? "put" : "del",
                    (unsigned long long)km->ops[i].version,
                    km->ops[i].acked ? " (acked)" : " (in flight)");
    print_error("\n");
}

/* Check key k in the reopened store; then its verified state becomes the
 * model's starting point. */
static void verify_key(crash_run *run, warp_db *db, uint32_t k)
{
    key_model *km = &run->keys[k];
    char key[64];
    size_t klen = key_of(key, sizeof(key), k), vlen = 0;
    void *val = NULL;
    int rc = warp_get_alloc(db, key, klen, &val, &vlen, NULL);
    bool present = rc == WARP_OK;
    uint64_t version = 0;

    if (rc != WARP_OK && rc != WARP_NOTFOUND) {
        print_error("iteration %u: get key %u returned %d (%s)\n", run->iter, k,
                    rc, warp_strerror(rc));
        fail();
    }
    if (present) {
        uint64_t kk = UINT64_MAX;
        if (vlen >= VALUE_HEADER) {
            memcpy(&kk, val, 8);
            memcpy(&version, (uint8_t *)val + 8, 8);
        }
        uint8_t *want = NULL;
        bool exact = kk == k && version >= 1 && version <= km->next_version &&
                     vlen == value_len(k, version);
        if (exact) {
            want = malloc(vlen);
            assert_non_null(want);
            value_fill(want, k, version);
            exact = memcmp(want, val, vlen) == 0;
            free(want);
        }
        if (!exact) {
            print_error("iteration %u: key %u holds %zu bytes that no write "
                        "wrote\n",
                        run->iter, k, vlen);
            describe_model(km, k);
            warp_free(val);
            fail();
        }
    }
    warp_free(val);
    if (!state_allowed(km, present, version)) {
        print_error("iteration %u: key %u is %s", run->iter, k,
                    present ? "present" : "absent");
        if (present)
            print_error(" at version %llu", (unsigned long long)version);
        print_error(", which its last acknowledged write rules out\n");
        describe_model(km, k);
        fail();
    }
    if (km->nops && !km->ops[km->nops - 1].acked) {
        const op_rec *last = &km->ops[km->nops - 1];
        bool took = present == (last->op == OP_PUT) &&
                    (!present || version == last->version);
        run->in_flight_seen++;
        run->in_flight_lost += !took;
    }
    km->present = present;
    km->version = version;
    km->nops = 0;
}

/* What warp_foreach() finds: every key is one of ours; per shard, the
 * pairs and their bytes. */
typedef struct seen_pairs {
    uint64_t n;
    uint64_t keys[SHARDS], bytes[SHARDS];
} seen_pairs;

static int count_pair(void *ctx, const void *key, size_t klen, const void *val,
                      size_t vlen, const warp_placement *where)
{
    seen_pairs *s = ctx;

    (void)val;
    if (key_number(key, klen) == NKEYS || where->shard >= SHARDS)
        return 1;
    s->n++;
    s->keys[where->shard]++;
    s->bytes[where->shard] += klen + vlen;
    return 0;
}

/* The counters match the pairs, per shard. Returns how many of our keys
 * are in a slot that is not on its first shard. */
static uint64_t verify_counters(warp_db *db, const seen_pairs *s)
{
    uint32_t slots = 0;
    uint64_t moved = 0;

    for (uint32_t i = 0; i < SHARDS; i++) {
        warp_shard_stats st;
        assert_ok(warp_shard_stats_get(db, i, &st));
        assert_int_equal(st.keys, s->keys[i]);
        assert_int_equal(st.key_bytes + st.value_bytes, s->bytes[i]);
        slots += st.slots;
    }
    assert_int_equal(slots, WARP_SLOTS);
    for (uint32_t k = 0; k < NKEYS; k++) {
        char key[64];
        size_t klen = key_of(key, sizeof(key), k);
        warp_placement p;
        assert_ok(warp_locate(db, key, klen, &p));
        moved += p.shard != p.slot * SHARDS / WARP_SLOTS;
    }
    return moved;
}

/* Reopen the directory and check every key against the model. */
static void verify(crash_run *run)
{
    warp_db *db = open_disk(run->dir->db, &run->opts);
    warp_recovery rec = recovery_of(db);
    uint64_t present = 0;
    seen_pairs seen = {0};

    /* a killed process leaves no damage, only maybe a torn tail */
    assert_int_equal(rec.skipped_bytes, 0);
    assert_int_equal(rec.skipped_regions, 0);
    run->torn_bytes += rec.torn_bytes;
    for (uint32_t k = 0; k < NKEYS; k++) {
        verify_key(run, db, k);
        present += run->keys[k].present;
    }
    assert_ok(warp_foreach(db, count_pair, &seen));
    assert_int_equal(seen.n, present);
    assert_int_equal(stats_of(db).keys, present);
    run->moved_seen += verify_counters(db, &seen);
    /* keep the WAL of the variants without checkpoints bounded */
    if (!run->var->checkpointer && run->iter % 8 == 7)
        assert_ok(warp_checkpoint(db));
    warp_close(db);
    if (run->var->mover) {
        warp_check_report cr;
        assert_ok(warp_check(run->dir->db, &cr));
    }
}

static uint32_t crash_iterations(void)
{
    const char *env = getenv("WARP_CRASH_ITERS");
    long n = env && *env ? strtol(env, NULL, 10) : 20;

    return n > 0 ? (uint32_t)n : 20;
}

static void run_variant(void **state, const variant *var)
{
    crash_run run = {.var = var, .dir = *state};
    uint32_t iters = crash_iterations();
    uint64_t rng, t0 = mono_ms();

    run.seed = test_seed(var->name);
    rng = run.seed;
    run.opts = disk_options(SHARDS, var->fsync);
    tagged_keys = var->mover;
    run.keys = calloc(NKEYS, sizeof(*run.keys));
    assert_non_null(run.keys);
    for (run.iter = 0; run.iter < iters; run.iter++) {
        run_child(&run, &rng);
        verify(&run);
    }
    printf("# %s: %u kills, %llu acked writes, %llu in flight at the kill "
           "(%llu of them not recovered, as allowed), %llu torn bytes cut, "
           "%llu keys found moved, %llu ms\n",
           var->name, iters, (unsigned long long)run.acked,
           (unsigned long long)run.in_flight_seen,
           (unsigned long long)run.in_flight_lost,
           (unsigned long long)run.torn_bytes,
           (unsigned long long)run.moved_seen,
           (unsigned long long)(mono_ms() - t0));
    /* the moves must have happened for the run to prove anything; a few
     * kills (WARP_CRASH_ITERS=3, say) may all land before the first one */
    if (var->mover && iters >= 10)
        assert_true(run.moved_seen > 0);
    free(run.keys);
}

/* ------------------------------------------------------------------------ */
/* Tests                                                                     */
/* ------------------------------------------------------------------------ */

static void sigkill_with_fsync_always_loses_no_acknowledged_write(void **state)
{
    static const variant v = {"fsync=always", WARP_FSYNC_ALWAYS, false, false};
    run_variant(state, &v);
}

static void sigkill_during_checkpoints_loses_no_acknowledged_write(void **state)
{
    static const variant v = {"fsync=always with checkpoints",
                              WARP_FSYNC_ALWAYS, true, false};
    run_variant(state, &v);
}

static void
sigkill_with_fsync_everysec_loses_no_acknowledged_write(void **state)
{
    /* the log is in the page cache the moment a write returns */
    static const variant v = {"fsync=everysec", WARP_FSYNC_EVERYSEC, false,
                              false};
    run_variant(state, &v);
}

static void sigkill_with_everysec_during_checkpoints_loses_nothing(void **state)
{
    static const variant v = {"fsync=everysec with checkpoints",
                              WARP_FSYNC_EVERYSEC, true, false};
    run_variant(state, &v);
}

static void sigkill_while_moving_slots_fsync_always_loses_nothing(void **state)
{
    static const variant v = {"moves, fsync=always", WARP_FSYNC_ALWAYS, false,
                              true};
    run_variant(state, &v);
}

static void sigkill_while_moving_and_checkpointing_loses_nothing(void **state)
{
    static const variant v = {"moves and checkpoints, fsync=always",
                              WARP_FSYNC_ALWAYS, true, true};
    run_variant(state, &v);
}

static void sigkill_while_moving_slots_everysec_loses_nothing(void **state)
{
    static const variant v = {"moves and checkpoints, fsync=everysec",
                              WARP_FSYNC_EVERYSEC, true, true};
    run_variant(state, &v);
}

static void sigkill_while_moving_slots_never_loses_nothing(void **state)
{
    static const variant v = {"moves and checkpoints, fsync=never",
                              WARP_FSYNC_NEVER, true, true};
    run_variant(state, &v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        DIR_TEST(sigkill_with_fsync_always_loses_no_acknowledged_write),
        DIR_TEST(sigkill_during_checkpoints_loses_no_acknowledged_write),
        DIR_TEST(sigkill_with_fsync_everysec_loses_no_acknowledged_write),
        DIR_TEST(sigkill_with_everysec_during_checkpoints_loses_nothing),
        DIR_TEST(sigkill_while_moving_slots_fsync_always_loses_nothing),
        DIR_TEST(sigkill_while_moving_and_checkpointing_loses_nothing),
        DIR_TEST(sigkill_while_moving_slots_everysec_loses_nothing),
        DIR_TEST(sigkill_while_moving_slots_never_loses_nothing),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
