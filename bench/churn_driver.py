#!/usr/bin/env python3
"""The admin-API side of bench/churn.sh (see its header for what is measured and why).

  churn_driver.py populate ADMIN TOKEN POOL PORT...
      adds 127.0.0.1:PORT for every PORT (one keep-alive connection, one POST after another)
  churn_driver.py churn ADMIN TOKEN POOL SECONDS RATE CHURN_PORTS PROBE_PORTS PROBE_WEIGHT OUT
      for SECONDS: RATE adds/removes a second over CHURN_PORTS (comma-separated; about half of them
      in the pool at a time), plus a probe cycle every 300 ms on the next of PROBE_PORTS: POST it
      with PROBE_WEIGHT, PATCH it to drain 150 ms later, DELETE it 150 ms after that. Writes one
      JSON line per probe cycle to OUT ({"port", "post_sent", "post_answered", "drain_sent",
      "drain_answered", "delete_answered"}, wall-clock seconds), and a summary line to stdout:
      `CHURN ops=N errors=E late_ops=L` (errors: answers other than 201/200/202; late: ops
      started more than 50 ms behind their schedule). At the end, every churn and probe backend
      still in the pool is removed, so the pool is the static one again.
      With REG REG_TOKEN at the end, the adds/removes are registrations through the registration
      listener at REG instead (POST /register, then DELETE /register/{lease}: expected 201, 200);
      the probe cycles stay on the admin API.
  churn_driver.py renew REG TOKEN POOL TTL SECONDS CONNS READY FIRST_PORT COUNT
      registers 127.0.0.1:FIRST_PORT.. (COUNT ports) with lease TTL through the registration
      listener, writes `REGISTERED n errors` to READY, then renews every lease once a second
      (spread evenly over the second) over CONNS keep-alive connections, until SECONDS have passed
      or SIGTERM. Prints `RENEW ...`: renewals done and per second, failed renewals (any answer but
      200, or none), expired leases (404: re-registered), the longest gap between two answered
      renewals of a lease, the slowest answer, the answers other than 200 by status, and the seconds
      with fewer than 90% of COUNT renewals.
  churn_driver.py stallwatch SECONDS
      how late a 10 ms sleep wakes, at worst, and the machine's runnable tasks on average (STALL ...):
      whether the machine itself was too busy
  churn_driver.py analyze PROBES_JSONL PROBE_LOG WINDOWS
      the latencies of the probe cycles that ran under load (see analyze())
"""
import http.client
import json
import signal
import sys
import time


class Admin:
    def __init__(self, address, token):
        host, port = address.rsplit(":", 1)
        self.host, self.port, self.token = host, int(port), token
        self.connection = None

    def send(self, method, path, body=None):
        """Sends a request without waiting for its answer (finish() reads it): a few connections
        with one request each in flight let one process keep up with 1000 renewals a second."""
        try:
            if self.connection is None:
                self.connection = http.client.HTTPConnection(self.host, self.port, timeout=5)
            headers = {"Authorization": "Bearer " + self.token}
            data = None
            if body is not None:
                data = json.dumps(body)
                headers["Content-Type"] = "application/json"
            self.connection.request(method, path, body=data, headers=headers)
            return True
        except (OSError, http.client.HTTPException):
            self.connection = None
            return False

    def finish(self):
        """The answer to send()'s request: (status, parsed JSON body or None); status 0 if none."""
        try:
            response = self.connection.getresponse()
            data = response.read()
            try:
                return response.status, json.loads(data)
            except ValueError:
                return response.status, None
        except (OSError, http.client.HTTPException, AttributeError):
            self.connection = None
            return 0, None

    def call(self, method, path, body=None):
        for attempt in range(2):  # one reconnect: the server may have closed an idle connection
            try:
                if self.connection is None:
                    self.connection = http.client.HTTPConnection(self.host, self.port, timeout=5)
                headers = {"Authorization": "Bearer " + self.token}
                data = None
                if body is not None:
                    data = json.dumps(body)
                    headers["Content-Type"] = "application/json"
                self.connection.request(method, path, body=data, headers=headers)
                response = self.connection.getresponse()
                response.read()
                return response.status
            except (OSError, http.client.HTTPException):
                self.connection = None
                if attempt == 1:
                    return 0
        return 0


    def call_json(self, method, path, body=None):
        """call() that also returns the parsed answer: (status, body or None)."""
        for attempt in range(2):
            if self.send(method, path, body):
                status, answer = self.finish()
                if status != 0:
                    return status, answer
            if attempt == 1:
                break
        return 0, None


def populate(admin, pool, ports):
    errors = 0
    for port in ports:
        status = admin.call("POST", f"/api/pools/{pool}/backends", {"address": f"127.0.0.1:{port}"})
        errors += status != 201
    print(f"POPULATE added={len(ports) - errors} errors={errors}")
    return 0 if errors == 0 else 1


def churn(admin, pool, seconds, rate, churn_ports, probe_ports, probe_weight, out_path, registrar=None):
    path = f"/api/pools/{pool}/backends"
    leases = {}  # port -> lease, when the churn goes through registrations

    def add(port):
        if registrar is None:
            return admin.call("POST", path, {"address": f"127.0.0.1:{port}"}), 201
        status, answer = registrar.call_json("POST", "/register", {"pool": pool, "address": f"127.0.0.1:{port}"})
        if status == 201 and answer and "lease" in answer:
            leases[port] = answer["lease"]
        return status, 201

    def remove(port):
        if registrar is None:
            return admin.call("DELETE", f"{path}/127.0.0.1:{port}"), 202
        lease = leases.pop(port, None)
        if lease is None:
            return 0, 200  # its registration failed (counted then): an error again
        return registrar.call_json("DELETE", f"/register/{lease}")[0], 200
    present, absent = [], list(churn_ports)
    target = len(churn_ports) // 2
    ops = errors = late = 0
    probes, cycle, probe_index = [], None, 0
    start = time.time()
    end = start + seconds
    next_op = start
    next_probe = start + 0.2
    interval = 1.0 / rate

    def counted(status, expected):
        nonlocal ops, errors
        ops += 1
        if status != expected:
            errors += 1
        return status

    while True:
        now = time.time()
        if now >= end and cycle is None:
            break
        # The probe cycle: POST, then drain, then DELETE, 150 ms apart.
        if cycle is not None and now >= cycle["due"]:
            port = cycle["port"]
            if cycle["step"] == "drain":
                cycle["drain_sent"] = time.time()
                counted(admin.call("PATCH", f"{path}/127.0.0.1:{port}", {"state": "drain"}), 200)
                cycle["drain_answered"] = time.time()
                cycle["step"], cycle["due"] = "delete", cycle["drain_answered"] + 0.15
            else:
                counted(admin.call("DELETE", f"{path}/127.0.0.1:{port}"), 202)
                cycle["delete_answered"] = time.time()
                probes.append({k: v for k, v in cycle.items() if k not in ("step", "due")})
                cycle = None
            continue
        if cycle is None and now >= next_probe and now < end:
            port = probe_ports[probe_index % len(probe_ports)]
            probe_index += 1
            cycle = {"port": port, "post_sent": time.time()}
            counted(admin.call("POST", path, {"address": f"127.0.0.1:{port}", "weight": probe_weight}), 201)
            cycle["post_answered"] = time.time()
            cycle["step"], cycle["due"] = "drain", cycle["post_answered"] + 0.15
            next_probe = now + 0.3
            continue
        # The churn: one add or remove per interval.
        if now >= next_op and now < end:
            if now - next_op > 0.05:
                late += 1
            if len(present) < target or not present:
                port = absent.pop(0)
                counted(*add(port))
                present.append(port)
            else:
                port = present.pop(0)
                counted(*remove(port))
                absent.append(port)  # re-added about a second later, once it has left
            next_op += interval
            continue
        time.sleep(0.001)

    for port in present:
        counted(*remove(port))
    with open(out_path, "a") as out:
        for probe in probes:
            out.write(json.dumps(probe) + "\n")
    print(f"CHURN ops={ops} errors={errors} late_ops={late} seconds={time.time() - start:.2f}")
    return 0


def renew(registrar_address, token, pool, ttl, seconds, conns, ready_path, first_port, count):
    """Registers COUNT backends, then renews each lease once a second until SECONDS or SIGTERM.
    Lease i is due at start + i/COUNT + k seconds; due renewals go out one per connection, CONNS at a
    time, before any answer is read."""
    stop = False

    def on_term(signum, frame):
        nonlocal stop
        stop = True

    signal.signal(signal.SIGTERM, on_term)
    clients = [Admin(registrar_address, token) for _ in range(conns)]
    ports = list(range(first_port, first_port + count))
    leases = [None] * count
    last = [0.0] * count  # when each lease's latest registration or renewal was answered
    failed = expired = register_errors = 0

    def register(indexes):
        """POSTs /register for each index, CONNS at a time; returns how many failed."""
        errors = 0
        for at in range(0, len(indexes), conns):
            batch = indexes[at:at + conns]
            sent = [clients[k].send("POST", "/register", {"pool": pool, "address": f"127.0.0.1:{ports[i]}", "ttl": ttl})
                    for k, i in enumerate(batch)]
            for k, i in enumerate(batch):
                status, answer = clients[k].finish() if sent[k] else (0, None)
                if status in (200, 201) and answer and "lease" in answer:
                    leases[i], last[i] = answer["lease"], time.time()
                else:
                    errors += 1
        return errors

    register_errors = register(list(range(count)))
    with open(ready_path, "w") as ready:
        ready.write(f"REGISTERED {count - register_errors} {register_errors}\n")
    start = time.time()
    end = start + seconds
    done = 0
    next_index = 0  # renewals scheduled so far: lease next_index % count is due at start + next_index / count
    per_second = {}
    max_gap = 0.0
    late = 0  # renewals sent more than 100 ms after they were due
    max_answer = 0.0  # the slowest answer to a batch of renewals
    statuses = {}  # answers other than 200 (0: none, the connection failed or timed out)
    while not stop and time.time() < end:
        now = time.time()
        due = []
        while len(due) < conns and start + (next_index + 1) / count <= now:
            due.append(next_index)
            next_index += 1
        if not due:
            time.sleep(min(0.001, max(0.0, start + (next_index + 1) / count - now)))
            continue
        late += sum(1 for n in due if now - (start + (n + 1) / count) > 0.1)
        batch = [n % count for n in due]
        lost = [i for i in batch if leases[i] is None]
        if lost:  # a lease that expired and could not be registered again yet: retry, not a renewal
            register_errors += register(lost)
        batch = [i for i in batch if leases[i] is not None]
        sent_at = time.time()
        sent = [clients[k].send("PUT", f"/register/{leases[i]}") for k, i in enumerate(batch)]
        for k, i in enumerate(batch):
            status, _ = clients[k].finish() if sent[k] else (0, None)
            answered = time.time()
            max_answer = max(max_answer, answered - sent_at)
            if status == 200:
                done += 1
                second = int(answered - start)
                per_second[second] = per_second.get(second, 0) + 1
                if last[i] >= start:  # renewal to renewal; the first follows the registrations
                    max_gap = max(max_gap, answered - last[i])
                last[i] = answered
            else:
                statuses[status] = statuses.get(status, 0) + 1
                if status == 404:
                    expired += 1  # lapsed: register again so that the pool stays whole
                    leases[i] = None
                    register_errors += register([i])
                else:
                    failed += 1
    elapsed = time.time() - start
    full = [per_second.get(s, 0) for s in range(int(elapsed))] or [0]
    slow = ",".join(f"{s}:{n}" for s, n in enumerate(full) if n < 0.9 * count) or "none"
    print(f"RENEW started={time.strftime('%H:%M:%S', time.gmtime(start))} registered={count} register_errors={register_errors} renewals={done} "
          f"seconds={elapsed:.1f} per_s={done / elapsed if elapsed > 0 else 0:.0f} min_per_s={min(full)} "
          f"failed={failed} expired={expired} late={late} max_gap_ms={max_gap * 1000:.0f} "
          f"max_answer_ms={max_answer * 1000:.0f} statuses={json.dumps(statuses, separators=(',', ':'))} "
          f"slow_seconds={slow}", flush=True)
    return 0 if failed == 0 and expired == 0 and register_errors == 0 else 1


def procs_running():
    try:
        with open("/proc/stat") as stat:
            for line in stat:
                if line.startswith("procs_running "):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def stallwatch(seconds):
    """Sleeps 10 ms at a time for SECONDS (or until SIGTERM) and reports how late it woke at worst,
    and how many tasks were runnable on the machine on average (/proc/stat procs_running, itself
    included): a witness that tells a machine too busy to schedule anyone from a slow Fulcrum."""
    stop = False

    def on_term(signum, frame):
        nonlocal stop
        stop = True

    signal.signal(signal.SIGTERM, on_term)
    start = time.time()
    worst, over100, worst_at = 0.0, 0, 0.0
    running, samples = 0, 0
    while not stop and time.time() - start < seconds:
        before = time.time()
        time.sleep(0.01)
        late = time.time() - before - 0.01
        if late > worst:
            worst, worst_at = late, before - start
        over100 += late > 0.1
        running += procs_running()
        samples += 1
    print(f"STALL max_oversleep_ms={worst * 1000:.0f} at_s={worst_at:.1f} over_100ms={over100} "
          f"runnable_avg={running / max(1, samples):.1f}", flush=True)
    return 0


def percentile(values, fraction):
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def analyze(probes_path, log_path, windows_path):
    """Per probe cycle that ran entirely under load (inside a `start end` line of WINDOWS, 0.2 s
    from either edge: wrk's run), from nginx's log of the probe ports (`port msec request_time`):
    add = first request's start - POST answered (at least one worker acted),
    drain = last request's start - PATCH answered (every worker acted), both clamped at 0: a
    worker that acted before the client had read the answer acted in no time."""
    starts = {}
    with open(log_path) as log:
        for line in log:
            fields = line.split()
            if len(fields) != 3:
                continue
            port, msec, request_time = int(fields[0]), float(fields[1]), float(fields[2])
            starts.setdefault(port, []).append(msec - request_time)
    with open(windows_path) as windows:
        loaded = [tuple(float(x) for x in line.split()) for line in windows if len(line.split()) == 2]
    adds, drains, unserved = [], [], 0
    with open(probes_path) as probes:
        for line in probes:
            cycle = json.loads(line)
            if not any(start + 0.2 <= cycle["post_sent"] and cycle["delete_answered"] <= end - 0.2
                       for start, end in loaded):
                continue
            window = [t for t in starts.get(cycle["port"], [])
                      if cycle["post_sent"] - 0.002 <= t <= cycle["delete_answered"] + 1.0]
            before_drain = [t for t in window if t <= cycle["drain_answered"]]
            if not before_drain:
                unserved += 1
                continue
            adds.append(max(0.0, min(window) - cycle["post_answered"]) * 1000)
            drains.append(max(0.0, max(window) - cycle["drain_answered"]) * 1000)
    print(f"PROBES cycles={len(adds) + unserved} unserved={unserved} "
          f"add_p50_ms={percentile(adds, 0.5):.1f} add_p99_ms={percentile(adds, 0.99):.1f} "
          f"add_max_ms={max(adds, default=float('nan')):.1f} "
          f"drain_p50_ms={percentile(drains, 0.5):.1f} drain_p99_ms={percentile(drains, 0.99):.1f} "
          f"drain_max_ms={max(drains, default=float('nan')):.1f}")
    return 0


def main(argv):
    if len(argv) == 5 and argv[1] == "analyze":
        return analyze(argv[2], argv[3], argv[4])
    if len(argv) >= 5 and argv[1] == "populate":
        return populate(Admin(argv[2], argv[3]), argv[4], argv[5:])
    if len(argv) in (11, 13) and argv[1] == "churn":
        _, _, address, token, pool, seconds, rate, churn_ports, probe_ports, probe_weight, out = argv[:11]
        registrar = Admin(argv[11], argv[12]) if len(argv) == 13 else None
        return churn(Admin(address, token), pool, float(seconds), float(rate),
                     [int(p) for p in churn_ports.split(",")], [int(p) for p in probe_ports.split(",")],
                     int(probe_weight), out, registrar)
    if len(argv) == 3 and argv[1] == "stallwatch":
        return stallwatch(float(argv[2]))
    if len(argv) == 11 and argv[1] == "renew":
        _, _, address, token, pool, ttl, seconds, conns, ready, first_port, count = argv
        return renew(address, token, pool, ttl, float(seconds), int(conns), ready, int(first_port), int(count))
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
