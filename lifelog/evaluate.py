"""Question-answering evaluation over an ingested library: `lifelog eval QUESTIONS.yaml`.

A question file:

    now: 2025-06-15T10:00:00+01:00        # the reference "now" for "yesterday", "last April"
    questions:
      - q: Where did I leave my keys?
        answers: ["kitchen table"]         # any of these (case-insensitive regular expressions)
        evidence: [{file: REC_20250614_190500.m4a, start: 0, end: 9}]
        category: speech
      - q: Did I see a giraffe at the zoo?
        unanswerable: true

Scores, per agent: answer accuracy (an answerable question is right when the answer text matches
one pattern, the agent did not abstain and, where the question lists its evidence, a citation
points at that file and span; an unanswerable one when it abstained), abstention
precision and recall (how often an abstention was right, and how many unanswerable questions were
declined), evidence hit rate (a citation of the right file whose span overlaps the true one; any
second of a photo), and latency p50/p95.

The development set's format (../shared/eval/questions.yaml: `question`, `kind`, `accept`, `file`,
`evidence` with `start_s`/`end_s`) is read too; there an unanswerable question's `accept` patterns
are abstention phrases matched on the answer text, and an answer is graded on its text alone, as
its README grades it.
"""

from __future__ import annotations

import re
import statistics
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

import yaml

if TYPE_CHECKING:
    from lifelog.memory import Memory
    from lifelog.schema import Answer


@dataclass(frozen=True)
class Evidence:
    file: str  # file name (the folder does not matter)
    start: float = 0.0
    end: float = 1e9


@dataclass(frozen=True)
class Question:
    q: str
    answers: tuple[str, ...] = ()
    evidence: tuple[Evidence, ...] = ()
    unanswerable: bool = False
    category: str = ""
    id: str = ""
    cite_required: bool = True  # right only when a citation points at the evidence (the development set: text only)


@dataclass
class Outcome:
    question: Question
    agent: str
    answer: str
    abstained: bool
    correct: bool
    evidence_hit: bool | None  # None for unanswerable questions
    seconds: float


@dataclass
class Report:
    agent: str
    outcomes: list[Outcome] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        o = self.outcomes
        answerable = [x for x in o if not x.question.unanswerable]
        unanswerable = [x for x in o if x.question.unanswerable]
        abstained = [x for x in o if x.abstained]
        times = sorted(x.seconds for x in o)
        hits = [x.evidence_hit for x in answerable if x.evidence_hit is not None]
        by_cat: dict[str, list[bool]] = {}
        for x in o:
            by_cat.setdefault(x.question.category or ("unanswerable" if x.question.unanswerable else "other"), []).append(x.correct)
        return {
            "agent": self.agent,
            "questions": len(o),
            "accuracy": _ratio(sum(x.correct for x in o), len(o)),
            "answerable_accuracy": _ratio(sum(x.correct for x in answerable), len(answerable)),
            "abstention_precision": _ratio(sum(x.question.unanswerable for x in abstained), len(abstained)),
            "abstention_recall": _ratio(sum(x.abstained for x in unanswerable), len(unanswerable)),
            "evidence_hit_rate": _ratio(sum(hits), len(hits)),
            "latency_p50_ms": round(1000 * statistics.median(times), 1) if times else None,
            "latency_p95_ms": round(1000 * times[min(len(times) - 1, round(0.95 * (len(times) - 1)))], 1) if times else None,
            "accuracy_by_category": {k: _ratio(sum(v), len(v)) for k, v in sorted(by_cat.items())},
        }


def _ratio(a: int | float, b: int) -> float | None:
    return round(a / b, 3) if b else None


def load_questions(path: Path) -> tuple[list[Question], datetime | None]:
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    if not isinstance(data, dict) or "questions" not in data:
        raise ValueError(f"{path}: expected a mapping with a 'questions' list")
    now = data.get("now")
    if isinstance(now, str):
        now = datetime.fromisoformat(now)
    questions = []
    for i, item in enumerate(data["questions"]):
        if "question" in item and "accept" in item:
            questions.append(_dev_question(item))
            continue
        if "q" not in item:
            raise ValueError(f"{path}: question {i + 1} has no 'q'")
        if not item.get("unanswerable") and not item.get("answers"):
            raise ValueError(f"{path}: question {i + 1} ({item['q']!r}) needs 'answers' or 'unanswerable: true'")
        evidence = tuple(Evidence(**e) if isinstance(e, dict) else Evidence(file=str(e)) for e in item.get("evidence", []))
        questions.append(Question(q=item["q"], answers=tuple(item.get("answers", ())), evidence=evidence,
                                  unanswerable=bool(item.get("unanswerable")), category=item.get("category", "")))
    return questions, now


def _dev_question(item: dict) -> Question:
    """One question of the development set's format (module doc)."""
    evidence = tuple(Evidence(file=Path(e["file"]).name, start=float(e.get("start_s", 0.0)),
                              end=float(e.get("end_s", 1e9))) for e in item.get("evidence") or [])
    if not evidence and item.get("file"):
        evidence = (Evidence(file=Path(item["file"]).name),)
    kind = str(item.get("kind", ""))
    return Question(q=item["question"], answers=tuple(item["accept"]), evidence=evidence,
                    unanswerable=kind == "unanswerable", category=kind, id=str(item.get("id", "")), cite_required=False)


def judge(question: Question, answer: Answer) -> tuple[bool, bool | None]:
    """(answer correct, evidence hit) for one answer."""
    if question.unanswerable:
        if question.answers:  # abstention phrases: the answer must say it does not know
            return any(re.search(p, answer.text.lower()) for p in question.answers), None
        return answer.abstained, None
    text = answer.text.lower()
    correct = not answer.abstained and any(re.search(p, text, re.I) for p in question.answers)
    hit = any(
        Path(c.path).name == e.file and c.start_s <= e.end + 0.5 and c.end_s >= e.start - 0.5
        for c in answer.citations for e in question.evidence
    ) if question.evidence else None
    if question.cite_required and hit is False:
        correct = False
    return correct, hit


def evaluate(mem: Memory, questions: Sequence[Question], *, agents: Sequence[str] = ("adaptive", "flat"),
             now: datetime | None = None, progress: Any = None) -> list[Report]:
    reports = []
    mem.ask(questions[0].q, now=now)  # load the query models once, outside the timings
    for agent in agents:
        report = Report(agent)
        for i, q in enumerate(questions):
            t0 = time.perf_counter()
            answer = mem.ask(q.q, agent=agent, now=now)
            seconds = time.perf_counter() - t0
            correct, hit = judge(q, answer)
            report.outcomes.append(Outcome(q, agent, answer.text, answer.abstained, correct, hit, seconds))
            if progress:
                progress(agent, i + 1, len(questions))
        reports.append(report)
    return reports


def format_table(reports: Sequence[Report]) -> str:
    rows = [r.summary() for r in reports]
    keys = ["questions", "accuracy", "answerable_accuracy", "abstention_precision", "abstention_recall",
            "evidence_hit_rate", "latency_p50_ms", "latency_p95_ms"]
    width = max(len(k) for k in keys)
    lines = [f"{'':{width}s}  " + "  ".join(f"{r['agent']:>10s}" for r in rows)]
    for k in keys:
        lines.append(f"{k:{width}s}  " + "  ".join(f"{str(r[k]):>10s}" for r in rows))
    cats = sorted({c for r in rows for c in r["accuracy_by_category"]})
    for c in cats:
        lines.append(f"{'  accuracy: ' + c:{width}s}  " + "  ".join(
            f"{str(r['accuracy_by_category'].get(c)):>10s}" for r in rows))
    return "\n".join(lines)
