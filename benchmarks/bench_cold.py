"""What a question costs from a cold shell, side by side in one run, on the same library:

- `lifelog --help`, `lifelog search`, `lifelog ask` in a fresh process without a service, the way
  the code at a baseline commit does it (a git worktree of `--baseline`, run with this venv) and
  the way it does now;
- the same `search` and `ask` with `lifelog serve` running (the CLI sends them there);
- the answer alone, in a process that already has everything loaded;
- the stages of a cold in-process answer: importing the CLI, opening the library, loading the
  text embedding, the first answer (and whether torch was imported).

    .venv/bin/python benchmarks/bench_cold.py [--home H] [--rounds 5] [--baseline 58d1298]

Without --home, sample_media/ is ingested into a temporary library first. Each command runs
`--rounds` times, interleaved (old, new, service, ...) so that load on the machine hits all alike;
the medians are printed with ratios to the baseline's cold run.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LIFELOG = str(Path(sys.executable).with_name("lifelog"))
NOW = "2025-06-15T10:00:00+01:00"
QUESTION = "what did I say about the water at the beach?"
SEARCH = "a cup of coffee"

STAGES = r"""
import sys, time, json
t0 = time.perf_counter(); out = {}
import lifelog.cli
out["import lifelog.cli"] = time.perf_counter() - t0; t = time.perf_counter()
from lifelog.memory import Memory
from lifelog.settings import load_settings
mem = Memory(load_settings({"home": sys.argv[1]}))
mem.store.episode_table
out["open the library"] = time.perf_counter() - t; t = time.perf_counter()
mem.model("text_embed").embed(["warm"], kind="query")
out["load the text embedding"] = time.perf_counter() - t; t = time.perf_counter()
mem.ask(sys.argv[2])
out["first answer"] = time.perf_counter() - t; t = time.perf_counter()
for _ in range(5):
    mem.ask(sys.argv[2])
out["answer, warm (mean of 5)"] = (time.perf_counter() - t) / 5
out["torch imported"] = "torch" in sys.modules
print(json.dumps(out))
"""


def timed(cmd: list[str], env: dict[str, str], cwd: Path = ROOT) -> float:
    t = time.perf_counter()
    done = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{done.stderr[-2000:]}")
    return time.perf_counter() - t


def baseline_tree(rev: str, into: Path) -> Path | None:
    """A worktree of `rev` (the code before the cold path), or None where git cannot make one."""
    done = subprocess.run(["git", "worktree", "add", "--detach", str(into), rev], cwd=ROOT, capture_output=True,
                          text=True)
    return into if done.returncode == 0 else None


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--home", type=Path, help="a library (default: sample_media/ ingested into a temporary one)")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--baseline", default="58d1298", help="the commit to compare with (default: before the cold path)")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="lifelog-bench-cold-"))
    env = dict(os.environ, LIFELOG_NOW=NOW, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
    home = args.home
    if home is None:
        home = tmp / "home"
        print(f"ingesting sample_media/ into {home} ...", flush=True)
        timed([LIFELOG, "--home", str(home), "ingest", str(ROOT / "sample_media"), "--quiet"], env)
    old = baseline_tree(args.baseline, tmp / "baseline")
    old_env = dict(env, PYTHONPATH=str(old), LIFELOG_SERVICE="off") if old else None
    alone = dict(env, LIFELOG_SERVICE="off")

    def old_cmd(*a: str) -> list[str]:
        return [sys.executable, "-m", "lifelog.cli", "--home", str(home), *a]

    def new_cmd(*a: str) -> list[str]:
        return [LIFELOG, "--home", str(home), *a]

    cases: dict[str, tuple[list[str], dict[str, str], Path]] = {}
    for name, a in (("--help", ["--help"]), ("search", ["search", SEARCH]), ("ask", ["ask", QUESTION])):
        if old:
            cases[f"{name}: cold, baseline {args.baseline}"] = (old_cmd(*a), old_env, old)  # type: ignore[assignment]
        cases[f"{name}: cold, now"] = (new_cmd(*a), alone, ROOT)
    times: dict[str, list[float]] = {k: [] for k in cases}
    for _ in range(args.rounds):
        for k, (cmd, e, cwd) in cases.items():
            times[k].append(timed(cmd, e, cwd))

    # with the service running
    server = subprocess.Popen([LIFELOG, "--home", str(home), "serve", "--port", "0"], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 180
        while not (home / "service.json").exists() and time.time() < deadline:
            time.sleep(0.2)
        timed(new_cmd("ask", QUESTION), env)  # the service's own first answer (it warms in the background)
        served = {"search: service running": new_cmd("search", SEARCH), "ask: service running": new_cmd("ask", QUESTION)}
        for k in served:
            times[k] = []
        for _ in range(args.rounds):
            for k, cmd in served.items():
                times[k].append(timed(cmd, env))
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(60)

    stages = subprocess.run([sys.executable, "-c", STAGES, str(home), QUESTION], env=alone, capture_output=True,
                            text=True, timeout=600)
    per_stage = json.loads(stages.stdout) if stages.returncode == 0 else {"error": stages.stderr[-500:]}

    print(f"\nmedian of {args.rounds} runs each, interleaved; library {home}")
    base = {n: statistics.median(times[f"{n}: cold, baseline {args.baseline}"]) for n in ("--help", "search", "ask")
            if f"{n}: cold, baseline {args.baseline}" in times}
    for k, v in times.items():
        m = statistics.median(v)
        ratio = f"  x{m / base[k.split(':')[0]]:.2f} of the baseline" if k.split(":")[0] in base else ""
        print(f"  {k:40s} {m * 1000:8.0f} ms{ratio}")
    print("\nstages of a cold in-process answer (now):")
    for k, v in per_stage.items():
        print(f"  {k:40s} " + (f"{v * 1000:8.0f} ms" if isinstance(v, float) else str(v)))
    if old:
        subprocess.run(["git", "worktree", "remove", "--force", str(old)], cwd=ROOT, capture_output=True)
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
