#!/usr/bin/env python3
"""Memory per idle keep-alive client connection of a proxy (used by bench/idle_memory.sh).

Opens COUNT client connections to HOST:PORT; each sends one `GET /` and reads the whole response,
so it has gone through a full request/response exchange, then stays open and idle (keep-alive).
The resident memory of the proxy (every process of session SID, /proc/PID/status VmRSS) is read:

  base   after a warm-up (a few connections that made a request and closed), before the clients
  half   with COUNT/2 idle clients
  full   with COUNT idle clients, after `--settle` seconds
  after  once every client closed (what the proxy keeps)

and one line is printed:  IDLE ok=.. failed=.. open=.. base_kb=.. half_kb=.. full_kb=.. after_kb=..
upstream=.. seconds=..  `open` counts the clients the proxy had not closed when `full` was read,
`upstream` the connections to `--backend-ports` open at that moment (-1: not asked).

Connections come from several loopback source addresses (127.0.0.2, .3, ...) with
IP_BIND_ADDRESS_NO_PORT, so the ephemeral port range is never the limit. At most `--window`
connections are between connect and the end of their response at a time, as when idle clients
accumulate over time; the client raises its own RLIMIT_NOFILE to the hard limit.
"""

import argparse
import asyncio
import os
import resource
import socket
import sys
import time

IP_BIND_ADDRESS_NO_PORT = getattr(socket, "IP_BIND_ADDRESS_NO_PORT", 24)


def session_rss_kb(sid):
    """Sum of VmRSS (KiB) over every process whose session id is `sid`."""
    total = 0
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            if int(fields[3]) != sid:  # field 6: session
                continue
            with open(f"/proc/{name}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
        except (OSError, IndexError, ValueError):
            continue
    return total


def established_to(ports):
    """Established TCP connections (IPv4) whose remote port is one of `ports`: the proxy's side of
    its upstream connections (on loopback the backend's side has the port as its local one)."""
    n = 0
    with open("/proc/net/tcp") as f:
        next(f)
        for line in f:
            fields = line.split()
            if fields[3] == "01" and int(fields[2].split(":")[1], 16) in ports:
                n += 1
    return n


def response_complete(data):
    """True once `data` holds a whole HTTP/1.1 response (Content-Length or chunked)."""
    end = data.find(b"\r\n\r\n")
    if end < 0:
        return False
    head = data[:end].decode("latin-1").lower().split("\r\n")
    body = len(data) - end - 4
    for line in head[1:]:
        name, _, value = line.partition(":")
        name, value = name.strip(), value.strip()
        if name == "content-length":
            return body >= int(value)
        if name == "transfer-encoding" and "chunked" in value:
            return data.endswith(b"0\r\n\r\n")
    return True  # no body framing: a 204/304-like answer; good enough for `GET /` -> "ok"


async def one_client(loop, index, args, request):
    """Connects, sends one request, reads the whole response; returns the open socket or None."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.setblocking(False)
        if args.sources > 0:
            sock.setsockopt(socket.IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, 1)
            sock.bind((f"127.0.0.{2 + index % args.sources}", 0))
        await asyncio.wait_for(loop.sock_connect(sock, (args.host, args.port)), args.timeout)
        await asyncio.wait_for(loop.sock_sendall(sock, request), args.timeout)
        data = b""
        while not response_complete(data):
            chunk = await asyncio.wait_for(loop.sock_recv(sock, 65536), args.timeout)
            if not chunk:
                raise ConnectionError("closed before the end of the response")
            data += chunk
        if not data.startswith(b"HTTP/1.1 2"):
            raise ConnectionError(data.split(b"\r\n", 1)[0].decode("latin-1"))
        return sock
    except (OSError, asyncio.TimeoutError, ConnectionError, ValueError) as error:
        if args.verbose:
            print(f"client {index}: {error!r}", file=sys.stderr)
        sock.close()
        return None


async def open_clients(loop, first, count, args, request, sockets):
    """Opens `count` idle clients, at most args.window in flight; appends them to `sockets`."""
    window = asyncio.Semaphore(args.window)
    failed = 0

    async def guarded(index):
        nonlocal failed
        async with window:
            sock = await one_client(loop, index, args, request)
        if sock is None:
            failed += 1
        else:
            sockets.append(sock)

    await asyncio.gather(*(guarded(first + i) for i in range(count)))
    return failed


def still_open(sockets):
    """Clients whose connection the peer has not closed (nothing to read, no FIN)."""
    n = 0
    for sock in sockets:
        try:
            if sock.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT):
                n += 1  # unexpected bytes, but open
        except BlockingIOError:
            n += 1
        except OSError:
            pass
    return n


async def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--count", type=int, default=10000)
    parser.add_argument("--sid", type=int, required=True, help="session id of the proxy's processes")
    parser.add_argument("--sources", type=int, default=8, help="source addresses 127.0.0.2..; 0 = kernel's choice")
    parser.add_argument("--window", type=int, default=100, help="connections in flight at a time")
    parser.add_argument("--warmup", type=int, default=50, help="connections that make a request and close first")
    parser.add_argument("--settle", type=float, default=2.0, help="seconds between the last client and the reading")
    parser.add_argument("--timeout", type=float, default=10.0, help="per-step timeout of a client (s)")
    parser.add_argument("--backend-ports", default="", help="comma-separated: count the proxy's connections to them")
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args()

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    if hard != resource.RLIM_INFINITY and hard < args.count + 100:
        print(f"warning: RLIMIT_NOFILE {hard} is too low for {args.count} clients", file=sys.stderr)

    loop = asyncio.get_running_loop()
    request = f"GET / HTTP/1.1\r\nHost: {args.host}:{args.port}\r\nUser-Agent: idle_clients\r\n\r\n".encode()

    warm = []
    await open_clients(loop, 0, args.warmup, args, request, warm)
    for sock in warm:
        sock.close()
    await asyncio.sleep(args.settle / 2)
    base = session_rss_kb(args.sid)

    sockets = []
    started = time.monotonic()
    half = args.count // 2
    failed = await open_clients(loop, 0, half, args, request, sockets)
    await asyncio.sleep(args.settle / 2)
    half_kb = session_rss_kb(args.sid)
    half_n = len(sockets)
    failed += await open_clients(loop, half, args.count - half, args, request, sockets)
    opened_in = time.monotonic() - started
    await asyncio.sleep(args.settle)
    full_kb = session_rss_kb(args.sid)
    open_now = still_open(sockets)
    ports = {int(p) for p in args.backend_ports.split(",") if p}
    upstream = established_to(ports) if ports else -1

    for sock in sockets:
        sock.close()
    await asyncio.sleep(args.settle)
    after_kb = session_rss_kb(args.sid)
    print(f"IDLE ok={len(sockets)} failed={failed} open={open_now} half_n={half_n} base_kb={base} "
          f"half_kb={half_kb} full_kb={full_kb} after_kb={after_kb} upstream={upstream} seconds={opened_in:.1f}", flush=True)


if __name__ == "__main__":
    asyncio.run(main())
