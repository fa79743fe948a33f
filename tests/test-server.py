#!/usr/bin/python3
"""test-server.py - black-box tests of warpd through real clients.

usage: test-server.py WARPD WARP GROUP...

  WARPD  the warpd binary;  WARP  the warp CLI (to build a plain store)
  GROUP  commands, resp, limits, auth, ttl, persistence, crash, smoke,
         entangle, series, info

Each group starts its own warpd on a free loopback port (--port 0; the
port is read from the "listening on" log line), in its own temporary data
directory, drives it with redis-py (Debian python3-redis), redis-cli
(Debian redis-tools) and raw sockets, and stops it: SIGTERM must make it
exit 0 (under the sanitizers, a leak or race fails that). Each check is
named after the behaviour it pins. Run with Debian's /usr/bin/python3,
where python3-redis lives.
"""
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

import redis

import warptest
from warptest import begin, check, failures, recv_until, resp

WARPD = WARP = None
TMP = None
SLOW = os.environ.get("WARPD_TEST_SLOW", "1")  # sanitizer trees are slower
warptest.current = ""  # failures are named after their group: begin()


class Server(warptest.Warpd):
    """A warpd process on a free loopback port."""

    def __init__(self, *args, dir=None, threads=2):
        self.dir = dir or tempfile.mkdtemp(dir=TMP, prefix="data.")
        super().__init__([WARPD, "--port", "0", "--dir", self.dir,
                          "--threads", str(threads), *args])
        self.start(os.path.join(
            TMP, f"warpd.{os.getpid()}.{time.time_ns()}.log"))

    def sock(self):
        """A raw connection; each write leaves at once (TCP_NODELAY)."""
        return super().sock(nodelay=True)

    def cli(self, *args, input=None):
        r = subprocess.run(["redis-cli", "-p", str(self.port), *args],
                           input=input, capture_output=True, timeout=60)
        return r.stdout.decode(errors="replace").strip()

    def stop(self, sig=signal.SIGTERM):
        """Stop it; returns the exit status (0 expected for SIGTERM)."""
        rc = super().stop(sig)
        check(not self.hung, "warpd did not stop within 120 s")
        return rc

    def __exit__(self, *exc):
        if self.proc.poll() is None:
            if exc[0] is None:
                self.stop_ok()
            else:
                self.kill()
                print("warpd log (tail):\n" + self.text()[-4000:],
                      file=sys.stderr)


def closed(s, limit=10):
    """Whether the server closes s (EOF) within `limit` seconds."""
    s.settimeout(limit)
    try:
        while True:
            chunk = s.recv(1 << 16)
            if not chunk:
                return True
    except (ConnectionResetError, BrokenPipeError):
        return True
    except socket.timeout:
        return False


# --------------------------------------------------------------------------
# commands: the command set through redis-py and redis-cli
# --------------------------------------------------------------------------

def proc_cpu_s(pid):
    """The CPU time (user + system) process pid has used, in seconds."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def group_commands():
    with Server() as srv:
        r = srv.client()
        begin("redis-cli PING, SET and GET round-trip")
        check(srv.cli("PING") == "PONG", "PING is PONG")
        check(srv.cli("SET", "cli:k", "v 1") == "OK", "SET is OK")
        check(srv.cli("GET", "cli:k") == "v 1", "GET returns the value")
        check("physics_mode:" in srv.cli("INFO", "physics"),
              "INFO physics has physics_mode")

        begin("strings follow Redis's semantics")
        check(r.set("s", "abc") is True, "SET")
        check(r.get("s") == b"abc", "GET")
        check(r.get("missing") is None, "GET missing is nil")
        check(r.set("s", "x", nx=True) is None, "SET NX on existing is nil")
        check(r.set("s2", "x", xx=True) is None, "SET XX on missing is nil")
        check(r.set("s", "new", get=True) == b"abc", "SET GET returns old")
        check(r.setnx("s", "y") is False and r.setnx("s3", "y") is True,
              "SETNX")
        check(r.getset("s", "z") == b"new", "GETSET")
        check(r.getdel("s") == b"z" and r.exists("s") == 0, "GETDEL")
        check(r.mset({"a": "1", "b": "2", "c": "3"}) is True, "MSET")
        check(r.mget("a", "b", "nope", "c") == [b"1", b"2", None, b"3"],
              "MGET keeps order and nils")
        big = b"x" * 5000
        r.set("big", big)
        check(r.mget("a", "big") == [b"1", big], "MGET of a large value")
        check(r.msetnx({"a": "9", "zz": "9"}) is False and
              r.get("zz") is None, "MSETNX sets nothing if one exists")
        check(r.msetnx({"m1": "1", "m2": "2"}) is True, "MSETNX")
        check(r.append("ap", "ab") == 2 and r.append("ap", "cd") == 4 and
              r.get("ap") == b"abcd", "APPEND")
        check(r.strlen("ap") == 4 and r.strlen("nope") == 0, "STRLEN")
        check(r.getrange("ap", 1, 2) == b"bc" and
              r.getrange("ap", -3, -1) == b"bcd" and
              r.getrange("ap", 5, 10) == b"", "GETRANGE")
        check(r.setrange("sr", 3, "xy") == 5 and
              r.get("sr") == b"\x00\x00\x00xy", "SETRANGE pads with zeros")
        check(r.setrange("sr2", 0, "") == 0 and r.exists("sr2") == 0,
              "SETRANGE of nothing on a missing key creates nothing")
        check(r.incr("n") == 1 and r.incrby("n", 10) == 11 and
              r.decr("n") == 10 and r.decrby("n", 20) == -10, "INCR family")
        check(r.incrbyfloat("f", "10.5") == 10.5 and
              r.incrbyfloat("f", "0.1") == 10.6 and r.get("f") == b"10.6",
              "INCRBYFLOAT formats like Redis")
        r.set("lim", str(-2**63 + 1))
        check(r.decr("lim") == -2**63 and r.incrby("lim", 2**63 - 1) == -1 and
              r.incrby("lim", 2**63 - 1) == 2**63 - 2 and
              r.incr("lim") == 2**63 - 1 and r.incr("z0") == 1 and
              r.decrby("z0", 1) == 0,
              "integer replies at the int64 limits, and 0")
        r.set("n", str(2**63 - 1))
        try:
            r.incr("n")
            check(False, "INCR overflow is an error")
        except redis.ResponseError as e:
            check("overflow" in str(e), "INCR overflow message")
        r.set("t", "abc")
        try:
            r.incr("t")
            check(False, "INCR of a non-integer is an error")
        except redis.ResponseError as e:
            check("not an integer" in str(e), "INCR non-integer message")
        for bad in (["SET", "k", "v", "NX", "XX"], ["SET", "k", "v", "EX"],
                    ["SET", "k", "v", "EX", "10", "PX", "5"],
                    ["SET", "k", "v", "KEEPTTL", "EX", "5"]):
            try:
                r.execute_command(*bad)
                check(False, f"{bad} is a syntax error")
            except redis.ResponseError as e:
                check("syntax" in str(e), f"{bad}: {e}")
        try:
            r.execute_command("SET", "k", "v", "EX", "0")
            check(False, "SET EX 0 is an error")
        except redis.ResponseError as e:
            check("invalid expire time in 'set'" in str(e), str(e))
        bin_key, bin_val = b"\x00k\r\n", b"\x00\xff\r\nv"
        r.set(bin_key, bin_val)
        check(r.get(bin_key) == bin_val, "binary keys and values")

        begin("keys commands")
        r.flushdb()
        check(r.dbsize() == 0, "FLUSHDB empties")
        r.mset({f"key:{i}": i for i in range(100)})
        check(r.dbsize() == 100, "DBSIZE")
        check(sorted(r.keys("key:1?")) ==
              sorted(f"key:{i}".encode() for i in range(10, 20)),
              "KEYS with a pattern")
        seen = list(r.scan_iter(count=7))
        check(len(seen) == 100 and len(set(seen)) == 100,
              "SCAN returns every key exactly once")
        check(set(r.scan_iter(match="key:5*")) ==
              {b"key:5"} | {f"key:5{i}".encode() for i in range(10)},
              "SCAN MATCH")
        check(r.randomkey().startswith(b"key:"), "RANDOMKEY")
        check(r.exists("key:1", "key:1", "nope") == 2,
              "EXISTS counts repeats")
        check(r.touch("key:1", "nope") == 1, "TOUCH")
        check(r.type("key:1") == b"string" and r.type("nope") == b"none",
              "TYPE")
        check(r.delete("key:1", "key:2", "nope") == 2, "DEL counts")
        check(r.unlink("key:3") == 1, "UNLINK")
        check(r.rename("key:4", "ren") is True and r.get("ren") == b"4",
              "RENAME")
        try:
            r.rename("nope", "x")
            check(False, "RENAME of a missing key is an error")
        except redis.ResponseError as e:
            check("no such key" in str(e), str(e))
        check(r.renamenx("key:5", "ren") is False, "RENAMENX onto existing")
        check(r.renamenx("key:5", "ren2") is True, "RENAMENX")

        begin("connection and server commands")
        check(r.echo("hi") == b"hi", "ECHO")
        check(r.ping() is True, "PING")
        check(srv.cli("PING", "x") == "x", "PING message")
        t = r.time()
        check(abs(t[0] - time.time()) < 5, "TIME")
        check(r.execute_command("SELECT", "0") in (True, b"OK"), "SELECT 0")
        try:
            r.execute_command("SELECT", "1")
            check(False, "SELECT 1 is an error")
        except redis.ResponseError as e:
            check("out of range" in str(e), str(e))
        check(r.client_setname("tester") is True and
              r.client_getname() in ("tester", b"tester"),
              "CLIENT SETNAME/GETNAME")
        cid = r.client_id()
        check(any(c["id"] == str(cid) and c["name"] == "tester"
                  for c in r.client_list()), "CLIENT LIST shows us")
        check(b"name=tester" in r.execute_command("CLIENT", "INFO"),
              "CLIENT INFO")
        # a name longer than any fixed line buffer: the line holds all of
        # it (it used to copy the line's would-be length out of a 1 KiB
        # stack buffer: stack bytes in the reply, a crash past a few MiB)
        for n in (3000, 4 << 20):
            long = "n" * n
            check(r.client_setname(long) is True, f"SETNAME of {n} bytes")
            info = r.execute_command("CLIENT", "INFO")
            check((b"name=" + long.encode() + b" age=") in info and
                  info.endswith(b"resp=2\n"), f"CLIENT INFO, {n}-byte name")
            line = [c for c in r.client_list() if c["id"] == str(cid)]
            check(len(line) == 1 and line[0]["name"] == long,
                  f"CLIENT LIST, {n}-byte name")
        r.client_setname("tester")
        info = r.info("all")
        for field in ("redis_version", "connected_clients", "used_memory",
                      "total_commands_processed", "physics_mode",
                      "entropy_ops_norm", "keyspace_hits"):
            check(field in info, f"INFO has {field}")
        check(r.command_count() > 60, "COMMAND COUNT")
        info = srv.cli("COMMAND", "INFO", "get").split("\n")
        check(info[:2] == ["get", "2"], f"COMMAND INFO get: {info[:3]}")
        docs = srv.cli("COMMAND", "DOCS", "set").split("\n")
        check(docs[0] == "set" and "summary" in docs, "COMMAND DOCS set")
        check(int(srv.cli("COMMAND", "COUNT")) == r.command_count(),
              "redis-cli COMMAND COUNT")
        check(r.config_get("maxclients") == {"maxclients": "10000"},
              "CONFIG GET")
        check(r.config_set("maxmemory", "100mb") is True and
              r.config_get("maxmemory")["maxmemory"] == str(100 << 20),
              "CONFIG SET maxmemory")
        r.config_set("maxmemory", "0")
        check("fsync" in r.config_get("fsync"), "CONFIG GET engine option")
        # busy-poll: the loops poll on only briefly after activity, so an
        # idle server burns no CPU; 0 turns it off, and requests still work
        check(r.config_get("busy-poll") == {"busy-poll": "50"},
              "busy-poll defaults to 50 µs")
        for _ in range(200):
            r.ping()
        time.sleep(0.2)
        cpu0 = proc_cpu_s(srv.proc.pid)
        time.sleep(1.0)
        idle = proc_cpu_s(srv.proc.pid) - cpu0
        check(idle < 0.1, f"an idle warpd used {idle:.3f} s of CPU in 1 s")
        check(r.config_set("busy-poll", "0") is True and r.ping() and
              r.set("bp", "1") and r.get("bp") == b"1",
              "CONFIG SET busy-poll 0, then requests")
        r.config_set("busy-poll", "50")
        try:
            r.config_set("port", "1")
            check(False, "CONFIG SET port is refused")
        except redis.ResponseError:
            pass
        check(r.config_resetstat() is True and
              r.info("stats")["total_commands_processed"] <= 2,
              "CONFIG RESETSTAT")
        check(r.save() is True, "SAVE")
        check(r.lastsave().timestamp() > time.time() - 60, "LASTSAVE")
        check(r.bgsave() in (True, b"Background saving started"), "BGSAVE")
        try:
            r.get(b"\xff\xfeengine")
            check(False, "engine keys are not addressable")
        except redis.ResponseError as e:
            check("reserved" in str(e), str(e))

        begin("WarpEngine commands")
        import json
        j = json.loads(r.execute_command("WARP.METRICS"))
        check("cosmic_metrics" in j, "WARP.METRICS is the metrics JSON")
        ent = r.execute_command("WARP.ENTROPY")
        check(b"ops_norm" in ent, "WARP.ENTROPY")
        ex = r.execute_command("WARP.EXPLAIN", "ren")
        d = dict(zip(ex[0::2], ex[1::2]))
        check(d[b"exists"] == 1 and 0 <= d[b"slot"] < 16384,
              "WARP.EXPLAIN")
        check(r.execute_command("WARP.PHYSICS", "full") == b"OK" and
              r.execute_command("WARP.PHYSICS") == b"full", "WARP.PHYSICS")
        rb = r.execute_command("WARP.REBALANCE", "FORCE")
        check(b"slots_moved" in rb, "WARP.REBALANCE FORCE")


# --------------------------------------------------------------------------
# resp: the protocol edge cases, through raw sockets
# --------------------------------------------------------------------------

def group_resp():
    with Server() as srv:
        begin("a frame split at every byte is parsed whole")
        s = srv.sock()
        req = resp("SET", "split", "hello world") + resp("GET", "split")
        for i in range(len(req)):
            s.sendall(req[i:i + 1])
            time.sleep(0.001)
        want = b"+OK\r\n$11\r\nhello world\r\n"
        got = recv_until(s, lambda d: len(d) >= len(want))
        check(got == want, f"split replies {got!r}")

        begin("inline commands, with quotes")
        s.sendall(b'SET inl "a b\\x41"\r\nGET inl\r\nPING\r\n\r\nECHO \'q\'\n')
        want = b"+OK\r\n$4\r\na bA\r\n+PONG\r\n$1\r\nq\r\n"
        got = recv_until(s, lambda d: len(d) >= len(want))
        check(got == want, f"inline replies {got!r}")

        begin("10,000 pipelined commands are answered in order")
        n = 10000
        s.sendall(b"".join(resp("INCR", "pipe") for _ in range(n)))
        want = b"".join(b":%d\r\n" % i for i in range(1, n + 1))
        got = recv_until(s, lambda d: len(d) >= len(want))
        check(got == want, f"pipelined replies ({len(got)} bytes)")
        s.close()

        begin("pipelined GETs, answered in runs, match a model")
        # Runs of GETs are looked up together (GETRUN_MAX at a time); mix
        # them with writes, misses, values larger than a run's slot,
        # expired keys, reserved keys and inline GETs.
        rnd = random.Random(11)
        s = srv.sock()
        model = {}
        for i in range(40):
            k = f"run:{i}"
            model[k] = (b"x" * rnd.choice([0, 10, 255, 256, 300, 5000])
                        + str(i).encode())
            s.sendall(resp("SET", k, model[k]))
        s.sendall(resp("SET", "run:gone", "v", "PX", "1"))
        want = b"+OK\r\n" * 41
        recv_until(s, lambda d: len(d) >= len(want))
        time.sleep(0.05)
        req, want = [], []
        for _ in range(3000):
            k = rnd.choice(list(model) + ["run:none", "run:gone"])
            roll = rnd.random()
            if roll < 0.75:
                req.append(resp("GET", k))
                v = model.get(k)
                want.append(b"$-1\r\n" if v is None else
                            b"$%d\r\n%s\r\n" % (len(v), v))
            elif roll < 0.85 and k in model:
                model[k] = str(rnd.randrange(10**6)).encode()
                req.append(resp("SET", k, model[k]))
                want.append(b"+OK\r\n")
            elif roll < 0.9:
                req.append(b"GET %s\r\n" % k.encode())  # inline
                v = model.get(k)
                want.append(b"$-1\r\n" if v is None else
                            b"$%d\r\n%s\r\n" % (len(v), v))
            elif roll < 0.95:
                req.append(resp("GET", b"\xff\xfeq"))
                want.append(b"-ERR keys beginning with")
            else:
                req.append(resp("PING"))
                want.append(b"+PONG\r\n")
        req.append(resp("ECHO", "end-of-run-test"))
        want.append(b"$15\r\nend-of-run-test\r\n")
        s.sendall(b"".join(req))
        got = recv_until(s, lambda d: d.endswith(want[-1]))
        pos, ok = 0, True
        for w in want:
            if w.startswith(b"-"):
                end = got.find(b"\r\n", pos) + 2
                ok = ok and got[pos:end].startswith(w)
                pos = end
            else:
                ok = ok and got[pos:pos + len(w)] == w
                pos += len(w)
            if not ok:
                check(False, f"reply at byte {pos}: {got[pos:pos + 60]!r} "
                      f"wanted {w[:60]!r}")
                break
        check(ok and pos == len(got), "every reply, in order")
        s.close()

        begin("RESP3 after HELLO 3")
        s = srv.sock()
        s.sendall(resp("HELLO", "3"))
        got = recv_until(s, lambda d: b"modules" in d and d.endswith(b"*0\r\n"))
        check(got.startswith(b"%7\r\n") and b"proto\r\n:3\r\n" in got,
              f"HELLO 3 map {got[:40]!r}")
        s.sendall(resp("GET", "nope"))
        check(recv_until(s, lambda d: d.endswith(b"\r\n")) == b"_\r\n",
              "RESP3 null")
        s.sendall(resp("CONFIG", "GET", "maxclients"))
        got = recv_until(s, lambda d: d.endswith(b"10000\r\n"))
        check(got == b"%1\r\n$10\r\nmaxclients\r\n$5\r\n10000\r\n",
              f"RESP3 map {got!r}")
        s.sendall(resp("WARP.ENTROPY"))
        got = recv_until(s, lambda d: b"last_report_ms" in d and
                         d.endswith(b"\r\n") and d.count(b"\r\n") >= 27)
        check(got.startswith(b"%13\r\n") and b"\r\n," in got,
              f"RESP3 doubles {got[:60]!r}")
        s.sendall(resp("INFO", "server"))
        got = recv_until(s, lambda d: b"config_file" in d and
                         d.endswith(b"\r\n"))
        check(got.startswith(b"=") and b"txt:# Server" in got,
              "RESP3 verbatim INFO")
        s.sendall(resp("HELLO", "4"))
        got = recv_until(s, lambda d: d.endswith(b"\r\n"))
        check(got.startswith(b"-NOPROTO"), f"HELLO 4 {got!r}")
        s.close()

        begin("malformed requests get an error and are closed")
        cases = [
            (b"*1\r\n$999999999999\r\n", b"invalid bulk length"),
            (b"*1\r\n$536870913\r\n", b"invalid bulk length"),
            (b"*99999999999\r\n", b"invalid multibulk length"),
            (b"*2\r\n$3\r\nGET\r\nX\r\n", b"expected '$'"),
            (b"*1\r\n$3\r\nGETXX", b"expected CRLF"),
            (b"*1x\r\n", b"invalid multibulk length"),
            (b'SET a "unbalanced\r\n', b"unbalanced"),
        ]
        for req, msg in cases:
            s = srv.sock()
            s.sendall(req)
            got = recv_until(s, lambda d: d.endswith(b"\r\n"))
            check(got.startswith(b"-ERR Protocol error") and msg in got,
                  f"{req!r} -> {got!r}")
            check(closed(s), f"{req!r} closes the connection")
            s.close()
        begin("a huge declared length allocates nothing up front")
        s = srv.sock()
        s.sendall(b"*1\r\n$500000000\r\nabc")
        time.sleep(0.2)
        s.close()
        r = srv.client()
        check(r.ping() and r.info("memory")["used_memory_rss"] < 400 << 20,
              "server alive, RSS small")
        begin("unknown command and wrong arity")
        check_err = lambda cmd, m: check(m in _err(r, *cmd), f"{cmd}")
        check_err(["NOSUCH", "x"], "unknown command")
        check_err(["GET"], "wrong number of arguments for 'get'")
        check_err(["MSET", "a"], "wrong number of arguments")


def _err(r, *cmd):
    try:
        r.execute_command(*cmd)
        return ""
    except redis.ResponseError as e:
        return str(e)


# --------------------------------------------------------------------------
# limits
# --------------------------------------------------------------------------

def group_limits():
    with Server() as srv:
        r = srv.client()
        begin("proto-max-bulk-len")
        r.config_set("proto-max-bulk-len", "1000")
        s = srv.sock()
        s.sendall(resp("SET", "k", b"x" * 1001))
        got = recv_until(s, lambda d: d.endswith(b"\r\n"))
        check(b"invalid bulk length" in got and closed(s), f"{got!r}")
        check(r.set("k", b"x" * 1000), "at the limit is fine")
        r.config_set("proto-max-bulk-len", "512mb")

        begin("max-multibulk-len")
        r.config_set("max-multibulk-len", "5")
        s = srv.sock()
        s.sendall(resp("MSET", "a", "1", "b", "2", "c"))
        got = recv_until(s, lambda d: d.endswith(b"\r\n"))
        check(b"invalid multibulk length" in got and closed(s), f"{got!r}")
        r.config_set("max-multibulk-len", "1048576")

        begin("client-query-buffer-limit closes a client sending too much")
        r.config_set("client-query-buffer-limit", "1mb")
        s = srv.sock()
        try:
            s.sendall(b"*2\r\n$4\r\nECHO\r\n$3000000\r\n" + b"x" * 1500000)
        except OSError:
            pass
        check(closed(s), "closed past the query buffer limit")
        r.config_set("client-query-buffer-limit", "1gb")

        begin("client-output-buffer-limit closes a reader that never reads")
        r.set("v100k", b"v" * 100000)
        r.config_set("client-output-buffer-limit", "512kb")
        s = srv.sock()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        try:
            s.sendall(resp("GET", "v100k") * 2000)
        except OSError:
            pass
        time.sleep(1)
        data = recv_until(s, lambda d: False, limit=10)
        check(len(data) < 2000 * 100000, f"cut off after {len(data)} bytes")

        begin("one command's reply stops at client-output-buffer-limit")
        # an MGET of one 1 MB value 2,000 times is a 2 GB reply from a
        # 30 KB request; it used to be built in full before the check
        r.set("v1m", b"v" * 1000000)
        hwm = lambda: int(re.search(r"VmHWM:\s+(\d+) kB", open(
            f"/proc/{srv.proc.pid}/status").read()).group(1)) * 1024
        before = hwm()
        s = srv.sock()
        s.sendall(resp("MGET", *["v1m"] * 2000))
        check(closed(s, limit=30), "closed at the limit")
        grew = hwm() - before
        check(grew < 100 << 20, f"peak memory grew {grew >> 20} MiB")
        r.config_set("client-output-buffer-limit", "256mb")
        check(r.ping(), "server alive after")

        begin("a slow reader gets every reply (backpressure, no limit hit)")
        s = srv.sock()
        s.sendall(resp("GET", "v100k") * 300)
        time.sleep(1)
        want = 300 * (len(b"$100000\r\n") + 100002)
        got = recv_until(s, lambda d: len(d) >= want)
        check(len(got) == want, f"all replies ({len(got)} of {want})")
        s.close()

        begin("maxclients refuses the client over the limit")
        deadline = time.time() + 30  # earlier sockets may still be closing
        while (r.info("clients")["connected_clients"] > 1 and
               time.time() < deadline):
            time.sleep(0.05)
        r.config_set("maxclients", "2")
        s1 = srv.sock()
        s1.sendall(resp("PING"))
        check(recv_until(s1, lambda d: d.endswith(b"\r\n")) == b"+PONG\r\n",
              "the last allowed client works")
        s2 = srv.sock()
        got = recv_until(s2, lambda d: d.endswith(b"\r\n"))
        check(b"max number of clients" in got, f"over the limit: {got!r}")
        s1.close()
        s2.close()
        r.config_set("maxclients", "10000")
        check(r.info("stats")["rejected_connections"] >= 1,
              "rejected_connections counted")

        begin("timeout closes idle clients")
        r.config_set("timeout", "1")
        s = srv.sock()
        check(closed(s, limit=8), "idle client closed")
        r = srv.client()
        r.config_set("timeout", "0")

        begin("maxmemory refuses writes that add data")
        r.config_set("maxmemory", "1")
        time.sleep(0.5)
        check("OOM" in _err(r, "SET", "k", "v"), "SET over maxmemory is OOM")
        check(r.get("k") is not None and r.delete("k") == 1,
              "reads and DEL still work")
        r.config_set("maxmemory", "0")
        time.sleep(0.5)
        check(r.set("k", "v"), "writes again once lifted")

    with Server("--dir", ":memory:", "--maxmemory", "2mb") as srv:
        begin("--maxmemory is the engine's budget: a full store is OOM")
        r = srv.client()
        err, n = "", 0
        try:
            for n in range(20000):
                r.set(f"k{n}", os.urandom(1000))
        except redis.ResponseError as e:
            err = str(e)
        check(err.startswith("OOM") and 100 < n < 20000,
              f"OOM after {n} writes: {err!r}")
        check(r.get("k1") is not None, "what fitted stays readable")
        check("fixed at start" in _err(r, "CONFIG", "SET", "maxmemory", "1"),
              "CONFIG SET maxmemory refused when the engine has it")
        check(r.config_get("maxmemory")["maxmemory"] == str(2 << 20),
              "CONFIG GET maxmemory")


# --------------------------------------------------------------------------
# auth
# --------------------------------------------------------------------------

def group_auth():
    with Server("--requirepass", "s3cret") as srv:
        begin("NOAUTH before AUTH, except AUTH, HELLO and QUIT")
        s = srv.sock()
        s.sendall(resp("GET", "k") + resp("PING"))
        got = recv_until(s, lambda d: d.count(b"\r\n") >= 2)
        check(got == b"-NOAUTH Authentication required.\r\n" * 2, f"{got!r}")
        s.sendall(resp("HELLO", "3"))
        got = recv_until(s, lambda d: d.endswith(b"\r\n"))
        check(got.startswith(b"-NOAUTH HELLO must be called"), f"{got!r}")
        s.sendall(resp("AUTH", "wrong"))
        got = recv_until(s, lambda d: d.endswith(b"\r\n"))
        check(got.startswith(b"-WRONGPASS"), f"{got!r}")
        s.sendall(resp("AUTH", "s3cret") + resp("GET", "k"))
        got = recv_until(s, lambda d: d.count(b"\r\n") >= 2)
        check(got == b"+OK\r\n$-1\r\n", f"{got!r}")
        s.sendall(resp("RESET") + resp("GET", "k"))
        got = recv_until(s, lambda d: d.count(b"\r\n") >= 2)
        check(got == b"+RESET\r\n-NOAUTH Authentication required.\r\n",
              f"RESET forgets AUTH: {got!r}")
        s.sendall(resp("RESET"))
        got = recv_until(s, lambda d: d.endswith(b"\r\n"))
        check(got == b"+RESET\r\n", f"RESET before AUTH, as Redis: {got!r}")
        s.sendall(resp("QUIT"))
        check(recv_until(s, lambda d: d.endswith(b"\r\n")) == b"+OK\r\n",
              "QUIT allowed")
        check(closed(s), "QUIT closes")

        begin("HELLO 3 AUTH default PW authenticates")
        s = srv.sock()
        s.sendall(resp("HELLO", "3", "AUTH", "default", "s3cret") +
                  resp("GET", "k"))
        got = recv_until(s, lambda d: d.endswith(b"_\r\n"))
        check(got.startswith(b"%7") and got.endswith(b"_\r\n"), f"{got!r}")
        s.close()

        begin("before AUTH, requests are limited to 10 small arguments")
        s = srv.sock()
        s.sendall(b"*11\r\n")
        got = recv_until(s, lambda d: d.endswith(b"\r\n"))
        check(b"invalid multibulk length" in got and closed(s), f"{got!r}")
        s = srv.sock()
        s.sendall(b"*2\r\n$4\r\nAUTH\r\n$100000\r\n")
        got = recv_until(s, lambda d: d.endswith(b"\r\n"))
        check(b"invalid bulk length" in got and closed(s), f"{got!r}")

        begin("redis-py and redis-cli with a password")
        r = srv.client(password="s3cret")
        check(r.set("k", "v") and r.get("k") == b"v", "redis-py")
        check(srv.cli("-a", "s3cret", "--no-auth-warning", "GET", "k") == "v",
              "redis-cli -a")
        check("NOAUTH" in srv.cli("GET", "k"), "redis-cli without -a")
        r.config_set("requirepass", "")
        check(srv.cli("GET", "k") == "v", "CONFIG SET requirepass ''")


# --------------------------------------------------------------------------
# ttl
# --------------------------------------------------------------------------

def group_ttl():
    with Server("--hz", "50") as srv:
        r = srv.client()
        begin("SET with EX, PX, EXAT, PXAT and the TTL readers")
        r.set("a", "1", ex=100)
        check(99 <= r.ttl("a") <= 100 and 98000 < r.pttl("a") <= 100000,
              "TTL/PTTL after EX")
        r.set("b", "1", px=50000)
        check(49 <= r.ttl("b") <= 50, "PX")
        at = int(time.time()) + 1000
        r.set("c", "1", exat=at)
        check(r.expiretime("c") == at, "EXAT and EXPIRETIME")
        r.set("d", "1", pxat=at * 1000 + 5)
        check(r.execute_command("PEXPIRETIME", "d") == at * 1000 + 5,
              "PXAT and PEXPIRETIME")
        check(r.ttl("nope") == -2 and r.set("p", "1") and r.ttl("p") == -1,
              "-2 missing, -1 no expiry")
        r.set("a", "2", keepttl=True)
        check(r.ttl("a") > 90 and r.get("a") == b"2", "KEEPTTL")
        r.set("a", "3")
        check(r.ttl("a") == -1, "plain SET clears the TTL")
        r.setex("se", 100, "v")
        r.psetex("pse", 100000, "v")
        check(r.ttl("se") > 90 and r.ttl("pse") > 90, "SETEX/PSETEX")
        r.set("inc", "1", ex=100)
        r.incr("inc")
        r.append("inc", "0")
        check(r.ttl("inc") > 90 and r.get("inc") == b"20",
              "INCR and APPEND keep the TTL")
        r.rename("inc", "inc2")
        check(r.ttl("inc2") > 90, "RENAME keeps the TTL")

        begin("EXPIRE NX XX GT LT and PERSIST")
        r.set("e", "v")
        check(r.expire("e", 100, xx=True) is False, "XX without TTL")
        check(r.expire("e", 100, nx=True) is True, "NX without TTL")
        check(r.expire("e", 200, nx=True) is False, "NX with TTL")
        check(r.expire("e", 50, gt=True) is False, "GT with smaller")
        check(r.expire("e", 300, gt=True) is True and r.ttl("e") > 200,
              "GT with larger")
        check(r.expire("e", 10, lt=True) is True and r.ttl("e") <= 10,
              "LT with smaller")
        check(r.persist("e") is True and r.ttl("e") == -1, "PERSIST")
        check(r.persist("e") is False, "PERSIST without TTL")
        check(r.expire("e", 10, lt=True) is True, "LT without TTL (infinite)")
        check(r.expire("e", 10, gt=True) is False or True, "GT")
        check("not compatible" in _err(r, "EXPIRE", "e", "10", "NX", "XX"),
              "NX XX incompatible")
        check(r.expire("nope", 10) is False, "EXPIRE missing key")
        check(r.pexpireat("e", int(time.time() * 1000) + 100000) and
              r.ttl("e") > 90, "PEXPIREAT")
        check(r.expire("e", -1) is True and r.exists("e") == 0,
              "EXPIRE in the past deletes")

        begin("GETEX")
        r.set("g", "v")
        check(r.getex("g", ex=100) == b"v" and r.ttl("g") > 90, "GETEX EX")
        check(r.getex("g", persist=True) == b"v" and r.ttl("g") == -1,
              "GETEX PERSIST")

        begin("lazy expiry: an expired key is gone on access")
        r.set("lazy", "v", px=100)
        time.sleep(0.3)
        check(r.get("lazy") is None and r.exists("lazy") == 0 and
              r.ttl("lazy") == -2, "gone")
        r.set("lazy2", "v", px=100)
        time.sleep(0.3)
        check(r.set("lazy2", "w", nx=True) is True, "SET NX after expiry")
        check(r.incr("lazy3") == 1, "INCR")

        begin("active expiry removes keys nobody reads")
        r.flushdb()
        with r.pipeline(transaction=False) as p:
            for i in range(500):
                p.set(f"act:{i}", "v", px=100)
            p.execute()
        r.set("keep", "v")
        deadline = time.time() + 20
        while time.time() < deadline and r.dbsize() > 1:
            time.sleep(0.1)
        check(r.dbsize() == 1, f"DBSIZE {r.dbsize()} after expiry")
        check(r.info("stats")["expired_keys"] >= 500, "expired_keys")
        check(r.keys("*") == [b"keep"], "KEYS shows no expired key")

    # One active expiry cycle a second: keys that expired a moment ago are
    # then usually still stored when the walks below run.
    with Server("--hz", "1") as srv:
        r = srv.client()
        begin("KEYS, SCAN and RANDOMKEY hide keys expired but not yet removed")
        with r.pipeline(transaction=False) as p:
            for i in range(300):
                p.set(f"gone:{i}", "v", px=50)
            p.execute()
        r.mset({f"keep:{i}": "v" for i in range(3)})
        r.set("later", "v", ex=100)
        time.sleep(0.2)
        stored = r.dbsize()
        keep = {b"keep:0", b"keep:1", b"keep:2", b"later"}
        check(set(r.keys("*")) == keep, "KEYS")
        check(set(r.scan_iter(count=5)) == keep, "SCAN")
        check(all(r.randomkey() in keep for _ in range(50)), "RANDOMKEY")
        print(f"    {stored - len(keep)} expired keys were still stored")


# --------------------------------------------------------------------------
# persistence: restarts, SHUTDOWN, adoption
# --------------------------------------------------------------------------

def group_persistence():
    data = tempfile.mkdtemp(dir=TMP, prefix="persist.")
    with Server(dir=data) as srv:
        begin("values and TTLs survive SHUTDOWN and a restart")
        r = srv.client()
        r.mset({f"p:{i}": f"v{i}" for i in range(1000)})
        r.set("ttl:long", "v", ex=1000)
        r.set("ttl:short", "v", px=300)
        r.set(b"bin\x00", b"\x00\x01")
        check(r.shutdown() is None, "SHUTDOWN closes without a reply")
        rc = srv.proc.wait(timeout=60)
        check(rc == 0, f"SHUTDOWN exits 0 (got {rc})")
    time.sleep(0.5)
    with Server(dir=data) as srv:
        r = srv.client()
        check(r.get("p:999") == b"v999" and r.dbsize() == 1002,
              f"values back (dbsize {r.dbsize()})")
        check(900 < r.ttl("ttl:long") <= 1000, "TTL back")
        check(r.get("ttl:short") is None, "expired while down")
        check(r.get(b"bin\x00") == b"\x00\x01", "binary back")
        r.set("after", "1")
    with Server(dir=data) as srv:
        begin("SIGTERM also keeps everything")
        check(srv.client().get("after") == b"1", "written before SIGTERM")

    with Server() as srv:
        begin("a second warpd on a port in use fails, as redis-server does")
        p = subprocess.run([WARPD, "--port", str(srv.port), "--dir",
                            ":memory:"], capture_output=True, timeout=60)
        check(p.returncode == 1 and b"Address already in use" in p.stderr,
              f"refused ({p.returncode}, {p.stderr[-200:]!r})")
        check(srv.client().ping(), "the first one still serves")

    begin("a store written without warpd is refused, or adopted")
    plain = os.path.join(TMP, "plain")
    os.mkdir(plain)
    dump = b'# warp dump v1\n"k1" "plain value"\n"k2" ""\n# end 2\n'
    subprocess.run([WARP, "load", plain], input=dump, check=True,
                   capture_output=True)
    p = subprocess.run([WARPD, "--port", "0", "--dir", plain],
                       capture_output=True, timeout=60)
    check(p.returncode == 1 and b"--adopt yes" in p.stderr,
          f"refused without --adopt ({p.returncode})")
    with Server("--adopt", "yes", dir=plain) as srv:
        r = srv.client()
        check(r.get("k1") == b"plain value" and r.get("k2") == b"",
              "adopted values read back as they were")
    with Server(dir=plain) as srv:
        check(srv.client().get("k1") == b"plain value",
              "adopted once, marked")


def group_crash():
    begin("kill -9 with fsync always loses no acknowledged write")
    data = tempfile.mkdtemp(dir=TMP, prefix="crash.")
    acked = {}
    lock = threading.Lock()
    stop = threading.Event()
    with Server("--fsync", "always", dir=data, threads=2) as srv:
        def writer(t):
            r = srv.client()
            i = 0
            try:
                while not stop.is_set():
                    k, v = f"w{t}:{i}", f"value-{t}-{i}"
                    if r.set(k, v):
                        with lock:
                            acked[k] = v
                    i += 1
            except (redis.ConnectionError, ConnectionError, OSError):
                pass
        ts = [threading.Thread(target=writer, args=(t,)) for t in range(4)]
        for t in ts:
            t.start()
        time.sleep(1.5)
        srv.proc.send_signal(signal.SIGKILL)
        srv.proc.wait()
        stop.set()
        for t in ts:
            t.join()
    check(len(acked) > 10, f"some writes were acknowledged ({len(acked)})")
    with Server(dir=data) as srv:
        r = srv.client()
        keys = list(acked)
        lost = 0
        for i in range(0, len(keys), 500):
            vals = r.mget(keys[i:i + 500])
            for k, v in zip(keys[i:i + 500], vals):
                if v is None or v.decode() != acked[k]:
                    lost += 1
        check(lost == 0, f"{lost} of {len(acked)} acknowledged writes lost")


# --------------------------------------------------------------------------
# entangle: QGET, ENTANGLE, UNENTANGLE, INFO entanglement
# --------------------------------------------------------------------------

def qget(r, key, *opts):
    """QGET through redis-py: (value, {partner: (value, strength)}, order)."""
    rep = r.execute_command("QGET", key, *opts)
    if rep is None:
        return None, {}, []
    value, partners = rep
    got = {p[0]: (p[1], float(p[2])) for p in partners}
    return value, got, [p[0] for p in partners]


def info_fields(r, section):
    """INFO section as a dict (redis-py parses the numbers)."""
    return r.info(section)


def raw_client(srv):
    """A redis-py client that parses no reply (execute_command gives the
    RESP reply as it is, even for commands redis-py knows, like TS.INFO)."""
    r = srv.client()
    r.response_callbacks.clear()
    return r


def group_entangle():
    data = tempfile.mkdtemp(dir=TMP, prefix="entangle.")
    rnd = random.Random(6)
    with Server(dir=data) as srv:
        r = srv.client()
        begin("QGET follows the default rules with real partner values")
        r.mset({"user:7": "alice", "profile:7": "p7", "settings:7": "s7"})
        v, got, _ = qget(r, "user:7")
        check(v == b"alice", f"primary value {v!r}")
        check(got == {b"profile:7": (b"p7", 0.8), b"settings:7": (b"s7", 0.8),
                      b"sessions:7": (None, 0.8)},
              f"rule partners with their values {got!r}")
        v, got, _ = qget(r, "profile:7")
        check(v == b"p7" and got == {b"user:7": (b"alice", 0.8)},
              f"a rule target's partner is its source {got!r}")
        check(qget(r, "user:nope")[0] is None and
              r.execute_command("QGET", "user:nope") is None,
              "QGET of a missing key is nil")

        begin("QGET decodes partner values like GET and hides expired ones")
        r.set("sessions:7", "live", ex=100)
        r.set("settings:7", "soon", px=60)
        time.sleep(0.15)
        _, got, _ = qget(r, "user:7")
        check(got[b"sessions:7"][0] == b"live" == r.get("sessions:7"),
              f"a partner with a TTL reads as GET does {got!r}")
        check(got[b"settings:7"][0] is None and r.get("settings:7") is None,
              "an expired partner has a nil value")
        r.set("user:8", "gone", px=50)
        time.sleep(0.1)
        check(r.execute_command("QGET", "user:8") is None,
              "an expired primary is nil")

        begin("ENTANGLE: explicit edges, strongest first, MAX, MINSTRENGTH")
        keys0 = r.dbsize()
        before = info_fields(r, "entanglement")
        r.mset({"a": "va", "b": "vb", "c": "vc"})
        id1 = r.execute_command("ENTANGLE", "a", "b", "c", "STRENGTH", "2.5")
        id2 = r.execute_command("ENTANGLE", "a", "c", "b", "STRENGTH", "2.5")
        check(re.fullmatch(rb"[0-9a-f]{16}", id1) is not None,
              f"the id is 16 hex digits {id1!r}")
        check(id1 == id2, "the same partners in any order give the same id")
        check(r.execute_command("ENTANGLE", "a", "b") != id1,
              "another partner set gives another id")
        v, got, _ = qget(r, "a")
        check(v == b"va" and got == {b"b": (b"vb", 1.0), b"c": (b"vc", 2.5)},
              f"explicit partners, re-entangling sets the strength {got!r}")
        _, got, _ = qget(r, "b")
        check(got == {b"a": (b"va", 1.0)}, f"edges are symmetric {got!r}")
        r.execute_command("ENTANGLE", "user:7", "extra", "STRENGTH", 5)
        r.set("extra", "e")
        _, got, order = qget(r, "user:7")
        check(order[0] == b"extra" and got[b"extra"] == (b"e", 5.0) and
              len(got) == 4, f"explicit and rule partners merged {order!r}")
        _, got, _ = qget(r, "user:7", "MAX", 1)
        check(list(got) == [b"extra"], f"MAX 1 {got!r}")
        _, got, _ = qget(r, "user:7", "MINSTRENGTH", 1)
        check(list(got) == [b"extra"], f"MINSTRENGTH 1 {got!r}")
        _, got, _ = qget(r, "user:7", "MAX", 0)
        check(got == {}, "MAX 0 gives no partner")
        after = info_fields(r, "entanglement")
        check(after["entangled_edges"] - before["entangled_edges"] == 6,
              f"INFO entanglement counts the edges set "
              f"({before['entangled_edges']} -> {after['entangled_edges']})")
        check(r.dbsize() == keys0 + 4,
              f"DBSIZE counts the 4 new keys, not the edge lists "
              f"({keys0} -> {r.dbsize()})")

        begin("QGET and ENTANGLE reject bad arguments")
        for cmd in (("QGET", "a", "MAX", -1), ("QGET", "a", "MAX", 5000),
                    ("QGET", "a", "MINSTRENGTH", "x"), ("QGET", "a", "MAX"),
                    ("QGET", "a", "FOO", 1),
                    ("ENTANGLE", "a", "b", "STRENGTH", 0),
                    ("ENTANGLE", "a", "b", "STRENGTH", 11),
                    ("ENTANGLE", "a", "a"), ("ENTANGLE", "a", b"\xff\xfeq")):
            try:
                r.execute_command(*cmd)
                check(False, f"{cmd} is an error")
            except redis.ResponseError:
                pass

        begin("UNENTANGLE removes stored edges, not rule edges")
        before = info_fields(r, "entanglement")
        check(r.execute_command("UNENTANGLE", "a", "b") == 1, "UNENTANGLE a b")
        check(r.execute_command("UNENTANGLE", "a", "b") == 0,
              "nothing left to remove is 0")
        _, got, _ = qget(r, "a")
        check(list(got) == [b"c"], f"only c is left {got!r}")
        check(r.execute_command("UNENTANGLE", "user:7", "ALL") == 1, "ALL")
        _, got, _ = qget(r, "user:7")
        check(b"extra" not in got and len(got) == 3,
              f"rule partners stay {got!r}")
        after = info_fields(r, "entanglement")
        check(after["unentangled_edges"] > before["unentangled_edges"],
              "INFO entanglement counts removed edges")
        n = after["qget_calls"]
        for _ in range(5):
            qget(r, "user:7")
        check(info_fields(r, "entanglement")["qget_calls"] == n + 5,
              "qget_calls counts QGETs")

        begin("QGET matches a model of random explicit edges")
        names = [f"n{i}" for i in range(12)]
        model = {k: {} for k in names}
        for k in names:
            if rnd.random() < 0.8:
                r.set(k, f"val-{k}")
        for _ in range(40):
            p = rnd.choice(names)
            parts = rnd.sample([k for k in names if k != p], rnd.randint(1, 3))
            st = rnd.choice([0.5, 1.0, 2.0, 3.5, 7.25])
            if rnd.random() < 0.2:
                r.execute_command("UNENTANGLE", p, *parts)
                for q in parts:
                    model[p].pop(q, None)
                    model[q].pop(p, None)
                continue
            r.execute_command("ENTANGLE", p, *parts, "STRENGTH", st)
            for q in parts:
                model[p][q] = model[q][p] = st
        bad = 0
        for k in names:
            _, got, order = qget(r, k, "MAX", 20, "MINSTRENGTH", 0)
            want = {q.encode(): (r.get(q), s) for q, s in model[k].items()}
            strengths = [got[q][1] for q in order]
            if (r.get(k) is not None and got != want) or \
                    strengths != sorted(strengths, reverse=True):
                bad += 1
                check(False, f"{k}: {got!r} != {want!r}")
        check(bad == 0, "every key's partners match the model")

        begin("RESP3 QGET: strengths are doubles")
        s = srv.sock()
        s.sendall(resp("HELLO", "3"))
        recv_until(s, lambda d: b"modules" in d and d.endswith(b"*0\r\n"))
        s.sendall(resp("QGET", "profile:7"))
        want = b"*2\r\n$2\r\np7\r\n*1\r\n*3\r\n$6\r\nuser:7\r\n$5\r\nalice\r\n,0.8\r\n"
        got = recv_until(s, lambda d: len(d) >= len(want))
        check(got == want, f"RESP3 QGET {got!r}")
        s.sendall(resp("QGET", "nope"))
        check(recv_until(s, lambda d: d.endswith(b"\r\n")) == b"_\r\n",
              "RESP3 nil QGET")
        s.close()
        saved = {k: qget(r, k, "MAX", 20, "MINSTRENGTH", 0)[1] for k in names}
    with Server(dir=data) as srv:
        begin("entanglements survive a restart")
        r = srv.client()
        same = all(qget(r, k, "MAX", 20, "MINSTRENGTH", 0)[1] == saved[k]
                   for k in names)
        check(same, "every key's partners are back")
        _, got, _ = qget(r, "a")
        check(list(got) == [b"c"], f"a <-> c is back {got!r}")
        begin("FLUSHDB removes stored edges too")
        r.flushdb()
        check(r.dbsize() == 0, "no key left")
        r.set("a", "1")
        r.set("user:7", "2")
        check(qget(r, "a")[1] == {}, "no explicit edge left")
        check(len(qget(r, "user:7")[1]) == 3, "rule edges are configuration")


# --------------------------------------------------------------------------
# series: TS.CREATE, TS.ADD, TS.GET, TS.RANGE, TS.INFO
# --------------------------------------------------------------------------

def naive_range(model, lo, hi, agg=None, bucket=0, count=None):
    """The expected TS.RANGE answer, computed sample by sample."""
    pts = sorted((t, v) for t, v in model.items() if lo <= t <= hi)
    if agg is None:
        out = pts
    else:
        groups = {}
        for t, v in pts:
            groups.setdefault(t // bucket * bucket, []).append(v)
        fn = {"avg": lambda xs: sum(xs) / len(xs), "sum": sum, "min": min,
              "max": max, "count": len}[agg]
        out = [(b, float(fn(xs))) for b, xs in sorted(groups.items())]
    return out[:count] if count else out


def same_samples(got, want):
    if len(got) != len(want):
        return False
    for (t1, v1), (t2, v2) in zip(got, want):
        if t1 != t2 or abs(v1 - v2) > 1e-9 * max(1.0, abs(v2)):
            return False
    return True


def ts_range(r, key, lo, hi, *opts):
    rep = r.execute_command("TS.RANGE", key, lo, hi, *opts)
    return [(int(t), float(v)) for t, v in rep]


def group_series():
    data = tempfile.mkdtemp(dir=TMP, prefix="series.")
    rnd = random.Random(7)
    with Server(dir=data) as srv:
        r = raw_client(srv)
        begin("TS.ADD and TS.GET follow a model of random samples")
        model = {}
        pipe = r.pipeline(transaction=False)
        for _ in range(3000):
            t = rnd.randrange(0, 100000)
            v = round(rnd.uniform(-1000, 1000), 3)
            model[t] = v  # a repeated timestamp replaces the sample
            pipe.execute_command("TS.ADD", "temp", t, v)
        replies = pipe.execute()
        check(all(isinstance(x, int) for x in replies),
              "TS.ADD replies the timestamp")
        last = max(model)
        t, v = r.execute_command("TS.GET", "temp")
        check((int(t), float(v)) == (last, model[last]),
              f"TS.GET is the newest sample ({t}, {v})")

        begin("TS.CREATE on a string key that has just expired")
        # it held the key's stripe and looked the key up, and the lookup
        # took the stripe again to expire it: the loop hung for good
        r.execute_command("CONFIG", "SET", "hz", "1")  # no active expiry
        r.execute_command("SET", "gone", "v", "PX", "1")
        time.sleep(0.05)
        check(r.execute_command("TS.CREATE", "gone") in (True, b"OK"),
              "TS.CREATE replaced the expired string")
        check(r.execute_command("TS.ADD", "gone", 1, 2.5) == 1,
              "the series works")
        r.execute_command("CONFIG", "SET", "hz", "10")

        begin("TS.RANGE matches a naive computation")
        check(same_samples(ts_range(r, "temp", "-", "+"),
                           naive_range(model, 0, 10**9)),
              "the whole series, over several pages")
        ok = True
        for _ in range(30):
            lo = rnd.randrange(-10, 100000)
            hi = lo + rnd.randrange(0, 40000)
            cnt = rnd.choice([None, 1, 7, 1500])
            opts = ("COUNT", cnt) if cnt else ()
            if not same_samples(ts_range(r, "temp", lo, hi, *opts),
                                naive_range(model, lo, hi, count=cnt)):
                ok = False
                check(False, f"TS.RANGE temp {lo} {hi} {opts}")
        check(ok, "random windows with and without COUNT")
        for agg in ("avg", "sum", "min", "max", "count"):
            for bucket in (7, 1000, 25000):
                lo = rnd.choice(["-", rnd.randrange(0, 50000)])
                hi = rnd.choice(["+", rnd.randrange(50000, 100000)])
                nlo = 0 if lo == "-" else lo
                nhi = 10**9 if hi == "+" else hi
                cnt = rnd.choice([None, 3])
                opts = ("COUNT", cnt) if cnt else ()
                got = ts_range(r, "temp", lo, hi, *opts, "AGGREGATION",
                               agg.upper() if bucket == 7 else agg, bucket)
                want = naive_range(model, nlo, nhi, agg, bucket, cnt)
                check(same_samples(got, want),
                      f"AGGREGATION {agg} {bucket} from {lo} to {hi} "
                      f"{opts}: {got[:3]} vs {want[:3]}")

        begin("TS.INFO counts the samples")
        info = r.execute_command("TS.INFO", "temp")
        info = dict(zip(info[::2], info[1::2]))
        check(info[b"totalSamples"] == len(model) and
              info[b"firstTimestamp"] == min(model) and
              info[b"lastTimestamp"] == last and
              info[b"retentionTime"] == 0 and info[b"chunkCount"] > 0,
              f"TS.INFO {info!r}")

        begin("redis-py's TimeSeries client works")
        ts = srv.client().ts()
        check(ts.add("py", 10, 1.5) == 10 and ts.add("py", 20, 2.5) == 20,
              "ts().add")
        check(ts.get("py") == (20, 2.5), "ts().get")
        check(ts.range("py", 0, 100, aggregation_type="sum",
                       bucket_size_msec=100) == [(0, 4.0)],
              "ts().range with aggregation")
        check(ts.info("py").total_samples == 2, "ts().info")
        now = int(time.time() * 1000)
        got = r.execute_command("TS.ADD", "now", "*", 1)
        check(abs(got - now) < 5000, f"TS.ADD * uses the clock ({got})")

        begin("RETENTION keeps a window behind the newest sample")
        check(r.execute_command("TS.CREATE", "ret", "RETENTION", 100) == b"OK",
              "TS.CREATE")
        check(r.execute_command("TS.GET", "ret") == [],
              "an empty series has no sample")
        r.execute_command("TS.ADD", "ret", 1000, 1)
        r.execute_command("TS.ADD", "ret", 950, 2)
        r.execute_command("TS.ADD", "ret", 1150, 3)
        check(ts_range(r, "ret", "-", "+") == [(1150, 3.0)],
              "samples older than newest - retention are dropped")
        r.execute_command("TS.ADD", "ret2", 500, 1, "RETENTION", 10)
        info = r.execute_command("TS.INFO", "ret2")
        check(dict(zip(info[::2], info[1::2]))[b"retentionTime"] == 10,
              "TS.ADD RETENTION sets it on the new series")

        begin("TS errors follow RedisTimeSeries")
        r.set("str", "x")

        def err(*cmd):
            try:
                r.execute_command(*cmd)
            except redis.ResponseError as e:
                return str(e)
            return ""
        check(err("TS.GET", "nope").startswith("TSDB: the key does not"),
              "missing series")
        check(err("TS.RANGE", "nope", "-", "+").startswith("TSDB: the key"),
              "missing series in TS.RANGE")
        check(err("TS.ADD", "str", 1, 1).startswith("WRONGTYPE") and
              err("TS.GET", "str").startswith("WRONGTYPE") and
              err("TS.RANGE", "str", "-", "+").startswith("WRONGTYPE"),
              "a string key is the wrong type")
        check(err("TS.CREATE", "ret").startswith("TSDB: key already exists"),
              "TS.CREATE of an existing series")
        check("TSDB" in err("TS.ADD", "temp", -1, 1) and
              "TSDB" in err("TS.ADD", "temp", "x", 1) and
              "TSDB" in err("TS.ADD", "temp", 1, "abc") and
              "TSDB" in err("TS.ADD", "ret", 10, 1) and
              "TSDB" in err("TS.RANGE", "temp", "-", "+", "AGGREGATION",
                            "median", 10) and
              "TSDB" in err("TS.RANGE", "temp", "-", "+", "AGGREGATION",
                            "avg", 0) and
              "TSDB" in err("TS.RANGE", "temp", "x", "+") and
              "TSDB" in err("TS.RANGE", "temp", "-", "+", "COUNT", 0),
              "bad timestamps, values, aggregations and counts")
        check(r.dbsize() == 1, f"DBSIZE counts strings, not series "
              f"({r.dbsize()})")

        begin("RESP3 TS.GET: the value is a double")
        s = srv.sock()
        s.sendall(resp("HELLO", "3"))
        recv_until(s, lambda d: b"modules" in d and d.endswith(b"*0\r\n"))
        s.sendall(resp("TS.GET", "py"))
        want = b"*2\r\n:20\r\n,2.5\r\n"
        got = recv_until(s, lambda d: len(d) >= len(want))
        check(got == want, f"RESP3 TS.GET {got!r}")
        s.close()
    with Server(dir=data) as srv:
        begin("series and their retention survive a restart")
        r = raw_client(srv)
        check(same_samples(ts_range(r, "temp", "-", "+"),
                           naive_range(model, 0, 10**9)),
              "every sample is back")
        check(ts_range(r, "ret", "-", "+") == [(1150, 3.0)], "ret is back")
        r.execute_command("TS.ADD", "ret", 1100, 9)
        try:
            r.execute_command("TS.ADD", "ret", 1000, 9)
            check(False, "an add behind the retention window is an error")
        except redis.ResponseError as e:
            check("older than retention" in str(e), f"{e}")
        check(ts_range(r, "ret", "-", "+") == [(1100, 9.0), (1150, 3.0)],
              "and its retention still applies")
        begin("FLUSHDB removes series too")
        r.flushdb()
        try:
            r.execute_command("TS.GET", "temp")
            check(False, "TS.GET after FLUSHDB is an error")
        except redis.ResponseError as e:
            check("does not exist" in str(e), f"{e}")


def group_info():
    with Server() as srv:
        r = srv.client()
        begin("INFO has the physics, entropy, entanglement, tiers sections")
        lines = [ln.strip() for ln in srv.cli("INFO").splitlines()]
        for sec in ("Physics", "Entropy", "Entanglement", "Tiers"):
            check(f"# {sec}" in lines, f"INFO has # {sec}")
        t0 = info_fields(r, "tiers")
        r.mset({f"tier:{i}": "x" * 100 for i in range(500)})
        t1 = info_fields(r, "tiers")
        check(t1["event_horizon_items"] - t0["event_horizon_items"] == 500,
              f"event_horizon_items grows by the keys written "
              f"({t0['event_horizon_items']} -> {t1['event_horizon_items']})")
        check(t1["event_horizon_value_bytes"] -
              t0["event_horizon_value_bytes"] == 500 * 101,
              "event_horizon_value_bytes grows by the bytes written "
              "(each value has warpd's 1-byte header)")
        check(t1["tier_used_bytes"] > t0["tier_used_bytes"],
              "tier_used_bytes grows")
        p0 = info_fields(r, "physics")
        check(p0["physics_mode"] == "adaptive", "physics_mode")
        r.execute_command("WARP.PHYSICS", "full")
        for i in range(200):
            r.get(f"tier:{i}")
        time.sleep(1.5 * float(SLOW))
        p1 = info_fields(r, "physics")
        check(p1["observed_gets"] >= p0["observed_gets"] + 100,
              f"observed_gets counts gets in full mode "
              f"({p0['observed_gets']} -> {p1['observed_gets']})")
        e = info_fields(r, "entropy")
        check(0 <= e["entropy_items_norm"] <= 1, "entropy_items_norm in [0,1]")
        check(info_fields(r, "all").keys() >= {"entangled_edges",
                                                "event_horizon_items",
                                                "entropy_ops", "facts"},
              "INFO all has every section")


# --------------------------------------------------------------------------
# smoke: many clients on several loops at once (also run under TSan)
# --------------------------------------------------------------------------

def group_smoke():
    with Server("--hz", "100", threads=4) as srv:
        begin("concurrent clients: counters exact, server clean")
        errors = []
        n_threads, n_iter = 6, 300

        def work(t):
            try:
                r = srv.client()
                for i in range(n_iter):
                    r.incr("counter")
                    r.set(f"k{t}:{i % 20}", i, px=50 if i % 3 == 0 else None)
                    r.get(f"k{(t + 1) % n_threads}:{i % 20}")
                    r.mset({f"m{i % 7}": t, f"m{(i + 1) % 7}": t})
                    r.mget([f"m{j}" for j in range(7)])
                    r.append(f"ap{t % 2}", "x")
                    r.execute_command("TS.ADD", f"ts{t % 2}", t * n_iter + i,
                                      i)
                    r.execute_command("QGET", f"user:{i % 5}")
                    if i % 25 == 0:
                        r.set(f"user:{i % 5}", t)
                        r.execute_command("ENTANGLE", f"user:{i % 5}",
                                          f"k{t}:{i % 20}")
                    if i % 50 == 0:
                        r.client_list()
                        r.info()
                        list(r.scan_iter(count=100))
                        r.config_set("timeout", "0")
                        r.delete(f"k{t}:1", "m1")
                        r.expire("counter2", 100)
            except Exception as e:  # noqa: BLE001
                errors.append(repr(e))

        ts = [threading.Thread(target=work, args=(t,))
              for t in range(n_threads)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        r = srv.client()
        check(not errors, f"client errors: {errors[:3]}")
        check(int(r.get("counter")) == n_threads * n_iter, "INCR is atomic")
        check(r.strlen("ap0") + r.strlen("ap1") == n_threads * n_iter,
              "APPEND is atomic")
        n_ts = sum(len(r.execute_command("TS.RANGE", f"ts{k}", "-", "+"))
                   for k in (0, 1))
        check(n_ts == n_threads * n_iter, f"every TS.ADD is kept ({n_ts})")


GROUPS = {
    "commands": group_commands, "resp": group_resp, "limits": group_limits,
    "auth": group_auth, "ttl": group_ttl, "persistence": group_persistence,
    "crash": group_crash, "smoke": group_smoke, "entangle": group_entangle,
    "series": group_series, "info": group_info,
}


def main():
    global WARPD, WARP, TMP
    if len(sys.argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    WARPD, WARP = sys.argv[1], sys.argv[2]
    groups = sys.argv[3:] or list(GROUPS)
    TMP = tempfile.mkdtemp(prefix="warpd-test.")
    try:
        for g in groups:
            try:
                GROUPS[g]()
            except Exception as e:  # noqa: BLE001
                import traceback
                traceback.print_exc()
                failures.append(f"{g}: {warptest.current}: exception {e!r}")
    finally:
        shutil.rmtree(TMP, ignore_errors=True)
    if failures:
        print(f"{len(failures)} failure(s)", file=sys.stderr)
        return 1
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
