#!/usr/bin/python3
"""make-corpus.py WARPD - regenerate the seed corpora of fuzz/corpus/.

The WAL and snapshot seeds are real files: a warpd (2 shards, 64 KiB
segments) takes puts, deletes, TTLs, an MSET, a forced rebalance (which
logs SLOT_IMAGE records) and a SAVE, and its wal/ and snapshots/ files
become seeds, trailing zeros cut, behind the targets' mode byte. The RESP,
config and option seeds are written out below. Run from anywhere; it
rewrites the files it names in fuzz/corpus/<target>/ (regressions/ is
never touched).

The files named by a SHA-1 are inputs libFuzzer found that add coverage,
kept as seeds so that a short run starts deep: after a long `make fuzz`,
  build-fuzz/bin/fuzz-T -merge=1 NEW fuzz/corpus/T build-fuzz/fuzz-corpus/T
puts the ones worth keeping in NEW.
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

import redis

HERE = os.path.dirname(os.path.abspath(__file__))


def put(target, name, data):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def store_files(warpd):
    tmp = tempfile.mkdtemp(prefix="warp-corpus.")
    log = open(os.path.join(tmp, "log"), "w+")
    data = os.path.join(tmp, "data")
    p = subprocess.Popen([warpd, "--port", "0", "--dir", data, "--threads",
                          "1", "--shards", "2", "--wal-segment-size", "64k",
                          "--fsync", "always"], stdout=log, stderr=log)
    try:
        port = None
        for _ in range(500):
            log.seek(0)
            m = re.search(r"listening on [^,]*:(\d+),", log.read())
            if m:
                port = int(m.group(1))
                break
            time.sleep(0.02)
        r = redis.Redis(port=port)
        for i in range(40):
            r.set(f"key:{i}", f"value-{i}" * (i % 5 + 1))
        r.set("ttl", "x", px=3600000)
        r.mset({"{t}a": "1", "{t}b": "2"})
        r.delete("key:3", "key:4")
        r.incr("counter")
        r.execute_command("WARP.REBALANCE", "FORCE")
        r.save()
        for i in range(10):
            r.set(f"after:{i}", "y" * i)
        r.delete("key:5")
        r.execute_command("WARP.REBALANCE", "FORCE")
    finally:
        p.kill()
        p.wait()
    files = {}
    for sub, ext in (("wal", ".wal"), ("snapshots", ".snap")):
        d = os.path.join(data, sub)
        for name in sorted(os.listdir(d)) if os.path.isdir(d) else []:
            if name.endswith(ext):
                with open(os.path.join(d, name), "rb") as f:
                    b = f.read().rstrip(b"\0")
                files.setdefault(sub, []).append((name, b))
    shutil.rmtree(tmp)
    return files


def main():
    files = store_files(sys.argv[1])
    for target in ("wal", "snapshot"):  # this script's own seeds only
        d = os.path.join(HERE, "corpus", target)
        for name in os.listdir(d) if os.path.isdir(d) else []:
            if name.endswith((".fixed", ".salvage")):
                os.unlink(os.path.join(d, name))
    for name, b in files.get("wal", []):
        if len(b) > 64:
            put("wal", name + ".fixed", b"\x01" + b)
            put("wal", name + ".salvage", b"\x03" + b[:len(b) * 2 // 3])
    for name, b in files.get("snapshots", []):
        put("snapshot", name + ".fixed", b"\x01" + b)
        put("snapshot", name + ".salvage", b"\x03" + b[: len(b) // 2] + b"END1")

    reqs = {
        "set": b"*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nvalue\r\n",
        "pipeline": b"*1\r\n$4\r\nPING\r\n" * 3 + b"*2\r\n$3\r\nGET\r\n$1\r\nk\r\n",
        "inline": b"SET k \"a\\x41\\n\" 'it''s'\r\nPING\r\n\r\n",
        "hello3": b"*2\r\n$5\r\nHELLO\r\n$1\r\n3\r\n",
        "empty-multibulk": b"*0\r\n*-1\r\n*1\r\n$0\r\n\r\n",
        "binary": b"*2\r\n$4\r\nECHO\r\n$4\r\n\r\n\0\xff\r\n",
        "huge-len": b"*1\r\n$99999999999\r\n",
    }
    for name, b in reqs.items():
        put("resp-request", name, b"\x10" + b)
        put("resp-request", name + ".unauth", b"\x01" + b)
    # reply ops: opcode, payload length, payload (see fuzz-resp-reply.c)
    put("resp-reply", "mixed2", b"\x00" + b"\x00\x03abc\x01\x05E\r\nrr"
        b"\x02\x08\x01\x00\x00\x00\x00\x00\x00\x80\x08\x02hi\x09\x01z")
    put("resp-reply", "mixed3", b"\x01" + b"\x03\x08\x00\x00\x00\x00\x00\x00"
        b"\xf0\x7f\x04\x00\x06\x01\x07\x03txt\x0a\x02ab\x0b\x02OK")
    put("config", "basic", b"# warpd.conf\nport 6390\nbind 127.0.0.1\n"
        b"dir /tmp/x\nthreads 2\nfsync always\nmaxmemory 64mb\n"
        b"requirepass \"s3cret\"\nclient-output-buffer-limit normal 1mb 0 0\n"
        b"hz 20\nphysics full\n")
    put("config", "engine", b"shards 16\nwal-segment-size 1m\n"
        b"entanglement_rules 'user:*->session:*'\ncolocation tags,rules\n"
        b"timeout 0\nadopt yes\n")
    for name, value in (("size", b"64m"), ("bool", b"yes"), ("enum", b"salvage"),
                        ("double", b"0.25"), ("rules",
                                              b"user:*->session:*,cart:*;a:*->b:*"),
                        ("named", b"tags,rules\0colocation"),
                        ("big", b"18446744073709551615")):
        put("options", name, value)


if __name__ == "__main__":
    main()
