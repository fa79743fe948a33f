#!/usr/bin/python3
"""test-chaos.py - warpd under load, killed with SIGKILL at random moments.

usage: test-chaos.py WARPD [--iterations N] [--budget SECONDS] [--seed S]
                     [--warp WARP]

Starts warpd with `fsync always` (8 shards, 64 KiB WAL segments so that
segment switches happen often, physics full) in a fresh data directory on
a free loopback port, and drives it with:
  - writer clients, each owning its own keys: SET, SET PX (short expiry),
    SET EX (long expiry), DEL, INCR, and MSET of four keys sharing a
    {hash tag}; each writer reads back its own keys as it goes (GET, and
    the related-key reads MGET of a {tag} group and, if the server has
    it, QGET) and checks it reads its acknowledged writes;
  - observer clients reading everyone's keys, checking that every value
    they see is whole (values carry their key and a checksum);
  - an admin client running WARP.REBALANCE FORCE, BGSAVE and SAVE.
At a random moment it SIGKILLs warpd, restarts it on the same directory
and checks every key any writer ever wrote:
  - an acknowledged write is there, exactly (value, counter, deletion);
  - the one write each client had in flight when the server died (no
    reply) is either fully there or not at all, key by key: the engine
    logs each key of an MSET as its own record, and fsync=always makes a
    batch durable before it is acknowledged, but a crash before that may
    keep some keys of an unacknowledged MSET and not others (docs/
    SERVER.md: MSET is all-or-nothing against errors, not against a
    crash). So each key must hold its old or its new value, nothing else;
  - no value is torn or invented: each parses and its checksum matches;
  - expiry survives: a key set with PX is there before its deadline and
    gone after it, a key set with EX 3600 still has a TTL.
Then the load resumes on the restarted server; this repeats until
--iterations kills or --budget seconds (whichever comes first; at least
three kills). Finally SIGTERM must stop warpd with exit 0, and with --warp,
`warp check` must find the directory undamaged.

The last lines report the figures: kills survived, acknowledged writes,
keys verified. Exit status 0 if every check passed.
"""
import argparse
import os
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import zlib

import redis

import warptest
from warptest import fail, failures

WRITERS = 8
OBSERVERS = 3
KEYS_PER_WRITER = 250
GROUPS_PER_WRITER = 25
SHORT_PX = (800, 4000)  # ms
MARGIN = 0.5  # s of slack around an expiry deadline

def make_value(key, ver):
    body = f"{key}|{ver}|" + "x" * (ver % 97)
    return f"{body}|{zlib.crc32(body.encode()):08x}"


def value_ok(key, v):
    """Whether v is a whole value written for key."""
    if v is None:
        return True
    s = v.decode(errors="replace") if isinstance(v, bytes) else v
    body, _, crc = s.rpartition("|")
    return (body.startswith(key + "|") and
            crc == f"{zlib.crc32(body.encode()):08x}")


class Server(warptest.Warpd):
    """warpd as the chaos runs it, restarted on one data directory."""

    def __init__(self, warpd, dir, tmp):
        super().__init__([warpd, "--port", "0", "--dir", dir, "--threads",
                          "2", "--fsync", "always", "--shards", "8",
                          "--wal-segment-size", "64k", "--physics", "full",
                          "--hz", "50"])
        self.dir, self.tmp = dir, tmp
        self.starts = 0

    def start(self):
        self.starts += 1
        super().start(os.path.join(self.tmp, f"warpd.{self.starts}.log"),
                      timeout=120, tail=3000)

    def client(self):
        return super().client(socket_timeout=60)


class Writer:
    """One client and the keys only it writes. `state` maps key -> the
    acknowledged state: ("val", value, deadline or None, long_ttl),
    ("del",) or ("int", n). `pending` is the op in flight: a list of
    (key, new state) pairs, any subset of which may have landed."""

    def __init__(self, idx, rng):
        self.idx = idx
        self.rng = rng
        self.state = {}
        self.pending = []
        self.ver = 0
        self.acked = 0
        self.reads = 0

    def key(self, i):
        return f"w{self.idx}:k{i}"

    def group(self, g):
        return [f"{{w{self.idx}g{g}}}:{j}" for j in range(4)]

    def expect_read(self, key, got, now):
        """Check a read of our own key against the acknowledged state."""
        st = self.state.get(key, ("del",))
        if st[0] == "int":
            ok = got == str(st[1]).encode()
        elif st[0] == "del":
            ok = got is None
        else:
            deadline = st[2]
            gotv = got.decode() if got is not None else None
            if deadline is None or now < deadline[0] - MARGIN:
                ok = gotv == st[1]
            elif now > deadline[1] + MARGIN:
                ok = got is None
            else:
                ok = got is None or gotv == st[1]
        if not ok:
            fail(f"w{self.idx}: {key} reads {got!r}, acknowledged {st}")

    def step(self, r, qget):
        rng = self.rng
        op = rng.random()
        self.ver += 1
        t0 = time.time()
        if op < 0.35:
            k = self.key(rng.randrange(KEYS_PER_WRITER))
            v = make_value(k, self.ver)
            self.pending = [(k, ("val", v, None, False))]
            r.set(k, v)
        elif op < 0.45:
            k = self.key(rng.randrange(KEYS_PER_WRITER))
            v = make_value(k, self.ver)
            px = rng.randrange(*SHORT_PX)
            # in flight, the deadline is t0 + px up to a landing before the
            # kill, which comes within seconds of t0
            self.pending = [(k, ("val", v, (t0 + px / 1000,
                                            t0 + px / 1000 + 5.0), False))]
            r.set(k, v, px=px)
            self.pending = [(k, ("val", v, (t0 + px / 1000,
                                            time.time() + px / 1000), False))]
        elif op < 0.50:
            k = self.key(rng.randrange(KEYS_PER_WRITER))
            v = make_value(k, self.ver)
            self.pending = [(k, ("val", v, None, True))]
            r.set(k, v, ex=3600)
        elif op < 0.60:
            k = self.key(rng.randrange(KEYS_PER_WRITER))
            self.pending = [(k, ("del",))]
            r.delete(k)
        elif op < 0.70:
            k = f"w{self.idx}:n{rng.randrange(4)}"
            st = self.state.get(k, ("int", 0))
            self.pending = [(k, ("int", st[1] + 1))]
            got = r.incr(k)
            if got != st[1] + 1:
                fail(f"w{self.idx}: INCR {k} gave {got}, expected {st[1] + 1}")
        elif op < 0.80:
            keys = self.group(rng.randrange(GROUPS_PER_WRITER))
            vals = {k: make_value(k, self.ver) for k in keys}
            self.pending = [(k, ("val", v, None, False))
                            for k, v in vals.items()]
            r.mset(vals)
        else:
            self.read(r, qget)
            return
        for k, st in self.pending:
            self.state[k] = st
        self.acked += len(self.pending)
        self.pending = []

    def read(self, r, qget):
        rng = self.rng
        self.pending = []
        pick = rng.random()
        if pick < 0.5:
            k = self.key(rng.randrange(KEYS_PER_WRITER))
            got = r.get(k)
            self.expect_read(k, got, time.time())
        elif pick < 0.8 or not qget:
            keys = self.group(rng.randrange(GROUPS_PER_WRITER))
            got = r.mget(keys)
            now = time.time()
            for k, v in zip(keys, got):
                self.expect_read(k, v, now)
        else:
            k = self.group(rng.randrange(GROUPS_PER_WRITER))[0]
            rep = r.execute_command("QGET", k)
            got = rep[0] if rep else None
            self.expect_read(k, got, time.time())
            for p in (rep[1] if rep else []):
                if not value_ok(p[0].decode(errors="replace"), p[1]):
                    fail(f"QGET {k}: partner {p[0]!r} holds {p[1]!r}")
        self.reads += 1

    def run(self, srv, stop):
        r = srv.client()
        qget = srv.has_qget
        try:
            while not stop.is_set():
                self.step(r, qget)
        except (redis.ConnectionError, redis.TimeoutError):
            pass  # the server died: self.pending is the op in flight
        except redis.ResponseError as e:
            fail(f"w{self.idx}: unexpected error reply {e}")
        finally:
            r.close()

    def all_keys(self):
        keys = set(self.state)
        keys.update(k for k, _ in self.pending)
        return sorted(keys)

    def verify(self, r):
        """After a restart: check every key, resolve the op in flight.
        Returns the number of keys verified."""
        keys = self.all_keys()
        pend = dict(self.pending)
        got = {}
        for i in range(0, len(keys), 100):
            chunk = keys[i:i + 100]
            for k, v in zip(chunk, r.mget(chunk)):
                got[k] = v
        now = time.time()
        for k in keys:
            v = got[k]
            if not value_ok(k, v) and self.state.get(k, ("",))[0] != "int":
                fail(f"w{self.idx}: {k} holds a torn or foreign value {v!r}")
                continue
            new = pend.get(k)
            if new is not None and self.matches(new, v, now):
                self.state[k] = new  # the write in flight landed
                continue
            old = self.state.get(k, ("del",))
            if not self.matches(old, v, now):
                fail(f"w{self.idx}: after restart {k} holds {v!r}; "
                     f"acknowledged {old}, in flight {new}")
            elif old[0] == "val" and old[3]:
                ttl = r.pttl(k)
                if not 0 < ttl <= 3600 * 1000:
                    fail(f"w{self.idx}: {k} lost its EX 3600 (PTTL {ttl})")
        self.pending = []
        return len(keys)

    @staticmethod
    def matches(st, v, now):
        if st[0] == "del":
            return v is None
        if st[0] == "int":
            return v == str(st[1]).encode()
        if v is None:  # absent: right only once the deadline may be past
            return st[2] is not None and now > st[2][0] - MARGIN
        if v.decode() != st[1]:
            return False
        return st[2] is None or now < st[2][1] + MARGIN


def observer(srv, stop, rng):
    r = srv.client()
    try:
        while not stop.is_set():
            w = rng.randrange(WRITERS)
            keys = [f"w{w}:k{rng.randrange(KEYS_PER_WRITER)}" for _ in range(8)]
            for k, v in zip(keys, r.mget(keys)):
                if not value_ok(k, v):
                    fail(f"observer: {k} holds a torn or foreign value {v!r}")
    except (redis.ConnectionError, redis.TimeoutError):
        pass
    finally:
        r.close()


def admin(srv, stop, rng, counts):
    r = srv.client()
    try:
        while not stop.wait(rng.uniform(0.2, 0.8)):
            what = rng.random()
            try:
                if what < 0.4:
                    r.execute_command("WARP.REBALANCE", "FORCE")
                    counts["rebalance"] += 1
                elif what < 0.8:
                    r.bgsave()
                    counts["bgsave"] += 1
                else:
                    r.save()
                    counts["save"] += 1
            except redis.ResponseError as e:
                if "in progress" not in str(e):
                    fail(f"admin: unexpected error reply {e}")
    except (redis.ConnectionError, redis.TimeoutError):
        pass
    finally:
        r.close()


def detect_qget(srv):
    r = srv.client()
    try:
        r.execute_command("QGET", "no-such-key")
        return True
    except redis.ResponseError:
        return False
    finally:
        r.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("warpd")
    ap.add_argument("--iterations", type=int, default=1000)
    ap.add_argument("--budget", type=float, default=120)
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--warp", default=None)
    a = ap.parse_args()
    seed = a.seed if a.seed is not None else int(time.time())
    print(f"seed {seed}", flush=True)
    rng = random.Random(seed)

    tmp = tempfile.mkdtemp(prefix="warp-chaos.")
    srv = Server(a.warpd, os.path.join(tmp, "data"), tmp)
    writers = [Writer(i, random.Random(rng.random())) for i in range(WRITERS)]
    counts = {"rebalance": 0, "bgsave": 0, "save": 0}
    kills = verified = 0
    t_start = time.time()
    try:
        srv.start()
        srv.has_qget = detect_qget(srv)
        print(f"related-key reads: MGET{' and QGET' if srv.has_qget else ''}",
              flush=True)
        while kills < a.iterations and (
                kills < 3 or time.time() - t_start < a.budget):
            stop = threading.Event()
            threads = [threading.Thread(target=w.run, args=(srv, stop))
                       for w in writers]
            threads += [threading.Thread(
                target=observer, args=(srv, stop, random.Random(rng.random())))
                for _ in range(OBSERVERS)]
            threads.append(threading.Thread(
                target=admin, args=(srv, stop, random.Random(rng.random()),
                                    counts)))
            for t in threads:
                t.start()
            time.sleep(rng.uniform(0.3, 3.0))
            srv.kill()  # SIGKILL, mid-flight
            stop.set()
            for t in threads:
                t.join()
            kills += 1
            srv.start()
            r = srv.client()
            n = sum(w.verify(r) for w in writers)
            r.close()
            verified += n
            acked = sum(w.acked for w in writers)
            print(f"kill {kills}: restart ok, {n} keys verified, "
                  f"{acked} acknowledged writes so far", flush=True)
            if failures:
                break
        rc = srv.stop()
        if rc != 0:
            fail(f"warpd exits {rc} on SIGTERM, not 0:\n{srv.text()[-2000:]}")
        if a.warp and not failures:
            c = subprocess.run([a.warp, "check", srv.dir], capture_output=True,
                               text=True, timeout=300)
            if c.returncode != 0:
                fail(f"warp check finds damage:\n{c.stdout}{c.stderr}")
    except Exception as e:  # noqa: BLE001 - report, then clean up
        fail(f"{type(e).__name__}: {e}")
        if srv.proc:
            print(srv.text()[-3000:], file=sys.stderr)
    finally:
        srv.kill()
    acked = sum(w.acked for w in writers)
    reads = sum(w.reads for w in writers)
    print(f"chaos: {kills} SIGKILLs survived, {acked} acknowledged writes, "
          f"{verified} key checks after restarts, {reads} read-your-writes "
          f"checks, {counts['rebalance']} forced rebalances, "
          f"{counts['bgsave']} BGSAVE, {counts['save']} SAVE, "
          f"{time.time() - t_start:.0f} s", flush=True)
    if failures:
        print(f"{len(failures)} failure(s); data kept in {tmp}", flush=True)
        return 1
    shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
