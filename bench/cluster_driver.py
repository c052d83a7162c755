#!/usr/bin/env python3
"""The cluster benchmark's driver (bench/cluster.sh).

  cluster_driver.py run --registration H:P,... --admin H:P,... --token T --reg-token T
                        --n 500 --rate 50 --seconds S --pool reg

registers N backends in pool `reg` spread over the instances' registration listeners and renews
each once a second (spread evenly over the second) through them in turn, while RATE weight changes
a second go to the instances' admin APIs in turn. Every instance's event stream
(/api/events?kinds=backend_weight) is read; a change's propagation is the time from its answer
until the last instance emitted its `backend_weight` (clamped at 0: the instance that answered
emits before answering). Prints one summary line:
  changes=N answered_errors=E missing=M p50_ms=.. p99_ms=.. max_ms=.. renewals=R renew_errors=F
"""
import argparse
import http.client
import json
import socket
import sys
import threading
import time


def conn(address):
    host, port = address.rsplit(":", 1)
    return http.client.HTTPConnection(host, int(port), timeout=5)


def call(connection, method, path, body, token):
    headers = {"Authorization": "Bearer " + token}
    data = None
    if body is not None:
        data = json.dumps(body)
        headers["Content-Type"] = "application/json"
    connection.request(method, path, body=data, headers=headers)
    response = connection.getresponse()
    return response.status, response.read()


def read_stream(address, token, seen, lock, stop):
    """Records (address, weight) -> arrival time of each backend_weight event (SSE over a raw socket)."""
    host, port = address.rsplit(":", 1)
    sock = socket.create_connection((host, int(port)), timeout=5)
    sock.sendall(("GET /api/events?kinds=backend_weight HTTP/1.1\r\nHost: fulcrum\r\n"
                  "Authorization: Bearer %s\r\nAccept: text/event-stream\r\n\r\n" % token).encode())
    sock.settimeout(0.5)
    buffer = b""
    while not stop.is_set():
        try:
            chunk = sock.recv(65536)
        except socket.timeout:
            continue
        if not chunk:
            break
        now = time.monotonic()
        buffer += chunk
        while b"\n\n" in buffer:
            message, buffer = buffer.split(b"\n\n", 1)
            for line in message.split(b"\n"):
                line = line.strip(b"\r")
                if line.startswith(b"data:"):
                    try:
                        event = json.loads(line[5:])
                    except ValueError:
                        continue
                    key = (event.get("backend"), event.get("to"))
                    with lock:
                        seen.setdefault(key, {})[address] = now
    sock.close()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("command")
    parser.add_argument("--registration", required=True)
    parser.add_argument("--admin", required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--reg-token", required=True)
    parser.add_argument("--n", type=int, default=500)
    parser.add_argument("--rate", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--quiet-seconds", type=float, default=0,
                        help="the first changes, made before any client load starts, reported apart")
    parser.add_argument("--pool", default="reg")
    parser.add_argument("--base-port", type=int, default=40000)
    parser.add_argument("--trace", default="",
                        help="write one JSON line per change (origin instance, delay at each instance) to this file")
    args = parser.parse_args()
    registrations = args.registration.split(",")
    admins = args.admin.split(",")

    stop = threading.Event()
    seen, lock = {}, threading.Lock()
    readers = [threading.Thread(target=read_stream, args=(a, args.token, seen, lock, stop), daemon=True) for a in admins]
    for reader in readers:
        reader.start()
    time.sleep(0.5)

    # Register.
    leases = []
    reg_conns = [conn(a) for a in registrations]
    for i in range(args.n):
        address = "127.0.0.1:%d" % (args.base_port + i)
        status, body = call(reg_conns[i % len(reg_conns)], "POST", "/register",
                            {"pool": args.pool, "address": address, "ttl": "5s"}, args.reg_token)
        if status not in (200, 201):
            print("registration failed: %d %s" % (status, body[:200]), file=sys.stderr)
            return 1
        leases.append(json.loads(body)["lease"])

    counters = {"renewals": 0, "renew_errors": 0}

    def renew():
        connections = [conn(a) for a in registrations]
        start = time.monotonic()
        i = 0
        while not stop.is_set():
            due = start + i / max(1, args.n)  # each lease once a second
            delay = due - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            lease = leases[i % args.n]
            c = connections[i % len(connections)]
            try:
                status, _ = call(c, "PUT", "/register/" + lease, None, args.reg_token)
                counters["renewals"] += 1
                if status != 200:
                    counters["renew_errors"] += 1
            except Exception:
                counters["renew_errors"] += 1
                connections[i % len(connections)] = conn(registrations[i % len(connections)])
            i += 1

    renewer = threading.Thread(target=renew, daemon=True)
    renewer.start()

    # Changes: weight of backend i set to a fresh value, at the instances in turn.
    admin_conns = [conn(a) for a in admins]
    answered = []  # (key, answer time)
    errors = 0
    deadline = time.monotonic() + args.seconds
    quiet_until = time.monotonic() + args.quiet_seconds
    k = 0
    while time.monotonic() < deadline:
        due = deadline - args.seconds + k / args.rate
        delay = due - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        address = "127.0.0.1:%d" % (args.base_port + k % args.n)
        weight = 2 + k  # never repeats: each change is one event per instance
        status, _ = call(admin_conns[k % len(admin_conns)], "PATCH", "/api/pools/%s/backends/%s" % (args.pool, address),
                         {"weight": weight}, args.token)
        if status == 200:
            answered.append(((address, weight), time.monotonic()))
        else:
            errors += 1
        k += 1
    time.sleep(1.0)
    stop.set()
    delays, quiet, missing = [], [], 0
    with lock:
        for key, at in answered:
            arrivals = seen.get(key, {})
            if len(arrivals) < len(admins):
                missing += 1
                continue
            delay = max(0.0, max(arrivals.values()) - at) * 1000
            delays.append(delay)
            if at < quiet_until:
                quiet.append(delay)
    if args.trace:
        with open(args.trace, "w") as out, lock:
            for n, (key, at) in enumerate(answered):
                arrivals = seen.get(key, {})
                out.write(json.dumps({"change": n, "at_s": round(at - (deadline - args.seconds), 3),
                                      "origin": admins[n % len(admins)] if errors == 0 else None,
                                      "delay_ms": {a: round((t - at) * 1000, 1) for a, t in arrivals.items()}}) + "\n")
    delays.sort()
    quiet.sort()

    def pct(values, p):
        return values[min(len(values) - 1, int(len(values) * p))] if values else float("nan")

    print("changes=%d answered_errors=%d missing=%d p50_ms=%.1f p99_ms=%.1f max_ms=%.1f renewals=%d renew_errors=%d "
          "quiet_changes=%d quiet_p50_ms=%.1f quiet_p99_ms=%.1f" % (
              len(answered), errors, missing, pct(delays, 0.5), pct(delays, 0.99), delays[-1] if delays else float("nan"),
              counters["renewals"], counters["renew_errors"], len(quiet), pct(quiet, 0.5), pct(quiet, 0.99)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
