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
  churn_driver.py analyze PROBES_JSONL PROBE_LOG WINDOWS
      the latencies of the probe cycles that ran under load (see analyze())
"""
import http.client
import json
import sys
import time


class Admin:
    def __init__(self, address, token):
        host, port = address.rsplit(":", 1)
        self.host, self.port, self.token = host, int(port), token
        self.connection = None

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


def populate(admin, pool, ports):
    errors = 0
    for port in ports:
        status = admin.call("POST", f"/api/pools/{pool}/backends", {"address": f"127.0.0.1:{port}"})
        errors += status != 201
    print(f"POPULATE added={len(ports) - errors} errors={errors}")
    return 0 if errors == 0 else 1


def churn(admin, pool, seconds, rate, churn_ports, probe_ports, probe_weight, out_path):
    path = f"/api/pools/{pool}/backends"
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
                counted(admin.call("POST", path, {"address": f"127.0.0.1:{port}"}), 201)
                present.append(port)
            else:
                port = present.pop(0)
                counted(admin.call("DELETE", f"{path}/127.0.0.1:{port}"), 202)
                absent.append(port)  # re-added about a second later, once it has left
            next_op += interval
            continue
        time.sleep(0.001)

    for port in present:
        counted(admin.call("DELETE", f"{path}/127.0.0.1:{port}"), 202)
    with open(out_path, "a") as out:
        for probe in probes:
            out.write(json.dumps(probe) + "\n")
    print(f"CHURN ops={ops} errors={errors} late_ops={late} seconds={time.time() - start:.2f}")
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
    if len(argv) == 11 and argv[1] == "churn":
        _, _, address, token, pool, seconds, rate, churn_ports, probe_ports, probe_weight, out = argv
        return churn(Admin(address, token), pool, float(seconds), float(rate),
                     [int(p) for p in churn_ports.split(",")], [int(p) for p in probe_ports.split(",")],
                     int(probe_weight), out)
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
