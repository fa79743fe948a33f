#!/usr/bin/python3
"""test-cluster.py - three warpd nodes behind twemproxy (Debian nutcracker).

usage: test-cluster.py WARPD [--requests N] [--keys N] [--demo]

Starts three warpd nodes on free loopback ports, each in its own data
directory, and one nutcracker in front of them: ketama distribution,
fnv1a_64 hashing, hash_tag "{}" (so keys that share a {tag} hash alike
and stay on one node). docs/SCALING.md describes the model. Then:
  - redis-benchmark (SET, GET, INCR, MSET) runs through the proxy;
  - redis-py writes keys through the proxy with SET, MSET (which the
    proxy splits by node), INCR and SET EX, with {tag} groups;
  - every key reads back through the proxy (GET and a split MGET);
  - asking each node directly, every key lives on exactly one node, every
    {tag} group on a single node, and every node holds a share;
  - DEL through the proxy removes keys from whichever node holds them.
Everything it starts is stopped at the end, on failure too. --demo only
prints more (make cluster-demo). Exit status 0 if every check passed.
Needs nutcracker, redis-tools and python3-redis (scripts/deps.sh test).
"""
import argparse
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time

import redis

import warptest
from warptest import check, failures


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, proc, what, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"{what} does not listen on {port}")


class Node(warptest.Warpd):
    """One of the warpd nodes; r is a client of it."""

    def __init__(self, warpd, tmp, i):
        self.dir = os.path.join(tmp, f"node{i}")
        super().__init__([warpd, "--port", "0", "--dir", self.dir,
                          "--threads", "1"])
        try:
            self.start(os.path.join(tmp, f"node{i}.log"))
        except RuntimeError:
            raise RuntimeError(f"warpd node {i} did not start") from None
        self.r = self.client()

    def stop(self):
        running = self.proc.poll() is None
        rc = super().stop(timeout=60)
        if running:
            check(rc == 0, f"warpd on {self.port} exits 0 on SIGTERM ({rc})")


def start_proxy(tmp, nodes):
    port, stats = free_port(), free_port()
    conf = os.path.join(tmp, "nutcracker.yml")
    with open(conf, "w") as f:
        f.write(f"""warp:
  listen: 127.0.0.1:{port}
  hash: fnv1a_64
  hash_tag: "{{}}"
  distribution: ketama
  redis: true
  auto_eject_hosts: false
  preconnect: true
  timeout: 5000
  servers:
""")
        for i, n in enumerate(nodes):
            f.write(f"   - 127.0.0.1:{n.port}:1 node{i}\n")
    t = subprocess.run(["nutcracker", "-t", "-c", conf], capture_output=True,
                       text=True)
    check(t.returncode == 0, f"nutcracker accepts the config: {t.stderr}")
    proc = subprocess.Popen(
        ["nutcracker", "-c", conf, "-s", str(stats), "-a", "127.0.0.1",
         "-o", os.path.join(tmp, "nutcracker.log"),
         "-p", os.path.join(tmp, "nutcracker.pid")],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_port(port, proc, "nutcracker")
    return proc, port


def run_benchmark(port, requests, demo, where="through the proxy"):
    cmd = ["redis-benchmark", "-h", "127.0.0.1", "-p", str(port), "-q",
           "-n", str(requests), "-c", "20", "-r", "100000",
           "-t", "set,get,incr,mset"]
    b = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    out = b.stdout.replace("\r", "\n")
    rates = {m.group(1): float(m.group(2)) for m in re.finditer(
        r"^([A-Z]+)[^:\n]*: ([0-9.]+) requests per second", out, re.M)}
    print(f"redis-benchmark {where}: " +
          ", ".join(f"{k} {v:.0f}/s" for k, v in rates.items()), flush=True)
    if demo:
        print("".join(f"  {line}\n" for line in out.splitlines()
                      if "requests per second" in line), end="")
    check(b.returncode == 0, f"redis-benchmark exits 0: {b.stderr[-500:]}")
    for t in ("SET", "GET", "INCR", "MSET"):
        check(rates.get(t, 0) > 0, f"redis-benchmark runs {t} {where}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("warpd")
    ap.add_argument("--requests", type=int, default=20000)
    ap.add_argument("--keys", type=int, default=3000)
    ap.add_argument("--demo", action="store_true")
    a = ap.parse_args()
    if not shutil.which("nutcracker"):
        print("nutcracker is not installed (scripts/deps.sh test)",
              file=sys.stderr)
        return 1

    tmp = tempfile.mkdtemp(prefix="warp-cluster.")
    nodes, proxy = [], None
    try:
        nodes = [Node(a.warpd, tmp, i) for i in range(3)]
        proxy, pport = start_proxy(tmp, nodes)
        print(f"nodes on {[n.port for n in nodes]}, nutcracker on {pport}",
              flush=True)
        run_benchmark(pport, a.requests, a.demo)
        if a.demo:  # the hop the proxy adds, for comparison
            run_benchmark(nodes[0].port, a.requests, a.demo,
                          "straight to one node")
        for n in nodes:  # start the key checks from empty nodes
            n.r.flushall()

        p = redis.Redis(port=pport, socket_timeout=30)
        plain = [f"user:{i}" for i in range(a.keys)]
        pipe = p.pipeline(transaction=False)
        for k in plain:
            pipe.set(k, f"v-{k}")
        pipe.execute()
        tags = [f"{{order:{i}}}" for i in range(a.keys // 10)]
        for t in tags:  # one MSET per group: the proxy sends it to one node
            p.mset({f"{t}:{f}": f"{t}-{f}" for f in ("items", "total",
                                                     "owner")})
        big = {f"bulk:{i}": str(i) for i in range(500)}
        check(p.mset(big), "an MSET spanning every node succeeds (split)")
        for i in range(50):
            check(p.incr(f"ctr:{i % 5}") > 0, "INCR through the proxy")
        check(p.set("session:x", "1", ex=3600), "SET EX through the proxy")
        check(0 < p.ttl("session:x") <= 3600, "TTL through the proxy")

        group_keys = [f"{t}:{f}" for t in tags
                      for f in ("items", "total", "owner")]
        every = plain + group_keys + list(big) + \
            [f"ctr:{i}" for i in range(5)] + ["session:x"]

        # Every key reads back through the proxy, one by one and in a
        # multi-node MGET that the proxy splits and reassembles in order.
        pipe = p.pipeline(transaction=False)
        for k in plain:
            pipe.get(k)
        got = pipe.execute()
        check(all(v == f"v-{k}".encode() for k, v in zip(plain, got)),
              "every SET key reads back through the proxy")
        vals = p.mget(list(big))
        check(vals == [v.encode() for v in big.values()],
              "an MGET over every node returns each value, in order")
        vals = p.mget(group_keys)
        check(all(v == f"{k.rsplit(':', 1)[0]}-{k.rsplit(':', 1)[1]}".encode()
                  for k, v in zip(group_keys, vals)),
              "every {tag} group reads back through the proxy")

        # Every key lives on exactly one node.
        where = {k: [] for k in every}
        for i, n in enumerate(nodes):
            pipe = n.r.pipeline(transaction=False)
            for k in every:
                pipe.exists(k)
            for k, e in zip(every, pipe.execute()):
                if e:
                    where[k].append(i)
        stray = [k for k, w in where.items() if len(w) != 1]
        check(not stray, f"every key lives on exactly one node "
              f"({len(stray)} do not, e.g. {stray[:3]})")
        split = [t for t in tags if len({tuple(where[f'{t}:{f}'])
                                         for f in ("items", "total",
                                                   "owner")}) != 1]
        check(not split, f"every {{tag}} group lives on one node "
              f"({len(split)} do not)")
        sizes = [n.r.dbsize() for n in nodes]
        check(sum(sizes) == len(every),
              f"the nodes hold {sum(sizes)} keys together, {len(every)} written")
        check(min(sizes) > len(every) // 10,
              f"ketama gives every node a share: {sizes}")
        print(f"{len(every)} keys through the proxy, each on exactly one "
              f"node; per node: {sizes}", flush=True)
        if a.demo:
            for t in tags[:5]:
                print(f"  {t}:items, {t}:total, {t}:owner -> node"
                      f"{where[t + ':items'][0]}")

        # DEL through the proxy reaches whichever node holds each key.
        check(p.delete(*plain[:300]) == 300,
              "a multi-key DEL through the proxy deletes on every node")
        check(sum(n.r.exists(*plain[:300]) for n in nodes) == 0,
              "deleted keys are gone from every node")
        # What the proxy does not route: commands it does not know (warpd's
        # own, such as QGET and WARP.*) and the keyless admin commands.
        for cmd in (["QGET", "user:1"], ["WARP.METRICS"], ["KEYS", "*"],
                    ["FLUSHALL"], ["INFO"]):
            q = redis.Redis(port=pport, socket_timeout=10)
            try:
                q.execute_command(*cmd)
                refused = False
            except (redis.ResponseError, redis.ConnectionError):
                refused = True
            q.close()
            check(refused, f"{cmd[0]} through the proxy is refused")
        check(sum(n.r.dbsize() for n in nodes) > 0,
              "FLUSHALL through the proxy did not run")
        p.close()
    except Exception as e:  # noqa: BLE001 - report, then clean up
        check(False, f"{type(e).__name__}: {e}")
    finally:
        if proxy:
            proxy.terminate()
            try:
                proxy.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proxy.kill()
                proxy.wait()
        for n in nodes:
            n.stop()
    if failures:
        print(f"{len(failures)} failure(s); logs in {tmp}")
        return 1
    shutil.rmtree(tmp, ignore_errors=True)
    print("cluster: ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
