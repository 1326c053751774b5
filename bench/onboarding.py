"""Onboarding benchmark: `gikcrawl sites probe` over replica homepages of every CMS family and portal shape,
with the probe's best-first order and, as the baseline in the same run, a breadth-first probe with the same
budget that follows every link of the site (PROBE_ORDER=breadth).

    python bench/onboarding.py [--seeds 3] [--budget 40]

Homepages: TRS, Hanweb and 集约化 sites whose column is linked from the homepage (flat), four links deep
(首页 → 政务公开 → 政府信息公开 → 法定主动公开内容 → 年报) or absent; and main sites whose 政府信息公开 portal is on
an xxgk host (another port). A homepage counts as onboarded correctly when the verdict is ok and the entry's
start URLs are exactly the replica's column, or, for a site without a column, when the verdict is
no_column. Prints the fraction correct and requests per site for both orders, and their ratio.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from gikfixtures.replica import ReplicaServer, build_homepage, build_site

STYLES = ("trs", "hanweb", "jiyue")
GOVERNMENTS = (("瓜州县人民政府", "6209220001"), ("林西县人民政府", "1504240001"), ("衡南县人民政府", "4304220001"))


def run_probe(homes: list[str], tmp: Path, order: str, budget: int) -> tuple[dict, float]:
    listing, report = tmp / f"homes-{order}.txt", tmp / f"report-{order}.json"
    listing.write_text("\n".join(homes), encoding="utf-8")
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "gikcrawl.cli", "sites", "probe", "--from-file", str(listing),
                    "--report", str(report), "--config", str(tmp / "none.yaml"), "-s", "DOWNLOAD_DELAY=0",
                    "-s", "AUTOTHROTTLE_ENABLED=False", "-s", f"PROBE_ORDER={order}", "-s", f"PROBE_BUDGET={budget}",
                    "-s", "LOG_LEVEL=ERROR"], cwd=ROOT, stdout=subprocess.DEVNULL, check=False)
    elapsed = time.perf_counter() - start
    return {v["homepage"]: v for v in json.loads(report.read_text(encoding="utf-8"))}, elapsed


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--budget", type=int, default=40)
    args = ap.parse_args()
    sites, expect = [], {}                    # expect: site key -> column path, or None (no column)
    for seed in range(args.seeds):
        for style in STYLES:
            for portal in ("flat", "deep", "none"):
                site = build_site(style, key=f"{style}-{portal}-{seed}", seed=100 + seed, portal=portal)
                sites.append(site)
                expect[site.key] = None if portal == "none" else site.start_path
    portals = [build_site(STYLES[seed % 3], key=f"xxgk-{seed}", seed=200 + seed, portal="deep")
               for seed in range(args.seeds)]
    with ReplicaServer(*sites) as server, ReplicaServer(*portals) as xxgk:
        mains = [build_homepage(f"www-{i}", GOVERNMENTS[i % 3][0], xxgk.url(p, "zwgk/index.html"), GOVERNMENTS[i % 3][1])
                 for i, p in enumerate(portals)]
        with ReplicaServer(*mains) as www:
            cases = {server.url(s, "index.html"): server.url(s, expect[s.key]) if expect[s.key] else None
                     for s in sites}
            cases.update({www.url(m): xxgk.url(p, p.start_path) for m, p in zip(mains, portals)})
            with tempfile.TemporaryDirectory(prefix="gik-bench-onboarding-") as tmp:
                results = {order: run_probe(list(cases), Path(tmp), order, args.budget)
                           for order in ("best", "breadth")}
    print(f"{len(cases)} replica homepages ({len(sites) - args.seeds * 3} with a column on the site, "
          f"{args.seeds * 3} without one, {len(portals)} with the portal on an xxgk host); budget {args.budget}")
    summary = {}
    for order, (verdicts, elapsed) in results.items():
        correct, requests, wrong = 0, [], []
        for home, column in cases.items():
            v = verdicts[home]
            requests.append(v["requests"])
            ok = (v["status"] == "ok" and v["entry"]["start_urls"] == [column]) if column else \
                v["status"] == "no_column"
            correct += ok
            if not ok:
                wrong.append(f"{home}: {v['status']}: " + " | ".join(v["found"] + v["tried"][:6]))
        with_col = [verdicts[h]["requests"] for h, c in cases.items() if c]
        summary[order] = (correct / len(cases), sum(requests) / len(requests), sum(with_col) / len(with_col))
        print(f"{order:8} onboarded correctly {correct}/{len(cases)} ({correct / len(cases):.0%}); requests per "
              f"site {summary[order][1]:.1f} (sites with a column {summary[order][2]:.1f}, max {max(requests)}); "
              f"{elapsed:.1f} s")
        for line in wrong[:10]:
            print(f"         wrong: {line}")
    best, base = summary["best"], summary["breadth"]
    print(f"best-first / breadth-first: requests per site x{best[1] / base[1]:.2f} "
          f"(sites with a column x{best[2] / base[2]:.2f}), correct x{best[0] / max(base[0], 1e-9):.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
