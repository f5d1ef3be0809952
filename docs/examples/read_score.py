"""Reads one published Prescore score straight from Redis, by the layout of docs/storage.md.

Usage: python3 read_score.py JOB KEY [--prefix prescore] [--port 56379]
Needs only the standard library: it speaks RESP over a socket itself (redis-py works the same way:
r.hmget(pointer, "run", "buckets") then r.hget(bucket_key, key)).
"""
import argparse
import socket
import struct


def fnv1a64(data: bytes) -> int:
    h = 0xCBF29CE484222325
    for byte in data:
        h ^= byte
        h = (h * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return h


def command(sock, *args):
    payload = b"*%d\r\n" % len(args) + b"".join(
        b"$%d\r\n%s\r\n" % (len(a), a) for a in (x if isinstance(x, bytes) else str(x).encode() for x in args))
    sock.sendall(payload)
    return read_reply(sock.makefile("rb"))


def read_reply(f):
    line = f.readline().rstrip(b"\r\n")
    kind, rest = line[:1], line[1:]
    if kind == b"$":
        n = int(rest)
        return None if n < 0 else f.read(n + 2)[:-2]
    if kind == b"*":
        return [read_reply(f) for _ in range(int(rest))]
    if kind == b"-":
        raise RuntimeError(rest.decode())
    return rest


def read_score(sock, prefix: str, job: str, key: str):
    # 1. Resolve the pointer: which run is published, and how many buckets it has.
    run, buckets = command(sock, "HMGET", f"{prefix}:{job}:current", "run", "buckets")
    if run is None:
        return None  # nothing published yet
    # 2. The bucket: FNV-1a 64 of the key's text, modulo the bucket count.
    bucket = fnv1a64(key.encode()) % int(buckets)
    # 3. HGET the score from the bucket hash; 4. decode 4 bytes, little-endian float32.
    raw = command(sock, "HGET", f"{prefix}:{job}:s:{run.decode()}:{bucket}", key)
    return None if raw is None else struct.unpack("<f", raw)[0]


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("job")
    parser.add_argument("key")
    parser.add_argument("--prefix", default="prescore")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=56379)
    options = parser.parse_args()
    with socket.create_connection((options.host, options.port)) as connection:
        print(read_score(connection, options.prefix, options.job, options.key))
