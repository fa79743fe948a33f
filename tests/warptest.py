"""warptest.py - the helpers the Python tests of warpd share: checks, a
warpd process, raw RESP on a socket.

usage: import warptest   (from a script in tests/; Python puts the running
                          script's directory on sys.path, so it is found)

test-server.py, test-chaos.py, test-hardening.py and test-cluster.py use
it; see one of them for an example. What a script checks, and the helpers
only it needs, stay in that script.

  check(cond, what)  unless cond holds, record `what` in `failures` and
                     print "FAIL: what" on stderr; the test goes on, so one
                     run reports every broken behaviour. fail(what) is the
                     same without a condition. Safe from several threads.
                     A script's exit status comes from `failures`.
  begin(name)        print "--- name"; the failures that follow start with
                     "name: ". A script with such groups sets
                     `warptest.current = ""` first; while `current` is None
                     (the default) failures name no group.
  Warpd              one warpd process. Its command passes --port 0, so
                     warpd binds a free loopback port and logs "listening
                     on ADDR:PORT,", which start() waits for. Each script
                     subclasses it to build its command line.
  resp(*args)        a command as a RESP multibulk frame, in bytes
  recv_until(s, p)   read socket s until p(data) holds, EOF or a timeout
"""
import re
import signal
import socket
import subprocess
import sys
import threading
import time

import redis

failures = []  # every failure message, in order
current = None  # the group begin() named last; None: failures name none
_lock = threading.Lock()


def fail(what):
    """Record a failure and print it; the test goes on."""
    with _lock:
        failures.append(what)
    print(f"FAIL: {what}", file=sys.stderr, flush=True)


def check(cond, what):
    """fail(what), prefixed with the current group, unless cond holds."""
    if not cond:
        fail(what if current is None else f"{current}: {what}")


def begin(name):
    """Start a group of checks called name."""
    global current
    current = name
    print(f"--- {name}", flush=True)


class Warpd:
    """A warpd process run as the argument list cmd (with --port 0), from
    the directory cwd with the environment env (None: this process's).
    start() runs it; addr and port say where it listens. It can be
    started again after stop() or kill() (test-chaos restarts it on the
    same data directory). As a context manager, leaving the block without
    an exception is stop_ok(), with one a kill()."""

    def __init__(self, cmd, cwd=None, env=None):
        self.cmd, self.cwd, self.env = cmd, cwd, env
        self.proc = self.addr = self.port = None
        self.hung = False  # the last stop() had to SIGKILL it

    def start(self, log, timeout=60, tail=None):
        """Run warpd, its output in the file log, and wait up to timeout
        seconds until it listens. If it does not: kill it and raise
        RuntimeError quoting the log (only its last tail characters, if
        tail is given)."""
        self.log = log
        self.logf = open(log, "w+")
        self.proc = subprocess.Popen(self.cmd, stdout=self.logf,
                                     stderr=self.logf, cwd=self.cwd,
                                     env=self.env)
        self.addr = self.port = None
        deadline = time.time() + timeout
        while time.time() < deadline:
            m = re.search(r"listening on ([^,]*):(\d+),", self.text())
            if m:
                self.addr, self.port = m.group(1), int(m.group(2))
                return
            if self.proc.poll() is not None:
                break
            time.sleep(0.02)
        self.kill()
        text = self.text()
        raise RuntimeError("warpd did not start:\n" +
                           (text[-tail:] if tail else text))

    def text(self):
        """The log so far."""
        with open(self.log) as f:
            return f.read()

    def client(self, **kw):
        """A redis-py client of it; kw go to redis.Redis."""
        kw.setdefault("socket_timeout", 30)
        return redis.Redis(host="127.0.0.1", port=self.port, **kw)

    def sock(self, nodelay=False):
        """A raw TCP connection to it (30 s timeout). With nodelay, each
        write is sent at once (TCP_NODELAY), however small."""
        s = socket.create_connection(("127.0.0.1", self.port), timeout=30)
        if nodelay:
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return s

    def stop(self, sig=signal.SIGTERM, timeout=120):
        """Send sig (if it still runs) and wait up to timeout seconds, then
        SIGKILL it and set hung. Returns the exit status (minus the signal
        number if a signal ended it)."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            rc = self.proc.wait(timeout=timeout)
            self.hung = False
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = self.proc.wait()
            self.hung = True
        self.logf.close()
        return rc

    def stop_ok(self, tail=3000):
        """stop(), and check warpd exits 0 (the failure quotes the last
        tail characters of the log)."""
        rc = self.stop()
        check(rc == 0, f"warpd exits 0 on SIGTERM (got {rc}); log:\n"
              + self.text()[-tail:])

    def kill(self):
        """SIGKILL it, if it runs, and wait for it."""
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
        if self.proc:
            self.proc.wait()
            self.logf.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if exc[0] is None:
            self.stop_ok()
        else:
            self.kill()


def resp(*args):
    """The command args (bytes, or anything str() turns into text) as a
    RESP multibulk frame."""
    out = [f"*{len(args)}\r\n".encode()]
    for a in args:
        a = a if isinstance(a, bytes) else str(a).encode()
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)


def recv_until(s, pred, limit=60):
    """Read from s until pred(data) holds, EOF, a reset or `limit` seconds
    without data; returns the bytes."""
    data = b""
    s.settimeout(limit)
    while not pred(data):
        try:
            chunk = s.recv(1 << 16)
        except (socket.timeout, ConnectionResetError):
            break
        if not chunk:
            break
        data += chunk
    return data
