"""`lifelog eval` (a question file, scored per agent: lifelog/evaluate.py) and `lifelog selftest`
(questions made from the library itself: lifelog/selftest.py)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from lifelog.memory import Memory


def add_eval_commands(sub: Any) -> None:
    s = sub.add_parser("eval", help="score the agents on a question file over this library")
    s.add_argument("questions", help="a YAML question file (see benchmarks/questions.yaml)")
    s.add_argument("--agents", default="adaptive,flat", help="comma-separated: adaptive,flat")
    s.add_argument("--verbose", "-v", action="store_true", help="print every question's answer")
    s.add_argument("--json", help="write the results to this file")
    s.set_defaults(func=cmd_eval)

    s = sub.add_parser("selftest", help="ask questions made from your own library, with known answers; score per type")
    s.add_argument("--per-type", type=int, default=8, help="facts asked per type (each in a few phrasings; default 8)")
    s.add_argument("--seed", type=int, default=0, help="which facts are picked")
    s.add_argument("--verbose", "-v", action="store_true", help="print every question's answer")
    s.add_argument("--json", help="write the results to this file")
    s.set_defaults(func=cmd_selftest)


def cmd_eval(mem: Memory, args: argparse.Namespace) -> int:
    from lifelog.evaluate import evaluate, format_table, load_questions

    questions, now = load_questions(Path(args.questions))
    agents = args.agents.split(",")
    reports = evaluate(mem, questions, agents=agents, now=mem.settings.now or now,
                       progress=lambda a, i, n: print(f"\r{a}: {i}/{n}", end="", file=sys.stderr))
    print(file=sys.stderr)
    print(format_table(reports))
    if args.verbose:
        for r in reports:
            for o in r.outcomes:
                mark = "ok  " if o.correct else "MISS"
                print(f"{mark} [{r.agent}] {o.question.id + ' ' if o.question.id else ''}{o.question.q}  ->  {o.answer[:140]}")
    if args.json:
        Path(args.json).write_text(json.dumps({"summary": [r.summary() for r in reports], "outcomes": [
            {"agent": o.agent, "q": o.question.q, "answer": o.answer, "correct": o.correct, "abstained": o.abstained,
             "evidence_hit": o.evidence_hit, "seconds": round(o.seconds, 4)} for r in reports for o in r.outcomes]},
            indent=1))
    return 0


def cmd_selftest(mem: Memory, args: argparse.Namespace) -> int:
    from lifelog import selftest

    report = selftest.run(mem, per_kind=args.per_type, seed=args.seed, now=mem.settings.now,
                          progress=lambda i, n: print(f"\r{i}/{n} questions", end="", file=sys.stderr))
    print(file=sys.stderr)
    if not report.results:
        print("Nothing to ask: the library is empty (lifelog ingest PATH first).")
        return 1
    print(report.table())
    if args.verbose:
        for r in report.results:
            print(f"{'ok  ' if r.correct else 'MISS'} [{r.probe.kind}] {r.probe.question}  ->  {r.answer[:140]}")
    if args.json:
        Path(args.json).write_text(json.dumps({"by_type": report.by_kind(), "results": [
            {"type": r.probe.kind, "q": r.probe.question, "accept": r.probe.accept, "answer": r.answer,
             "correct": r.correct, "seconds": round(r.seconds, 4)} for r in report.results]}, indent=1))
    return 0
