#!/usr/bin/env python3
"""Turns path_sampler.py's samples and the times of a cut and a restore into the failover
report: throughput before, during and after the cut, how long each change took to show in
the throughput, the bytes each path carried, and a self-contained SVG chart.

  failover_report.py SAMPLES --start T [--cut T --restore T] [--end T] [--rate RATE]
                     [--svg FILE] [--title TEXT] [--summary FILE]

Times are seconds since the epoch (`date +%s.%N`). --rate is each path's shaped rate (100mbit,
or bit/s; 0 or absent: measured instead). --summary writes key=value lines for scripts.
Bytes are what the client's interfaces received (Ethernet, IP and TCP headers included),
the same bytes the lab's rate limit counts.
"""
import argparse
import html
import sys

WINDOW = 0.25  # seconds: throughput is measured over windows this long, one per sample


def load_samples(path):
    devices, rows = None, []
    with open(path) as f:
        for line in f:
            if line.startswith("#"):
                devices = line.split()[2:]
                continue
            fields = line.split()
            if not fields:
                continue
            rows.append((float(fields[0]), fields[1:]))
    if devices is None or len(rows) < 2:
        sys.exit(f"failover_report: {path} has too few samples")
    # Counters relative to the first sample; a missing value repeats the previous one.
    last = [None] * len(devices)
    times, counts = [], []
    for t, values in rows:
        now = []
        for i, value in enumerate(values):
            if value != "-":
                last[i] = int(value)
            now.append(last[i] if last[i] is not None else 0)
        times.append(t)
        counts.append(now)
    base = counts[0]
    counts = [[c - b for c, b in zip(row, base)] for row in counts]
    return devices, times, counts


def path_name(device):
    return device.rsplit("-", 1)[-1].upper() if "-" in device else device


def bytes_between(times, counts, t0, t1, column=None):
    """Bytes received in [t0, t1] (nearest samples), for one column or all."""
    def at(t):
        best = 0
        for i, ti in enumerate(times):
            if ti <= t:
                best = i
            else:
                break
        return best
    i0, i1 = at(t0), at(t1)
    if column is None:
        return sum(counts[i1]) - sum(counts[i0]), times[i1] - times[i0]
    return counts[i1][column] - counts[i0][column], times[i1] - times[i0]


def window_rates(times, counts):
    """For each sample i: (t_i, per-column bit/s over [t_i, t_i + WINDOW])."""
    out, j = [], 0
    for i, t in enumerate(times):
        j = max(j, i + 1)
        while j < len(times) and times[j] < t + WINDOW:
            j += 1
        if j >= len(times):
            break
        span = times[j] - t
        out.append((t, [(counts[j][c] - counts[i][c]) * 8 / span for c in range(len(counts[i]))]))
    return out


HOLD = 0.5  # seconds a recovered throughput must last: a stall can follow a good first moment


def first_sustained(rates, since, threshold, until):
    """Seconds from `since` until the throughput reaches `threshold` and stays there for HOLD
    (every window starting within it); None if that does not happen before `until`."""
    points = [(t, sum(v)) for t, v in rates if since <= t]
    for i, (t, _) in enumerate(points):
        if t + HOLD > until:
            return None
        held = [r for u, r in points[i:] if u <= t + HOLD]
        if all(r >= threshold for r in held):
            return t - since
    return None


def longest_silence(times, counts, since, until, threshold):
    """The longest stretch in [since, until] during which all paths together received less
    than `threshold` bit/s, sample to sample (a few stray segments are not data flowing)."""
    longest, quiet_from = 0.0, None
    for i in range(1, len(times)):
        if times[i] < since or times[i] > until:
            continue
        span = times[i] - times[i - 1]
        rate = (sum(counts[i]) - sum(counts[i - 1])) * 8 / span if span > 0 else 0
        if rate < threshold:
            if quiet_from is None:
                quiet_from = times[i - 1]
            longest = max(longest, times[i] - quiet_from)
        else:
            quiet_from = None
    return longest


def nice_step(span):
    """A round tick step (1, 2 or 5 times a power of ten) giving about five ticks over span."""
    raw = max(span / 5, 1e-9)
    power = 10 ** len(str(int(raw))) / 10 if raw >= 1 else 1
    for factor in (1, 2, 5, 10):
        if power * factor >= raw:
            return power * factor
    return power * 10


def tc_rate(text):
    """'100mbit', '1gbit', '500kbit', '2000000bit' or a plain number of bit/s."""
    units = {"gbit": 1e9, "mbit": 1e6, "kbit": 1e3, "bit": 1.0}
    lowered = text.strip().lower()
    for unit, factor in units.items():
        if lowered.endswith(unit):
            try:
                return float(lowered[: -len(unit)]) * factor
            except ValueError:
                break
    try:
        return float(lowered)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a rate: '{text}' (e.g. 100mbit)")


def mbit(bits):
    return f"{bits / 1e6:.1f} Mbit/s"


def write_svg(path, title, devices, rates, start, end, marks):
    width, height = 900, 420
    left, right, top, bottom = 70, 20, 40, 50
    plot_w, plot_h = width - left - right, height - top - bottom
    shown = [(t, v) for t, v in rates if start <= t <= end]
    peak = max((sum(v) for _, v in shown), default=1.0) or 1.0
    y_step = nice_step(peak * 1.1 / 1e6) * 1e6
    ticks = int(peak * 1.1 // y_step) + 1
    y_max = y_step * ticks
    duration = max(end - start, 1e-3)

    def x(t):
        return left + (t - start) / duration * plot_w

    def y(bits):
        return top + plot_h - bits / y_max * plot_h

    colors = ["#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd"]
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12">',
        f'<rect width="{width}" height="{height}" fill="white"/>',
        f'<text x="{width / 2}" y="22" text-anchor="middle" font-size="15">{html.escape(title)}</text>',
        f'<line x1="{left}" y1="{top + plot_h}" x2="{left + plot_w}" y2="{top + plot_h}" stroke="black"/>',
        f'<line x1="{left}" y1="{top}" x2="{left}" y2="{top + plot_h}" stroke="black"/>',
    ]
    for k in range(ticks + 1):  # throughput ticks
        value = y_step * k
        parts.append(f'<line x1="{left - 4}" y1="{y(value):.1f}" x2="{left + plot_w}" y2="{y(value):.1f}" '
                     f'stroke="#ddd"/>')
        parts.append(f'<text x="{left - 8}" y="{y(value) + 4:.1f}" text-anchor="end">{value / 1e6:.0f}</text>')
    parts.append(f'<text x="16" y="{top + plot_h / 2}" transform="rotate(-90 16 {top + plot_h / 2})" '
                 f'text-anchor="middle">Mbit/s</text>')
    step = nice_step(duration / 2)
    t = 0
    while t <= duration + 1e-9:
        parts.append(f'<text x="{x(start + t):.1f}" y="{top + plot_h + 18}" text-anchor="middle">{t:g}</text>')
        t += step
    parts.append(f'<text x="{left + plot_w / 2}" y="{height - 10}" text-anchor="middle">seconds</text>')
    series = [(path_name(d), c) for c, d in enumerate(devices)] + [("all", None)]
    for n, (name, column) in enumerate(series):
        # Each window is drawn at its middle, so a change shows where it happened.
        points = " ".join(
            f"{x(min(end, t + WINDOW / 2)):.1f},{y(sum(v) if column is None else v[column]):.1f}"
            for t, v in shown)
        color = "#333" if column is None else colors[n % len(colors)]
        dash = ' stroke-dasharray="4 3"' if column is None else ""
        parts.append(f'<polyline fill="none" stroke="{color}" stroke-width="1.6"{dash} points="{points}"/>')
        parts.append(f'<text x="{left + plot_w - 150 + 50 * n}" y="{top + 14}" fill="{color}">'
                     f'{"path " + name if column is not None else "total"}</text>')
    for label, t in marks:
        if t is None or not start <= t <= end:
            continue
        parts.append(f'<line x1="{x(t):.1f}" y1="{top}" x2="{x(t):.1f}" y2="{top + plot_h}" stroke="#c00" '
                     f'stroke-dasharray="6 4"/>')
        parts.append(f'<text x="{x(t) + 4:.1f}" y="{top + 28}" fill="#c00">{html.escape(label)}</text>')
    parts.append("</svg>")
    with open(path, "w") as f:
        f.write("\n".join(parts) + "\n")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("samples")
    parser.add_argument("--start", type=float, required=True)
    parser.add_argument("--cut", type=float)
    parser.add_argument("--restore", type=float)
    parser.add_argument("--end", type=float)
    parser.add_argument("--rate", type=tc_rate, default=0.0,
                        help="each path's shaped rate, as tc writes it (100mbit) or bit/s")
    parser.add_argument("--cut-path", default="A")
    parser.add_argument("--svg")
    parser.add_argument("--title", default="throughput per path")
    parser.add_argument("--summary")
    args = parser.parse_args()

    devices, times, counts = load_samples(args.samples)
    rates = window_rates(times, counts)
    # The transfer ends with its last received byte, unless the caller knows better.
    end = args.end
    if end is None:
        end = times[-1]
        for i in range(len(times) - 1, 0, -1):
            if sum(counts[i]) != sum(counts[i - 1]):
                end = times[i]
                break
    start = args.start
    cut, restore = args.cut, args.restore
    if cut is not None and not start < cut < end:
        cut = restore = None  # the transfer was over before the cut: nothing to report
    if restore is not None and not cut < restore:
        restore = None

    summary = {}
    lines = []
    phases = [("whole transfer", start, end)]
    if cut is not None:
        phases = [("before the cut", start, cut),
                  ("during the cut", cut, restore if restore is not None and restore < end else end)]
        if restore is not None and restore < end:
            phases.append(("after the restore", restore, end))
    names = [path_name(d) for d in devices]
    lines.append("throughput (bytes the client's interfaces received, headers included):")
    lines.append(f"  {'phase':<18} {'seconds':>13}  {'all paths':>14}  " +
                 "  ".join(f"{'path ' + n:>14}" for n in names))
    for label, t0, t1 in phases:
        total, span = bytes_between(times, counts, t0, t1)
        per_path = [bytes_between(times, counts, t0, t1, c)[0] for c in range(len(devices))]
        rate = total * 8 / span if span > 0 else 0
        lines.append(f"  {label:<18} {t0 - start:5.1f}-{t1 - start:6.1f} s  {mbit(rate):>14}  " +
                     "  ".join(f"{mbit(b * 8 / span if span > 0 else 0):>14}" for b in per_path))
        key = label.split()[0]
        summary[f"{key}_bps"] = f"{rate:.0f}"
        for n, b in zip(names, per_path):
            summary[f"{key}_{n}_bps"] = f"{b * 8 / span if span > 0 else 0:.0f}"

    # Steady aggregate before the cut: its second half, after slow start.
    steady_from = start + ((cut if cut is not None else end) - start) / 2
    steady_bytes, steady_span = bytes_between(times, counts, steady_from, cut if cut is not None else end)
    steady = steady_bytes * 8 / steady_span if steady_span > 0 else 0
    summary["steady_bps"] = f"{steady:.0f}"
    if args.rate > 0:
        efficiency = steady / (args.rate * len(devices))
        summary["efficiency"] = f"{efficiency:.3f}"
        lines.append(f"aggregation: {mbit(steady)} of {len(devices)} x {mbit(args.rate)} "
                     f"= {efficiency:.2f} of the sum (steady part before any cut)")

    if cut is not None:
        cut_end = restore if restore is not None and restore < end else end
        survivors = [c for c, n in enumerate(names) if n != args.cut_path.upper()]
        # The surviving paths' own rate, over the second half of the cut (the shaped rate less
        # the headers it counts), unless the cut was too short to show one.
        b, span = 0, 0.0
        for c in survivors:
            bc, span = bytes_between(times, counts, (cut + cut_end) / 2, cut_end, c)
            b += bc
        survive_rate = b * 8 / span if span > 0 else 0
        if args.rate > 0 and not 0.5 * args.rate * len(survivors) <= survive_rate:
            survive_rate = args.rate * len(survivors)
        back = first_sustained(rates, cut, 0.9 * survive_rate, cut_end)
        silence = longest_silence(times, counts, cut, cut_end, 0.1 * survive_rate)
        summary["cut_recovery_s"] = "none" if back is None else f"{back:.2f}"
        summary["cut_silence_s"] = f"{silence:.2f}"
        lines.append(f"cut of path {args.cut_path}: throughput back to 90% of the surviving "
                     f"path's {mbit(survive_rate)} (for at least {HOLD} s) after " +
                     ("-- (not during the cut)" if back is None else f"{back:.2f} s") +
                     f"; longest time below 10% of it {silence:.2f} s")
        if restore is not None and restore < end:
            back = first_sustained(rates, restore, 0.9 * steady, end)
            summary["restore_recovery_s"] = "none" if back is None else f"{back:.2f}"
            lines.append(f"restore of path {args.cut_path}: throughput back to 90% of the "
                         f"aggregate's {mbit(steady)} (for at least {HOLD} s) after " +
                         ("-- (not before the transfer ended)" if back is None else f"{back:.2f} s"))
    total = sum(counts[-1])
    per = ", ".join(f"path {n} {counts[-1][c] / 2**20:.1f} MiB ({counts[-1][c] / total:.0%})"
                    if total else f"path {n} 0 MiB" for c, n in enumerate(names))
    lines.append(f"bytes per path: {per}")
    for c, n in enumerate(names):
        summary[f"bytes_{n}"] = str(counts[-1][c])
    print("\n".join(lines))

    if args.svg:
        marks = [(f"cut {args.cut_path}", cut), (f"restore {args.cut_path}", restore)]
        write_svg(args.svg, args.title, devices, rates, start, end, marks)
        print(f"chart: {args.svg}")
    if args.summary:
        with open(args.summary, "w") as f:
            for key, value in summary.items():
                f.write(f"{key}={value}\n")


if __name__ == "__main__":
    main()
