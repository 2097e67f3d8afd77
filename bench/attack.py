#!/usr/bin/env python3
"""The red team's attacks of issue 19, replayed against a release build.

Starts `target/release/lushan up` in a temporary directory (SQLite, loopback
only), runs each attack with bounded counts and times, and prints what the
server answered and what it cost. Every request goes to 127.0.0.x on this
machine. Usage: cargo build --release -p lushan && python3 bench/attack.py
"""

import http.client
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.join(ROOT, "target", "release", "lushan")


class Server:
    def __init__(self, work):
        self.work = work
        self.home = os.path.join(work, "home")
        os.makedirs(self.home)
        config = os.path.join(work, "lushan.toml")
        with open(config, "w") as f:
            f.write("run_jobs_as_server_user = true\nkill_wait_secs = 1\n")
        env = dict(os.environ, HOME=self.home)
        for name in ["LUSHAN_URL", "LUSHAN_TOKEN", "LUSHAN_DATABASE_URL", "LUSHAN_CLI_CONFIG"]:
            env.pop(name, None)
        self.env = env
        self.proc = subprocess.Popen(
            [BIN, "up", "--listen", "127.0.0.1:0", "--data", os.path.join(work, "data"), "--config", config],
            stdout=subprocess.PIPE, stderr=open(os.path.join(work, "server.log"), "w"), env=env, text=True)
        self.password = None
        for line in self.proc.stdout:
            shown = re.search(r"password:\s+(\S+)", line)
            if shown:
                self.password = shown.group(1)
            found = re.search(r"listening on http://([0-9.]+):([0-9]+)", line)
            if found:
                self.port = int(found.group(2))
                break
        with open(os.path.join(self.home, ".config/lushan/cli.toml")) as f:
            self.token = re.search(r'token = "([^"]+)"', f.read()).group(1)

    def rss_mib(self, field="VmRSS"):
        with open(f"/proc/{self.proc.pid}/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) / 1024
        return 0.0

    def cli(self, *args, stdin=""):
        return subprocess.run([BIN, *args], env=self.env, input=stdin, capture_output=True, text=True, cwd=self.work)

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=20)


def call(server, method, path, body=None, token=None, headers=None, source="127.0.0.1", timeout=30):
    """(status, parsed body or text, seconds)."""
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=timeout, source_address=(source, 0))
    all_headers = dict(headers or {})
    if token:
        all_headers["Authorization"] = f"Bearer {token}"
    data = None
    if body is not None:
        data = body if isinstance(body, (bytes, str)) else json.dumps(body)
        all_headers["Content-Type"] = "application/json"
    started = time.monotonic()
    try:
        conn.request(method, path, body=data, headers=all_headers)
        response = conn.getresponse()
        raw = response.read().decode("utf-8", "replace")
        status = response.status
    except Exception as err:  # a timeout is an answer here
        return (0, str(err), time.monotonic() - started)
    finally:
        conn.close()
    try:
        parsed = json.loads(raw) if raw else ""
    except ValueError:
        parsed = raw
    return (status, parsed, time.monotonic() - started)


def at_once(n, work):
    """Runs work(i) in n threads started together; returns the results."""
    results = [None] * n
    gate = threading.Barrier(n)

    def run(i):
        gate.wait()
        results[i] = work(i)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def counts(results):
    tally = {}
    for status, _, _ in results:
        tally[status] = tally.get(status, 0) + 1
    return dict(sorted(tally.items()))


def report(item, what, outcome):
    print(f"{item:>3}  {what:<58} {outcome}")


def main():
    if not os.path.exists(BIN):
        sys.exit(f"{BIN} is missing: cargo build --release -p lushan")
    work = tempfile.mkdtemp(prefix="lushan-attack-")
    server = Server(work)
    op = server.token
    try:
        print(f"lushan release build, SQLite, {os.cpu_count()} CPUs; server pid {server.proc.pid}")
        # A member with a project and money, as the red team had.
        call(server, "POST", "/api/v1/tenants", {"name": "jxu", "sector": "university"}, op)
        call(server, "POST", "/api/v1/users", {"name": "alice", "tenant": "jxu", "password": "alice-password"}, op)
        call(server, "POST", "/api/v1/projects", {"name": "cfd-lab", "tenant": "jxu", "pi": "alice"}, op)
        call(server, "POST", "/api/v1/tenants/jxu/wallet/top-ups", {"amount": "1000", "reference": "A-1"}, op)
        _, login, _ = call(server, "POST", "/api/v1/login", {"user": "alice", "password": "alice-password"})
        alice = login["token"]

        def job(options, script="#!/bin/sh\ntrue\n", **extra):
            body = {"script": script, "options": ["-A", "cfd-lab", *options], "submit_dir": work, "env": {"HOME": work}}
            body.update(extra)
            return body

        # 5. 500 concurrent logins with made-up names.
        before = server.rss_mib()
        started = time.monotonic()
        flood = at_once(500, lambda i: call(server, "POST", "/api/v1/login", {"user": f"nobody{i}", "password": "x" * 12},
                                            source=f"127.0.{1 + i // 250}.{2 + i % 250}"))
        report("5", "500 concurrent logins, made-up names (statuses)", counts(flood))
        report("", "  server memory before / peak / after (MiB)",
               f"{before:.0f} / {server.rss_mib('VmHWM'):.0f} / {server.rss_mib():.0f}  in {time.monotonic() - started:.1f} s")

        # 6. 60 simultaneous guesses at admin's password from one address.
        def guess(i):
            # As a patient attacker: a 503 (the server is busy checking) is retried.
            deadline = time.monotonic() + 20
            while True:
                answer = call(server, "POST", "/api/v1/login", {"user": "admin", "password": f"guess-{i}-xx"},
                              source="127.0.9.9")
                if answer[0] != 503 or time.monotonic() > deadline:
                    return answer
                time.sleep(0.05)

        guesses = at_once(60, guess)
        report("6", "60 simultaneous guesses at admin, 503s retried (401 = checked)", counts(guesses))
        # The operator signs in from an address that has not failed, not from the guesser's.
        real = {"user": "admin", "password": server.password}
        elsewhere = call(server, "POST", "/api/v1/login", real, source="127.0.9.10")
        guesser = call(server, "POST", "/api/v1/login", real, source="127.0.9.9")
        report("", "  admin's real password from another address / the guesser's",
               f"{elsewhere[0]} / {guesser[0]}")

        # 7. A huge top-up, then the wallet.
        huge = call(server, "POST", "/api/v1/tenants/jxu/wallet/top-ups",
                    {"amount": "92233720368547758.07", "reference": "HUGE"}, op)
        wallet = call(server, "GET", "/api/v1/tenants/jxu/wallet", token=op)
        credit = call(server, "PUT", "/api/v1/tenants/jxu/wallet/credit-limit", {"credit_limit": "92233720368547758.07"}, op)
        report("7", "top-up 92233720368547758.07 / wallet read / credit limit",
               f"{huge[0]} / {wallet[0]} balance {wallet[1].get('balance') if isinstance(wallet[1], dict) else '?'} / {credit[0]}")

        # 4. Arrays: the 100k one, and reads while a large one is stored.
        big = call(server, "POST", "/api/v1/jobs", job(["--hold", "--array=0-99999"]), alice)
        report("4", "a 100,000-task array", f"{big[0]} {str(big[1])[:80]}")
        submit_times = []
        read_times = []

        def submit_arrays():
            for _ in range(5):
                status, _, secs = call(server, "POST", "/api/v1/jobs", job(["--hold", "--array=0-1000"]), alice)
                submit_times.append((status, secs))

        writer = threading.Thread(target=submit_arrays)
        writer.start()
        while writer.is_alive():
            status, _, secs = call(server, "GET", "/api/v1/whoami", token=alice)
            read_times.append((status, secs))
        writer.join()
        ok = [s for st, s in submit_times if st == 201]
        report("", "  five 1001-task arrays: each stored in (ms)", " ".join(f"{s * 1000:.0f}" for s in ok))
        slowest = max(s for _, s in read_times) * 1000
        report("", "  whoami meanwhile: answers, statuses, slowest (ms)",
               f"{len(read_times)}, {counts([(st, 0, 0) for st, _ in read_times])}, {slowest:.0f}")

        # 9. NUL, long URLs, the Idempotency-Key header.
        nul = call(server, "POST", "/api/v1/jobs", job([], script="#!/bin/sh\necho a\u0000b\n"), alice)
        report("9", "a script with a NUL", f"{nul[0]} {nul[1]['error']['code'] if isinstance(nul[1], dict) else nul[1]}")
        long20 = call(server, "GET", "/api/v1/jobs?ids=" + ",".join(["1"] * 10_000), token=alice)
        long70 = call(server, "GET", "/api/v1/jobs?ids=" + ",".join(["1"] * 35_000), token=alice)
        report("", "a 20 KB URL / a 70 KB URL",
               f"{long20[0]} {'JSON' if isinstance(long20[1], dict) else 'not JSON'} / {long70[0]} "
               f"{'JSON' if isinstance(long70[1], dict) else 'empty body' if long70[1] == '' else 'text'}")
        keyed = [call(server, "POST", "/api/v1/jobs", job(["--hold"]), alice, headers={"Idempotency-Key": "attack-1"})
                 for _ in range(2)]
        report("", "two submissions with one Idempotency-Key header",
               f"{keyed[0][0]}, {keyed[1][0]}; same job: {keyed[0][1]['job']['job_id'] == keyed[1][1]['job']['job_id']}")

        # 1. A FIFO where a running job's output was.
        _, started_job, _ = call(server, "POST", "/api/v1/jobs", job(["-t", "2", "-o", "out-%j.txt"], script="#!/bin/sh\nsleep 60\n"), alice)
        job_id = started_job["job"]["job_id"]
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            _, shown, _ = call(server, "GET", f"/api/v1/jobs/{job_id}", token=alice)
            if shown["state"] == "RUNNING":
                break
            time.sleep(0.2)
        out = os.path.join(work, f"out-{job_id}.txt")
        os.remove(out)
        os.mkfifo(out)
        reads = at_once(4, lambda i: call(server, "GET", f"/api/v1/jobs/{job_id}/output", token=alice, timeout=10))
        other = call(server, "GET", "/api/v1/whoami", token=alice, timeout=10)
        report("1", "4 reads of a FIFO output: statuses, slowest (ms)",
               f"{counts(reads)}, {max(s for _, _, s in reads) * 1000:.0f}; whoami after: {other[0]} in {other[2] * 1000:.0f} ms")
        call(server, "POST", f"/api/v1/jobs/{job_id}/cancel", token=alice)

        # 8. A job whose output is a FIFO nobody reads.
        fifo = os.path.join(work, "fifo")
        os.mkfifo(fifo)
        _, stuck, _ = call(server, "POST", "/api/v1/jobs", job(["-t", "1", "-o", fifo], script="#!/bin/sh\necho hi\n"), alice)
        stuck_id = stuck["job"]["job_id"]
        started = time.monotonic()
        state = "?"
        while time.monotonic() - started < 30:
            _, shown, _ = call(server, "GET", f"/api/v1/jobs/{stuck_id}", token=alice)
            state = shown["state"]
            if state not in ("PENDING", "RUNNING"):
                break
            time.sleep(0.2)
        report("8", "a job with -o FIFO (no reader): ends as, after (s)", f"{state}, {time.monotonic() - started:.1f}")

        # 2. What another local user could read of a job's folder.
        folder = os.path.join(work, "data", "jobs", str(job_id))
        modes = {name: oct(os.stat(os.path.join(folder, name)).st_mode & 0o777)
                 for name in ["spec.json", "script"] if os.path.exists(os.path.join(folder, name))}
        report("2", "modes: DATA/jobs, a job's folder, its files",
               f"{oct(os.stat(os.path.join(work, 'data', 'jobs')).st_mode & 0o777)}, {oct(os.stat(folder).st_mode & 0o777)}, {modes}")

        # 3. /healthz.
        health = call(server, "GET", "/healthz")
        report("3", "/healthz", f"{health[0]} {health[1]}")
    finally:
        server.stop()
    print(f"(work directory: {work})")


if __name__ == "__main__":
    main()
