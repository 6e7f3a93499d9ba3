"""A fedhubd of its own for a test: development certificates, a fresh data directory, a port
the kernel picks. Standard library only.

Thread-safety: a DevHub is used from one thread; its stdout reader thread only feeds a queue.
"""

import os
import queue
import signal
import subprocess
import threading
import time
from pathlib import Path

# fedhubd prints this once it accepts calls, after it has written the port file.
READY_MARKER = " listening on "


class HubError(Exception):
    """fedhubctl or fedhubd did not do what the test needs; the message says what happened."""


def _child_env():
    # FEDHUB_* variables would change the binaries' defaults behind the test's back.
    return {k: v for k, v in os.environ.items() if not k.startswith("FEDHUB_")}


class DevHub:
    """Owns one fedhubd process and the directory holding its certificates, data and log."""

    def __init__(self, fedhubd, fedhubctl, workdir):
        self._fedhubd = fedhubd
        self._fedhubctl = fedhubctl
        self.workdir = Path(workdir)
        self.certs = self.workdir / "certs"
        self.log_path = self.workdir / "fedhubd.log"
        self._process = None
        self._stdout_lines = queue.Queue()
        self.endpoint = None

    def make_certs(self, platforms, timeout=30):
        """Runs `fedhubctl dev-certs`: a CA, the hub, operator, auditor and these platforms."""
        argv = [self._fedhubctl, "dev-certs", "--out", str(self.certs)]
        for platform in platforms:
            argv += ["--platform", platform]
        run = subprocess.run(argv, env=_child_env(), stdin=subprocess.DEVNULL, capture_output=True,
                             text=True, timeout=timeout, check=False)
        if run.returncode != 0:
            raise HubError(f"{' '.join(argv)} exited {run.returncode}\n"
                           f"stdout:\n{run.stdout}\nstderr:\n{run.stderr}")
        for principal in ["operator", *platforms]:
            if not (self.certs / f"{principal}.crt").exists():
                raise HubError(f"fedhubctl dev-certs wrote no certificate for {principal} in "
                               f"{self.certs}")

    def credentials(self, principal):
        """(CA bundle, certificate chain, private key) PEM bytes for `principal`."""
        def read(name):
            return (self.certs / name).read_bytes()
        return read("ca.crt"), read(f"{principal}.crt"), read(f"{principal}.key")

    def start(self, timeout=30):
        """Starts fedhubd on 127.0.0.1:0 and returns once it accepts calls."""
        port_file = self.workdir / "port"
        argv = [self._fedhubd, "--listen", "127.0.0.1:0", "--metrics-listen", "",
                "--data-dir", str(self.workdir / "data"),
                "--signing-key", str(self.workdir / "signing.key"),
                "--tls-cert", str(self.certs / "hub.crt"), "--tls-key", str(self.certs / "hub.key"),
                "--tls-ca", str(self.certs / "ca.crt"), "--port-file", str(port_file),
                "--max-threads", "16"]
        with open(self.log_path, "wb") as log:
            self._process = subprocess.Popen(argv, env=_child_env(), stdin=subprocess.DEVNULL,
                                             stdout=subprocess.PIPE, stderr=log)
        threading.Thread(target=self._read_stdout, name="fedhubd-stdout", daemon=True).start()

        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise HubError(f"fedhubd printed no '{READY_MARKER.strip()}' line within "
                               f"{timeout}s\n{self.log_tail()}")
            try:
                line = self._stdout_lines.get(timeout=remaining)
            except queue.Empty:
                continue
            if line is None:
                code = self._process.wait(timeout=timeout)
                raise HubError(f"fedhubd exited {code} before listening\n{self.log_tail()}")
            if READY_MARKER in line:
                break
        port = port_file.read_text().split("\n", 1)[0].strip()
        if not port.isdigit() or int(port) == 0:
            raise HubError(f"port file {port_file} does not start with a port: {port!r}")
        self.endpoint = f"127.0.0.1:{port}"

    def _read_stdout(self):
        # Keeps the pipe drained for the hub's whole life; None marks its end.
        for raw in self._process.stdout:
            self._stdout_lines.put(raw.decode("utf-8", "replace").rstrip("\n"))
        self._stdout_lines.put(None)

    def stop(self, sig=signal.SIGTERM, timeout=20):
        """Sends `sig` and returns the exit code; kills the hub if it outlives `timeout`."""
        if self._process is None:
            return None
        process, self._process = self._process, None
        process.send_signal(sig)
        try:
            return process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=timeout)
            raise HubError(f"fedhubd was still running {timeout}s after signal {int(sig)}; killed "
                           f"it\n{self.log_tail()}") from None

    def kill(self):
        """Ends the hub however it is doing; for clean-up after a failure."""
        if self._process is not None:
            self._process.kill()
            self._process.wait(timeout=20)
            self._process = None

    def log_tail(self, lines=40):
        try:
            text = self.log_path.read_text(errors="replace").splitlines()
        except OSError as e:
            return f"(no fedhubd log: {e})"
        return "fedhubd log (last lines):\n" + "\n".join(text[-lines:])
