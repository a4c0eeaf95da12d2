#!/usr/bin/env python3
"""Samples the bytes each lab path delivers, for throughput over time that does not depend on
the programs under test (mpfetch, curl, wget alike).

Runs inside a lab namespace (`mplab.sh exec cli lab/path_sampler.py OUT path-a path-b`) and
every INTERVAL appends one line to OUT: the wall-clock time (seconds since the epoch, so it lines
up with the times a script writes with `date +%s.%N`) and each interface's received bytes.
A blackholed path's packets are dropped before they reach these counters (mplab.sh drops
them on the sending side), so a count that stops moving means the path delivers nothing.

Stops on SIGTERM/SIGINT, or after --max-seconds (bounded, like every loop in the lab).
"""
import argparse
import signal
import sys
import time


def read_counter(device):
    with open(f"/sys/class/net/{device}/statistics/rx_bytes") as f:
        return int(f.read())


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("output")
    parser.add_argument("devices", nargs="+")
    parser.add_argument("--interval", type=float, default=0.05, help="seconds (default 0.05)")
    parser.add_argument("--max-seconds", type=float, default=900, help="stop after (default 900)")
    args = parser.parse_args()
    if not 0.005 <= args.interval <= 10:
        parser.error("--interval must be between 0.005 and 10 seconds")
    for device in args.devices:
        try:
            read_counter(device)
        except OSError as e:
            sys.exit(f"path_sampler: no counters for {device}: {e.strerror}")

    stop = False

    def on_signal(_signum, _frame):
        nonlocal stop
        stop = True

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    deadline = time.monotonic() + args.max_seconds
    with open(args.output, "w", buffering=1) as out:
        out.write("# time " + " ".join(args.devices) + "\n")
        next_tick = time.monotonic()
        while not stop and time.monotonic() < deadline:
            values = []
            for device in args.devices:
                try:
                    values.append(str(read_counter(device)))
                except OSError:  # a path taken down may vanish for a moment: repeat the last
                    values.append("-")
            out.write(f"{time.time():.3f} " + " ".join(values) + "\n")
            next_tick += args.interval
            time.sleep(max(0.0, next_tick - time.monotonic()))


if __name__ == "__main__":
    main()
