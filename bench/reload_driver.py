#!/usr/bin/env python3
"""The reloading side of bench/reload.sh (see its header for what is measured and why).

  reload_driver.py reload VIA PID CONFIG SECONDS RATE FILE_A FILE_B [ADMIN TOKEN]
      for SECONDS, RATE times a second on a fixed schedule: installs the other of FILE_A / FILE_B
      as CONFIG (copied beside it, then renamed over it, so the reader never sees half a file; the
      first reload installs FILE_B, so an even count ends on FILE_A) and asks PID to reload it:
        sighup   kill -HUP PID (Fulcrum)
        api      POST /api/reload on ADMIN with the token (Fulcrum; synchronous: the answer must be
                 200 with "reloaded": true, anything else is a failed reload)
        both     sighup and api in turn
        sigusr2  kill -USR2 PID (the master of `haproxy -W`)
      With sigusr2, also samples after each reload how many processes PID and its children are
      (HAProxy's master and its workers, old ones included). Prints one line:
      `RELOAD asked=N api_ok=N api_failed=N late=N max_procs=N procs_end=N first_error=...`
      (late: reloads asked more than 50 ms behind their schedule; first_error: the first failed
      API answer, for the log).
  reload_driver.py haproxy-procs MASTER_SOCKET
      `show proc` on HAProxy's master CLI: prints `HAPROXY reloads=N workers=N old_workers=N`.
"""
import http.client
import json
import os
import shutil
import signal
import socket
import sys
import time


def procs(pid):
    """PID and its children (HAProxy's master and its workers, old ones included). Read from
    /proc/PID/task/PID/children: cheap, where scanning every /proc/*/stat of a busy machine costs
    tens of milliseconds of CPU per sample, taken from the proxies under test."""
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return 1 + len(f.read().split())
    except OSError:
        return 0


def install(source, config):
    tmp = config + ".next"
    shutil.copyfile(source, tmp)
    os.replace(tmp, config)


class Admin:
    def __init__(self, address, token):
        host, port = address.rsplit(":", 1)
        self.host, self.port, self.token = host, int(port), token
        self.connection = None

    def reload(self):
        """POST /api/reload: (True, "") when the answer is 200 with "reloaded": true."""
        try:
            if self.connection is None:
                self.connection = http.client.HTTPConnection(self.host, self.port, timeout=5)
            self.connection.request("POST", "/api/reload", headers={"Authorization": "Bearer " + self.token})
            response = self.connection.getresponse()
            body = response.read().decode("utf-8", "replace")
        except (OSError, http.client.HTTPException) as e:
            self.connection = None
            return False, f"no answer: {e!r}"
        try:
            ok = response.status == 200 and json.loads(body).get("reloaded") is True
        except ValueError:
            ok = False
        return ok, "" if ok else f"{response.status} {body.strip()[:300]}"


def reload(via, pid, config, seconds, rate, files, admin):
    asked = api_ok = api_failed = late = max_procs = 0
    first_error = ""
    start = time.monotonic()
    count = int(seconds * rate)
    for i in range(count):
        due = start + i / rate
        now = time.monotonic()
        if due > now:
            time.sleep(due - now)
        elif now - due > 0.05:
            late += 1
        install(files[(i + 1) % 2], config)
        how = via if via != "both" else ("sighup" if i % 2 == 0 else "api")
        if how == "api":
            ok, error = admin.reload()
            if ok:
                api_ok += 1
            else:
                api_failed += 1
                first_error = first_error or error
        else:
            os.kill(pid, signal.SIGUSR2 if how == "sigusr2" else signal.SIGHUP)
        asked += 1
        if how == "sigusr2":
            max_procs = max(max_procs, procs(pid))
    procs_end = procs(pid)
    print(f"RELOAD asked={asked} api_ok={api_ok} api_failed={api_failed} late={late} "
          f"max_procs={max(max_procs, procs_end)} procs_end={procs_end} first_error={json.dumps(first_error)}",
          flush=True)
    return 0


def haproxy_procs(path):
    """`show proc` on the master CLI: the master line carries its reload count, then the current
    worker(s) under "# workers" and the ones still draining under "# old workers"."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(5)
        s.connect(path)
        s.sendall(b"show proc\n")
        data = b""
        while not data.endswith(b"\n\n"):  # the CLI ends an answer with an empty line, and stays open
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    reloads, section, counts = "?", "", {"workers": 0, "old workers": 0}
    for line in data.decode("utf-8", "replace").splitlines():
        if line.startswith("#"):
            section = line.lstrip("# ").strip()
            continue
        fields = line.split()
        if len(fields) >= 3 and fields[1] == "master":
            reloads = fields[2]
        elif len(fields) >= 2 and fields[1] == "worker" and section in counts:
            counts[section] += 1
    print(f"HAPROXY reloads={reloads} workers={counts['workers']} old_workers={counts['old workers']}", flush=True)
    return 0


def main(argv):
    if len(argv) in (9, 11) and argv[1] == "reload":
        _, _, via, pid, config, seconds, rate, file_a, file_b = argv[:9]
        if via not in ("sighup", "api", "both", "sigusr2"):
            print(f"unknown VIA {via!r}", file=sys.stderr)
            return 2
        admin = Admin(argv[9], argv[10]) if len(argv) == 11 else None
        if via in ("api", "both") and admin is None:
            print("VIA api needs ADMIN TOKEN", file=sys.stderr)
            return 2
        return reload(via, int(pid), config, float(seconds), float(rate), (file_a, file_b), admin)
    if len(argv) == 3 and argv[1] == "haproxy-procs":
        return haproxy_procs(argv[2])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
