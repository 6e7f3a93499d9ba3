#!/usr/bin/env python3
"""Interop test: a Python client speaks the stream contract to the built fedhubd.

Starts fedhubd on a port the kernel picks with certificates from `fedhubctl dev-certs`,
registers three platforms as the bootstrap operator, then drives ConsentService,
CatalogueService and StreamService over mutual TLS (see stream_scenario.py). Exits 0 when
every expectation held; otherwise prints what failed, what the streams brought and the end of
the hub's log, keeps the working directory, and exits 1.

Usage: stream_interop_test.py --fedhubd PATH --fedhubctl PATH --stubs DIR
"""

import argparse
import importlib
import shutil
import signal
import sys
import tempfile
import time
import traceback

from dev_hub import DevHub, HubError

INSTALL_HINT = ("install Debian's python3-grpcio and python3-protobuf (scripts/install-deps.sh "
                "does), or configure with -DFEDHUB_INTEROP_PYTHON=<a python3 that has them>")


def log(text):
    print(f"interop: {text}", flush=True)


def load_scenario(stubs):
    """Imports the gRPC runtime and the generated stubs; exits 1 naming what is missing."""
    try:
        for module in ("grpc", "google.protobuf"):
            importlib.import_module(module)
    except ImportError as e:
        sys.exit(f"interop_python_stream: {sys.executable} cannot import {e.name}; {INSTALL_HINT}")
    sys.path.insert(0, stubs)
    try:
        import stream_scenario
    except ImportError as e:
        sys.exit(f"interop_python_stream: cannot import the Python stubs from {stubs} ({e}); "
                 f"build them with `ninja interop_python`")
    return stream_scenario


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--fedhubd", required=True, help="the built fedhubd binary")
    parser.add_argument("--fedhubctl", required=True, help="the built fedhubctl binary")
    parser.add_argument("--stubs", required=True, help="directory of the generated fedhub/v1 stubs")
    args = parser.parse_args()
    scenario_module = load_scenario(args.stubs)

    started = time.monotonic()
    workdir = tempfile.mkdtemp(prefix="fedhub-interop-")
    hub = DevHub(args.fedhubd, args.fedhubctl, workdir)
    scenario = None
    try:
        log(f"certificates and fedhubd in {workdir}")
        hub.make_certs(scenario_module.StreamScenario.PLATFORMS)
        hub.start()
        log(f"fedhubd listens on {hub.endpoint}")
        scenario = scenario_module.StreamScenario(hub)
        scenario.run(log)
        scenario.close()
        scenario = None
        code = hub.stop(signal.SIGTERM)
        if code != 0:
            raise HubError(f"fedhubd exited {code} after SIGTERM, expected 0\n{hub.log_tail()}")
    except Exception as e:  # noqa: BLE001 -- any failure gets the same report
        expected = isinstance(e, (scenario_module.Failure, HubError))
        report_failure(e if expected else traceback.format_exc(), scenario, hub, workdir)
        return 1
    finally:
        if scenario is not None:
            scenario.close()
        hub.kill()
    shutil.rmtree(workdir, ignore_errors=True)
    log(f"passed in {time.monotonic() - started:.1f}s")
    return 0


def report_failure(error, scenario, hub, workdir):
    print(f"FAILED: {error}", file=sys.stderr)
    if scenario is not None:
        print("What the streams brought:\n" + scenario.dump(), file=sys.stderr)
    print(hub.log_tail(), file=sys.stderr)
    print(f"Certificates, data and log kept in {workdir}", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
