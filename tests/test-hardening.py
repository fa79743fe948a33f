#!/usr/bin/python3
"""test-hardening.py - warpd against hostile clients, a full disk, and the
security promises of docs/SECURITY.md.

usage: test-hardening.py WARPD GROUP...
  security  loopback by default; with requirepass nothing but an error
            before AUTH; no command reaches files outside the data
            directory; CONFIG SET cannot change dir, logfile, bind, port or
            any engine option but physics
  clients   1,000 concurrent clients, slow readers that never read their
            replies (memory bounded by client-output-buffer-limit, the
            other clients keep their latency), clients sending garbage or
            half a request and then nothing
  diskfull  the data directory on a small tmpfs: writes fail with a clear
            error, reads go on, nothing acknowledged is lost, writes work
            again once space returns (needs root to mount tmpfs; without
            it the group is skipped with exit status 77)
Each group starts its own warpd on a free loopback port and stops it
(SIGTERM must give exit 0). Figures (peak RSS, latencies) are printed as
"figure: ..." lines. Exit status 0 if every check passed.
"""
import os
import random
import re
import resource
import selectors
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

import redis

import warptest
from warptest import begin, check, failures, recv_until, resp

WARPD = None
TMP = None
SKIP = 77
warptest.current = ""  # failures are named after their group: begin()


def figure(text):
    print(f"figure: {text}", flush=True)


class Server(warptest.Warpd):
    """A warpd process on a free loopback port (the port comes from the
    "listening on" log line)."""

    def __init__(self, *args, dir=None, cwd=None, port="0", env=None):
        self.dir = dir or tempfile.mkdtemp(dir=TMP, prefix="data.")
        super().__init__([WARPD, "--port", port, "--dir", self.dir, *args],
                         cwd=cwd, env=env)
        self.start(os.path.join(TMP, f"warpd.{time.time_ns()}.log"))

    def status(self, field):
        """A /proc/PID/status field in kB (VmRSS, VmHWM)."""
        with open(f"/proc/{self.proc.pid}/status") as f:
            m = re.search(rf"^{field}:\s+(\d+) kB", f.read(), re.M)
        return int(m.group(1))

    def stop_ok(self):
        super().stop_ok(tail=2000)


def raw(s, data, want=1, timeout=10):
    """Send data, read until `want` CRLF-terminated lines or EOF."""
    s.settimeout(timeout)
    if data:
        s.sendall(data)
    return recv_until(s, lambda buf: buf.count(b"\r\n") >= want, timeout)


def healthy(srv):
    r = srv.client()
    try:
        return r.ping() and r.set("health", "ok") and r.get("health") == b"ok"
    finally:
        r.close()


# --------------------------------------------------------------------------
# security
# --------------------------------------------------------------------------

def listening_addrs(port):
    """The local addresses of LISTEN sockets on `port`, from /proc/net."""
    out = []
    for path, v6 in (("/proc/net/tcp", False), ("/proc/net/tcp6", True)):
        try:
            lines = open(path).read().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            f = line.split()
            addr, p = f[1].split(":")
            if int(p, 16) == port and f[3] == "0A":
                out.append(("v6:" if v6 else "") + addr)
    return out


def group_security():
    begin("warpd listens on loopback only unless told otherwise")
    with Server() as srv:
        addrs = listening_addrs(srv.port)
        check(addrs and all(a == "0100007F" for a in addrs),
              f"every listening socket is 127.0.0.1 ({addrs})")
        check(srv.addr == "127.0.0.1", f"the log says {srv.addr}")

    secret_key, secret_val, pw = "secret-key-8d1f", "secret-value-77aa", "pw-3c9e"
    begin("with requirepass, nothing but an error before AUTH")
    with Server("--requirepass", pw) as srv:
        with srv.client(password=pw) as r:
            r.set(secret_key, secret_val)
            r.client_setname("admin-conn")
        probes = [["PING"], ["ECHO", "x"], ["GET", secret_key], ["KEYS", "*"],
                  ["SCAN", "0"], ["MGET", secret_key], ["EXISTS", secret_key],
                  ["DBSIZE"], ["RANDOMKEY"], ["INFO"], ["INFO", "keyspace"],
                  ["CONFIG", "GET", "*"], ["CONFIG", "GET", "requirepass"],
                  ["CONFIG", "SET", "requirepass", ""], ["CLIENT", "LIST"],
                  ["CLIENT", "INFO"], ["COMMAND"], ["COMMAND", "COUNT"],
                  ["MONITOR"], ["WARP.METRICS"], ["WARP.EXPLAIN", secret_key],
                  ["QGET", secret_key], ["SET", "k", "v"], ["FLUSHALL"],
                  ["SAVE"], ["SHUTDOWN"], ["HELLO"], ["HELLO", "3"],
                  ["NOSUCHCOMMAND"], ["AUTH", "wrong"],
                  ["AUTH", "default", "wrong"],
                  ["HELLO", "3", "AUTH", "default", "wrong"]]
        s = srv.sock()
        for p in probes:
            rep = raw(s, resp(*p))
            text = rep.decode(errors="replace")
            check(rep.startswith(b"-"), f"{' '.join(p)} before AUTH is an "
                  f"error, not {text[:80]!r}")
            for leak in (secret_key, secret_val, pw, srv.dir, "admin-conn",
                         "redis_version", "warpd_version"):
                check(leak not in text, f"{' '.join(p)} before AUTH leaks "
                      f"{leak!r}: {text[:200]!r}")
        check(raw(s, b"PING\r\n").startswith(b"-NOAUTH"),
              "an inline command before AUTH gets NOAUTH")
        s.close()
        s = srv.sock()
        check(raw(s, resp("AUTH", pw)) == b"+OK\r\n",
              "AUTH with the password works")
        check(raw(s, resp("GET", secret_key), 2)
              == b"$%d\r\n%s\r\n" % (len(secret_val), secret_val.encode()),
              "after AUTH the key reads")
        s.close()

    begin("no command reaches a file outside the data directory")
    work = tempfile.mkdtemp(dir=TMP, prefix="cwd.")
    outside = tempfile.mkdtemp(dir=TMP, prefix="outside.")
    datadir = os.path.join(TMP, "secdata")
    before = set(os.listdir(TMP))
    with Server(dir=datadir, cwd=work) as srv:
        r = srv.client()
        target = os.path.join(outside, "pwned")
        attempts = [
            ["CONFIG", "SET", "dir", outside],
            ["CONFIG", "SET", "logfile", target],
            ["CONFIG", "SET", "dbfilename", "pwned"],
            ["CONFIG", "SET", "appendfilename", "pwned"],
            ["CONFIG", "SET", "bind", "0.0.0.0"],
            ["CONFIG", "SET", "port", "1"],
            ["CONFIG", "SET", "adopt", "yes"],
            ["CONFIG", "SET", "wal_segment_size", "64k"],
            ["CONFIG", "SET", "entanglement_rules", "a:*->b:*"],
            ["CONFIG", "SET", "fsync", "never"],
            ["CONFIG", "SET", "recovery", "salvage"],
            ["CONFIG", "REWRITE"],
            ["DEBUG", "RELOAD"], ["MODULE", "LOAD", target],
            ["REPLICAOF", "127.0.0.1", "1"], ["SLAVEOF", "127.0.0.1", "1"],
            ["MIGRATE", "127.0.0.1", "1", "k", "0", "10"],
            ["RESTORE", "k", "0", "x"], ["DUMP", "k"],
            ["SCRIPT", "LOAD", "return 1"], ["EVAL", "return 1", "0"],
        ]
        for a in attempts:
            try:
                r.execute_command(*a)
                check(False, f"{' '.join(a)} is refused")
            except redis.ResponseError:
                pass
        cfg = r.config_get("*")
        check(cfg.get("dir") == datadir, f"dir is still {datadir}: "
              f"{cfg.get('dir')}")
        check(cfg.get("logfile") == "", "logfile is still stderr")
        check(cfg.get("bind") == "127.0.0.1", "bind is still 127.0.0.1")
        check(r.config_get("fsync").get("fsync") == "everysec",
              "fsync is still everysec")
        check(r.config_set("physics", "off") and
              r.config_get("physics")["physics"] == "off",
              "physics, the one engine option CONFIG SET may change, does")
        # keys that look like paths stay keys
        for k in ("../../pwned", "/etc/pwned", f"{outside}/pwned",
                  "..\\..\\pwned", "x/../../../pwned"):
            r.set(k, "v")
            check(r.get(k) == b"v", f"key {k!r} is an ordinary key")
        r.save()
        r.bgsave()
        time.sleep(0.3)
        r.execute_command("WARP.REBALANCE", "FORCE")
        r.close()
    check(os.listdir(work) == [], f"nothing written in warpd's working "
          f"directory: {os.listdir(work)}")
    check(os.listdir(outside) == [], f"nothing written outside the data "
          f"directory: {os.listdir(outside)}")
    new = set(os.listdir(TMP)) - before
    check(all(n == "secdata" or n.startswith("warpd.") for n in new),
          f"only the data directory and the log appeared: {sorted(new)}")
    real = os.path.realpath(datadir)
    for root, dirs, files in os.walk(datadir):
        for f in files + dirs:
            p = os.path.realpath(os.path.join(root, f))
            check(p.startswith(real + os.sep), f"{p} is inside {real}")


# --------------------------------------------------------------------------
# clients
# --------------------------------------------------------------------------

def many_clients(port, n):
    """Open n connections, have each SET and GET its own key at once, and
    check every reply. Returns the number of clients answered right."""
    sel = selectors.DefaultSelector()
    socks = []
    for i in range(n):
        s = socket.create_connection(("127.0.0.1", port), timeout=30)
        s.setblocking(False)
        socks.append(s)
    for i, s in enumerate(socks):
        k, v = f"client:{i}", f"value-{i}"
        s.send(resp("SET", k, v) + resp("GET", k))
        sel.register(s, selectors.EVENT_READ, i)
    got = {i: b"" for i in range(n)}
    ok = 0
    deadline = time.time() + 60
    while sel.get_map() and time.time() < deadline:
        for key, _ in sel.select(timeout=1):
            i = key.data
            try:
                b = key.fileobj.recv(4096)
            except BlockingIOError:
                continue
            got[i] += b
            want = b"+OK\r\n$%d\r\nvalue-%d\r\n" % (len(f"value-{i}"), i)
            if not b or len(got[i]) >= len(want):
                ok += got[i] == want
                sel.unregister(key.fileobj)
    for s in socks:
        s.close()
    return ok


def probe_latency(port, n=3000):
    """redis-benchmark with one client: (p50, p99, max) GET latency, ms."""
    out = subprocess.run(["redis-benchmark", "-p", str(port), "-c", "1",
                          "-n", str(n), "-t", "get", "--csv"],
                         capture_output=True, text=True, timeout=300).stdout
    row = [line for line in out.splitlines() if line.startswith('"GET"')][0]
    f = [float(x.strip('"')) for x in row.split(",")[1:]]
    return f[3], f[5], f[6]


def slow_reader(port, big, stop, counter):
    """Pipeline GETs of a big value forever, never reading a reply."""
    s = socket.create_connection(("127.0.0.1", port), timeout=30)
    s.settimeout(0.5)
    frame = resp("GET", big) * 64
    try:
        while not stop.is_set():
            try:
                counter[0] += s.send(frame)
            except socket.timeout:
                pass  # the server stopped reading us: good
    except OSError:
        counter[1] += 1  # the server closed us
    finally:
        s.close()


def group_clients():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < 4096:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 8192), hard))
    limit_mb = 4
    # Under AddressSanitizer, freed blocks wait in a 256 MiB quarantine and
    # count in the RSS: keep it small so RSS measures what warpd holds.
    env = dict(os.environ)
    env["ASAN_OPTIONS"] = (env.get("ASAN_OPTIONS", "") +
                           ":quarantine_size_mb=8"
                           ":thread_local_quarantine_size_kb=64").lstrip(":")
    with Server("--threads", "2", "--maxclients", "3000",
                "--client-output-buffer-limit", f"{limit_mb}mb",
                dir=":memory:", env=env) as srv:
        r = srv.client()
        r.set("big", "x" * (256 << 10))  # 16 of them pass the limit
        r.set("mid", "x" * (32 << 10))  # a reader of these only pauses
        r.set("key:__rand_int__", "v")

        begin("1,000 concurrent clients each get their own replies")
        t = time.time()
        ok = many_clients(srv.port, 1000)
        check(ok == 1000, f"{ok} of 1000 clients got the right replies")
        figure(f"1000 clients SET+GET at once in {time.time() - t:.2f} s")
        bench = subprocess.run(
            ["redis-benchmark", "-p", str(srv.port), "-c", "1000", "-n",
             "100000", "-t", "set,get", "-q"], capture_output=True, text=True,
            timeout=600)
        check(bench.returncode == 0 and "requests per second" in bench.stdout,
              f"redis-benchmark with 1000 clients runs: {bench.stderr[-300:]}")
        figure("redis-benchmark -c 1000: " + " ".join(
            bench.stdout.replace("\r", "\n").split("\n")[-3:]).strip())

        begin("slow readers stay within client-output-buffer-limit")
        base_p50, base_p99, base_max = probe_latency(srv.port)
        figure(f"probe GET latency alone: p50 {base_p50} ms, p99 {base_p99} "
               f"ms, max {base_max} ms")
        rss0 = srv.status("VmRSS")
        stop = threading.Event()
        nslow = 50
        counters = [[0, 0] for _ in range(nslow)]
        slow = [threading.Thread(target=slow_reader,
                                 args=(srv.port, "big" if i % 2 else "mid",
                                       stop, counters[i]), daemon=True)
                for i in range(nslow)]
        for th in slow:
            th.start()
        peak = rss0
        omem = qbuf = 0
        t_end = time.time() + 4
        while time.time() < t_end:
            peak = max(peak, srv.status("VmRSS"))
            for line in r.client_list():
                omem = max(omem, int(line.get("omem", 0)))
                qbuf = max(qbuf, int(line.get("qbuf", 0)))
            time.sleep(0.05)
        p50, p99, pmax = probe_latency(srv.port)
        with_1000 = many_clients(srv.port, 1000)
        peak = max(peak, srv.status("VmRSS"), srv.status("VmHWM"))
        stop.set()
        for th in slow:
            th.join()
        sent = sum(c[0] for c in counters)
        closed = sum(c[1] for c in counters)
        closed_mid = sum(c[1] for c in counters[0::2])
        growth_mb = (peak - rss0) / 1024
        figure(f"{nslow} slow readers sent {sent >> 10} KiB of GETs of a "
               f"32 KiB or a 256 KiB value without reading a reply ({closed} "
               f"closed by the server); warpd RSS {rss0 // 1024} MiB before, peak "
               f"{peak // 1024} MiB (+{growth_mb:.0f} MiB, limit "
               f"{nslow} x {limit_mb} MiB = {nslow * limit_mb} MiB)")
        figure(f"probe GET latency with the slow readers: p50 {p50} ms, p99 "
               f"{p99} ms, max {pmax} ms")
        figure(f"largest output buffer seen (CLIENT LIST omem): "
               f"{omem >> 10} KiB, query buffer {qbuf >> 10} KiB")
        check(0 < omem <= limit_mb << 20, f"each slow reader's replies stay "
              f"under client-output-buffer-limit (max omem {omem})")
        check(closed_mid == 0, f"{closed_mid} readers of 32 KiB values were "
              "closed: replies past 1 MiB pause a reader, not close it")
        check(sent > nslow * len(b"GET big") * 64 * 4,
              "the slow readers did send requests")
        check(growth_mb < nslow * limit_mb * 0.6 + 64,
              f"memory grows by {growth_mb:.0f} MiB, well under "
              f"{nslow} x {limit_mb} MiB: the 1 MiB pause bounds each reader")
        check(p99 < max(50.0, 20 * base_p99),
              f"other clients keep their latency (p99 {p99} ms, alone "
              f"{base_p99} ms)")
        check(with_1000 == 1000, f"{with_1000} of 1000 clients served while "
              "slow readers wait")

        begin("one reply bigger than client-output-buffer-limit closes "
              "that client only")
        s = srv.sock()
        keys = b"big " * 40  # a 10 MiB MGET reply against a 4 MiB limit
        s.sendall(b"MGET " + keys.strip() + b"\r\n")
        time.sleep(0.5)
        s.settimeout(10)
        total = 0
        try:
            while True:
                b = s.recv(1 << 20)
                if not b:
                    break
                total += len(b)
        except (socket.timeout, ConnectionResetError):
            pass
        s.close()
        check(total < 40 * (256 << 10), f"the reply was cut ({total} bytes "
              "arrived), the client closed")
        check(healthy(srv), "the server serves others")

        begin("garbage, half requests and silence leave the server healthy")
        rng = random.Random(8)
        for i in range(50):
            s = srv.sock()
            junk = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 4096)))
            try:
                s.sendall(junk)
                raw(s, b"", timeout=0.2)
            except OSError:
                pass
            s.close()
        check(healthy(srv), "healthy after 50 clients of random bytes")
        halves = []
        for frame in (b"*3\r\n$3\r\nSET\r\n$1\r\nk", b"*2\r\n$3\r\nGET",
                      b"*1000000\r\n", b"$5\r\nhel", b"GET some-key-with-no-end",
                      b"*2\r\n$3\r\nSET\r\n$100000\r\n" + b"x" * 5000):
            for _ in range(20):
                s = srv.sock()
                s.sendall(frame)
                halves.append(s)
        time.sleep(0.3)
        check(healthy(srv), f"healthy with {len(halves)} half requests "
              "pending")
        p50h, p99h, _ = probe_latency(srv.port, 1000)
        figure(f"probe GET latency with {len(halves)} half requests "
               f"pending: p50 {p50h} ms, p99 {p99h} ms")
        check(p99h < max(50.0, 20 * base_p99), "their silence costs the "
              f"others nothing (p99 {p99h} ms)")
        info = r.info("clients")
        check(info["connected_clients"] >= len(halves),
              "the half-request clients are still connected, waiting")
        for s in halves:
            s.close()
        s = srv.sock()
        s.sendall(b"*1\r\n$4\r\nPING\r\n" * 1000 + b"*1\r\n$4\r\nPI")
        check(raw(s, b"", want=1000).count(b"+PONG\r\n") == 1000,
              "whole commands before a half one are answered")
        s.close()
        r.close()
        check(healthy(srv), "healthy at the end")
        figure(f"warpd peak RSS (VmHWM) over the group: "
               f"{srv.status('VmHWM') // 1024} MiB")


# --------------------------------------------------------------------------
# diskfull
# --------------------------------------------------------------------------

def group_diskfull():
    mnt = tempfile.mkdtemp(dir=TMP, prefix="tmpfs.")
    m = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=24m", "tmpfs",
                        mnt], capture_output=True, text=True)
    if m.returncode != 0:
        print(f"cannot mount a tmpfs ({m.stderr.strip()}): skipped; "
              "tests/test-iofault.c covers ENOSPC through the I/O layer")
        return SKIP
    try:
        return diskfull_on(mnt)
    finally:
        subprocess.run(["umount", "-l", mnt])


def fill(path, mb):
    with open(path, "wb") as f:
        f.write(b"\xff" * (mb << 20))


def diskfull_on(mnt):
    data = os.path.join(mnt, "data")
    ballast = os.path.join(mnt, "ballast")
    fill(ballast, 12)  # 12 of 24 MiB gone before warpd starts
    acked = {}
    val = "v" * 2000

    begin("a full disk: writes fail with a clear error, reads go on")
    srv = Server("--fsync", "always", "--threads", "2", "--shards", "4",
                 "--wal-segment-size", "1m", dir=data)
    try:
        r = srv.client()
        errors = []
        i = 0
        while len(errors) < 20 and i < 20000:
            k = f"key:{i}"
            try:
                r.set(k, f"{k}:{val}")
                acked[k] = f"{k}:{val}"
            except redis.ResponseError as e:
                errors.append(str(e))
            i += 1
        check(errors, f"writes fail once the disk is full ({len(acked)} "
              "acknowledged first)")
        figure(f"disk full after {len(acked)} acknowledged writes of 2 KiB; "
               f"error: {errors[0] if errors else None!r}")
        check(all(re.search(r"space|full|ENOSPC", e, re.I) for e in errors),
              f"the error says the disk is full: {set(errors)}")
        try:
            r.save()
            check(False, "SAVE on a full disk reports an error")
        except redis.ResponseError as e:
            check(re.search(r"space|full", str(e), re.I),
                  f"SAVE says why it failed: {e}")
        keys = list(acked)
        got = r.mget(keys)
        check(all(v == acked[k].encode() for k, v in zip(keys, got)),
              "every acknowledged write reads back on the full disk")
        check(r.dbsize() >= len(acked), "DBSIZE still answers")
        check(r.ping(), "the server is alive")

        begin("space returns: writes work again, nothing acknowledged lost")
        os.unlink(ballast)
        ok = 0
        for j in range(200):
            k = f"after:{j}"
            try:
                r.set(k, f"{k}:{val}")
                acked[k] = f"{k}:{val}"
                ok += 1
            except redis.ResponseError:
                time.sleep(0.01)
        check(ok >= 190, f"writes succeed again once space returns ({ok}/200)")
        check(r.save(), "SAVE succeeds again")
        r.close()
        srv.kill()  # SIGKILL: what is on disk is what counts

        srv = Server("--fsync", "always", "--threads", "2", "--shards", "4",
                     "--wal-segment-size", "1m", dir=data)
        r = srv.client()
        keys = list(acked)
        got = []
        for c in range(0, len(keys), 500):
            got += r.mget(keys[c:c + 500])
        lost = [k for k, v in zip(keys, got) if v != acked[k].encode()]
        check(not lost, f"after SIGKILL and restart every acknowledged write "
              f"is there ({len(lost)} of {len(keys)} missing)")
        figure(f"{len(keys)} acknowledged writes verified after disk full, "
               "recovery of space, SIGKILL and restart")
        r.close()
        srv.stop_ok()
    except BaseException:
        srv.kill()
        raise
    return 0


GROUPS = {"security": group_security, "clients": group_clients,
          "diskfull": group_diskfull}


def main():
    global WARPD, TMP
    if len(sys.argv) < 3 or any(g not in GROUPS for g in sys.argv[2:]):
        print(__doc__, file=sys.stderr)
        return 2
    WARPD = os.path.abspath(sys.argv[1])
    TMP = tempfile.mkdtemp(prefix="warp-hardening.")
    rc = 0
    try:
        for g in sys.argv[2:]:
            try:
                if GROUPS[g]() == SKIP:
                    rc = SKIP
            except Exception as e:  # noqa: BLE001 - report, go on
                check(False, f"{type(e).__name__}: {e}")
    finally:
        if not failures:
            shutil.rmtree(TMP, ignore_errors=True)
    if failures:
        print(f"{len(failures)} failure(s); files in {TMP}", file=sys.stderr)
        return 1
    return rc


if __name__ == "__main__":
    sys.exit(main())
