"""The app's first answer: with the models loaded at launch (the app's way) against loaded by the
first question (the old way), each in a fresh process on the same library.

    python benchmarks/bench_ui_first_answer.py [--home DIR] [--question Q]

Without --home it ingests sample_media/ into a temporary library first. Each run builds the app's
context as `lifelog ui` does; "warm" starts the background load and, like a person reading the
page, asks once it says the models are ready; "cold" asks at once with nothing loaded. Reported:
seconds from the question to the answer, and from process start, with the ratio of the two ways.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CHILD = r'''
import json, sys, time
t0 = time.perf_counter()
import lifelog
from ui.context import make_context
from ui.tabs.ask import ask
mem = lifelog.open(sys.argv[1])
ctx = make_context(mem, sys.argv[4])
waited = 0.0
if sys.argv[3] == "warm":
    ctx.warm.start()
    ctx.warm.wait()
    waited = time.perf_counter() - t0
t = time.perf_counter()
out = ask(ctx, sys.argv[2], [])
answer_s = time.perf_counter() - t
print(json.dumps({"answer_s": answer_s, "from_start_s": time.perf_counter() - t0, "loading_s": waited,
                  "answer": out[0][-1]["content"][:80]}))
'''


def run(home: str, question: str, mode: str) -> dict:
    with tempfile.TemporaryDirectory() as staged:
        done = subprocess.run([sys.executable, "-c", CHILD, home, question, mode, staged], capture_output=True,
                              text=True, cwd=ROOT, timeout=600)
    if done.returncode != 0:
        raise SystemExit(done.stderr[-2000:])
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--home", help="an existing library (default: sample_media/ ingested into a temporary one)")
    ap.add_argument("--question", default="what did I say in the voice note about dinner?")
    args = ap.parse_args()
    tmp = None
    home = args.home
    if home is None:
        tmp = tempfile.TemporaryDirectory()
        home = tmp.name
        subprocess.run([str(Path(sys.executable).with_name("lifelog")), "--home", home, "ingest", str(ROOT / "sample_media")],
                       check=True, capture_output=True, timeout=900)
    cold = run(home, args.question, "cold")
    warm = run(home, args.question, "warm")
    print(f"first answer, models loaded by the question (before):   {cold['answer_s']:.2f} s")
    print(f"first answer, models loaded at launch (now):            {warm['answer_s']:.2f} s "
          f"(the load took {warm['loading_s']:.1f} s while the page was open)")
    print(f"ratio now / before: {warm['answer_s'] / cold['answer_s']:.2f}")
    print(json.dumps({"cold": cold, "warm": warm}, indent=1))
    if tmp:
        tmp.cleanup()


if __name__ == "__main__":
    main()
