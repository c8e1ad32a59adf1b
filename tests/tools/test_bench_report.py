#!/usr/bin/env python3
"""The unit test of tools/bench-report: a sample ctest log of three
benchmarks in, the summary table and the HTML page checked; a malformed
line and an empty log refused with a message naming the place."""
import os
import subprocess
import sys
import tempfile

TOOL, SAMPLE = sys.argv[1], sys.argv[2]
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)


def run(*args, stdin=None):
    return subprocess.run([sys.executable, TOOL, *args], input=stdin, capture_output=True, text=True)


with tempfile.TemporaryDirectory() as tmp:
    page = os.path.join(tmp, "report", "index.html")
    r = run(SAMPLE, "--html", page)
    check(r.returncode == 0, f"exit {r.returncode}: {r.stderr}")
    lines = r.stdout.splitlines()
    rows = {tuple(line.split()[:2]): line for line in lines if line.split()[:1] in (["canon"], ["link"], ["compute"])}
    check(len(rows) == 6, f"want 6 rows, got {len(rows)}: {r.stdout}")
    goal = rows.get(("canon", "string-16B/aot-host-to-guest-goal"), "")
    check("1900 ns" in goal and "goal 300" in goal and "6.333x" in goal and goal.endswith("NOT met"), goal)
    check(rows.get(("link", "loop-sync-linked-vs-composed"), "").endswith(" met"), "link sync row not met")
    check(rows.get(("link", "stream-linked-goal"), "").endswith(" met"), "link stream goal not met")
    peer = rows.get(("compute", "nbody/aot-vs-wasmtime"), "")
    check("wasmtime 0.5789" in peer and peer.endswith("-"), f"peer row: {peer}")
    check(rows.get(("compute", "nbody/aot"), "").endswith("NOT met"), "nbody goal")
    check("4 goals: 2 met, 2 not met; 2 figures without a goal" in r.stdout, r.stdout)
    check("benches that did not pass: bench.compute (Failed)" in r.stdout, r.stdout)
    html = open(page, encoding="utf-8").read()
    check(html.count("<svg") == 3, f"want one <svg per bench (3), got {html.count('<svg')}")
    for bench in ("canon", "link", "compute"):
        check(f'<h2 id="{bench}">' in html, f"no section for {bench}")
    check("http://" not in html.replace('xmlns="http://www.w3.org/2000/svg"', ""), "an external reference")

    bad = run("-", stdin="1: BENCH name=x/y value=abc unit=ns ratio=1 baseline=b base_value=1 goal=none\n")
    check(bad.returncode == 1 and "<stdin>:1: value=abc: not a number" in bad.stderr, bad.stderr)
    bad = run("-", stdin="BENCH name=x/y value=1 unit=ns ratio=1 baseline=b base_value=1 goal=~2\n")
    check(bad.returncode == 1 and "goal=~2" in bad.stderr, bad.stderr)
    empty = run("-", stdin="nothing here\n")
    check(empty.returncode == 1 and "no BENCH lines" in empty.stderr, empty.stderr)
    missing = run(os.path.join(tmp, "absent.log"))
    check(missing.returncode == 1 and "absent.log" in missing.stderr, missing.stderr)

for f in failures:
    print("FAIL:", f)
print(f"bench-report test: {'FAILED' if failures else 'passed'}")
sys.exit(1 if failures else 0)
