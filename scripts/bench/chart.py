"""Draws the benchmark chart from results.json: throughput next to its reference, and the ratios
against their goals.

    python chart.py results.json benchmarks.png
"""
import json
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def main(src: str, dst: str) -> None:
    r = json.load(open(src))
    b, p, rd, fp = r["booking"], r["party"], r["read"], r["footprint"]
    fig, (ax1, ax2, ax3) = plt.subplots(1, 3, figsize=(15, 5), gridspec_kw={"width_ratios": [3, 2, 2]})

    labels = ["booking\nHTTP", "booking\npgbench\n(ceiling)", "party drop\nHTTP", "read: week\nof slots", "read:\nGET /"]
    values = [b["http_bookings_per_s"], b["ceiling_tps"], p["bookings_per_s"], rd["slots_rps"], rd["trivial_rps"]]
    colors = ["#1f77b4", "#aec7e8", "#2ca02c", "#ff7f0e", "#ffbb78"]
    bars = ax1.bar(labels, values, color=colors)
    ax1.bar_label(bars, fmt="%.0f")
    ax1.set_ylabel("per second")
    ax1.set_title("Throughput (same run)")

    ratios = [b["ratio"] * 100, rd["ratio"] * 100]
    goals = [b["goal"] * 100, rd["goal"] * 100]
    names = ["booking /\npgbench", "slots /\nGET /"]
    bars = ax2.bar(names, ratios, color=["#1f77b4", "#ff7f0e"])
    ax2.bar_label(bars, fmt="%.0f%%")
    for i, g in enumerate(goals):
        ax2.hlines(g, i - 0.4, i + 0.4, colors="red", linestyles="dashed")
        ax2.text(i + 0.42, g, f"goal {g:.0f}%", color="red", va="center", fontsize=8)
    ax2.set_ylim(0, max(110, max(ratios) * 1.15))
    ax2.set_ylabel("% of the reference")
    ax2.set_title("Ratios against goals")

    lat_names = ["booking\np99", "party\np99", "slots\np99", "GET /\np99"]
    lats = [b["http_p99_ms"], p["p99_ms"], rd["slots_p99_ms"], rd["trivial_p99_ms"]]
    bars = ax3.bar(lat_names, lats, color=["#1f77b4", "#2ca02c", "#ff7f0e", "#ffbb78"])
    ax3.bar_label(bars, fmt="%.1f")
    ax3.hlines(rd["p99_goal_ms"], 1.6, 2.4, colors="red", linestyles="dashed")
    ax3.set_ylabel("ms")
    ax3.set_title("p99 latency (slots goal < 20 ms)")

    fig.suptitle(
        f"appointment-server on PostgreSQL {r['postgres']}, {r['cores']} cores, {r['date']} "
        f"(RSS {fp['rss_idle_mib']:.0f} MiB idle / {fp['rss_load_mib']:.0f} MiB under load, "
        f"healthy {fp['warm_start_ms']:.0f} ms after start)",
        fontsize=10,
    )
    fig.tight_layout()
    fig.savefig(dst, dpi=110)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
