#!/usr/bin/env python3
"""Renders the --json output of run.py (one or more files, merged) as the Markdown tables of
RESULTS.md: per figure the median, the ceiling, the ratio, the target, the verdict and every
run's value.

    python3 tests/bench/results_md.py /tmp/full.json [/tmp/startup.json ...]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
ORDER = ("intake", "drain", "cost", "wire", "flash", "startup")


def fmt(v, unit: str = "") -> str:
    if v is None:
        return "-"
    if abs(v) >= 100:
        text = f"{v:,.0f}"
    elif abs(v) >= 10:
        text = f"{v:.1f}"
    else:
        text = f"{v:.3g}"
    return f"{text} {unit}".strip()


def main() -> int:
    tables: dict[str, list] = {}
    for arg in sys.argv[1:]:
        data = json.loads(Path(arg).read_text())
        print(f"<!-- {arg}: {data['describe']}; {data['args']} -->")
        for name, rows in data["tables"].items():
            tables.setdefault(name, []).extend(rows)
    for name in sorted(tables, key=lambda t: ORDER.index(t) if t in ORDER else 99):
        print(f"\n### {name}\n")
        print("| figure | median | ceiling | ratio | target | verdict | runs (value / ceiling) |")
        print("|---|---|---|---|---|---|---|")
        for r in tables[name]:
            target = "-"
            if r["target"]:
                op, limit = r["target"]
                target = (f"ratio {op} {limit:g}" if r["target_on"] == "ratio"
                          else f"{op} {fmt(limit, r['unit'])}")
            runs = ", ".join(
                fmt(v) + (f" / {fmt(c)}" if i < len(r["ceilings"]) else "")
                for i, (v, c) in enumerate(zip(r["values"], r["ceilings"] + [None] * len(r["values"]))))
            ratio = r["median_ratio"]
            print(f"| {r['figure']} | {fmt(r['median'], r['unit'])} | "
                  f"{fmt(r['median_ceiling'], r['unit'])} | "
                  f"{'-' if ratio is None else f'{ratio:.3f}'} | {target} | {r['verdict']} | "
                  f"{runs} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
