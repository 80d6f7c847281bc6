"""`lifelog forget`: files, a folder, a time span or a person taken out of memory everywhere
(lifelog/forget.py). Without --yes it only lists what it would forget and exits 0.

    lifelog forget ~/Recordings/REC_0001.m4a            # the listing
    lifelog forget ~/Recordings/REC_0001.m4a --yes      # forgets
    lifelog forget --from 2025-06-14 --to 2025-06-15 --yes
    lifelog forget --person Anna --yes
"""

from __future__ import annotations

import argparse
import sys
from datetime import datetime
from typing import TYPE_CHECKING, Any, Callable

if TYPE_CHECKING:
    from lifelog.forget import ForgetReport
    from lifelog.memory import Memory


def add_forget_command(sub: Any) -> None:
    s = sub.add_parser("forget", help="take files, a time span or a person out of memory, everywhere (lists first)")
    s.add_argument("paths", nargs="*", help="files or folders (every file under them), or media ids")
    s.add_argument("--from", dest="start", help="start of a time span: a local date (2025-06-14) or ISO time")
    s.add_argument("--to", dest="end", help="end of the span: a date (included) or ISO time (excluded)")
    s.add_argument("--person", help="a person (id as listed, or name): their faces, record and name")
    s.add_argument("--yes", action="store_true", help="forget; without it, only list what would be forgotten")
    s.set_defaults(func=cmd_forget)


def print_forget(r: ForgetReport) -> None:
    if r.resumed:
        print("Finished a forget that a crash had interrupted.")
    for item in r.unknown:
        print(f"Not in memory: {item}")
    print(r.summary() if r.files or r.people else "Nothing (more) to forget there.")
    for path in r.files[:100]:
        print(f"  {path}")
    if len(r.files) > 100:
        print(f"  ... and {len(r.files) - 100} more")


def cmd_forget(mem: Memory, args: argparse.Namespace) -> int:
    from lifelog.forget import parse_when, pending

    if not (args.paths or args.start or args.end or args.person):
        print("usage: lifelog forget PATH... | --from DATE --to DATE | --person REF  [--yes]", file=sys.stderr)
        return 2
    if bool(args.start) != bool(args.end):
        print("error: a time span needs both --from and --to (local dates or ISO times)", file=sys.stderr)
        return 2
    jobs: list[Callable[[bool], ForgetReport]] = []
    if args.paths:
        jobs.append(lambda dry: mem.forget_files(args.paths, dry_run=dry))
    if args.start:
        zone = (mem.settings.now or datetime.now().astimezone()).tzinfo
        start, end = parse_when(args.start, zone), parse_when(args.end, zone, end=True)
        jobs.append(lambda dry: mem.forget_span(start, end, dry_run=dry))
    if args.person:
        jobs.append(lambda dry: mem.forget_person(args.person, dry_run=dry))
    if not args.yes and pending(mem.settings.home):
        print("A forget was interrupted: it is finished first when you run with --yes.")
    try:
        for job in jobs:
            print_forget(job(not args.yes))
    except KeyError as e:
        print(f"error: {e.args[0] if e.args else e}", file=sys.stderr)
        return 2
    if not args.yes:
        print("Nothing was changed: run again with --yes to forget this.")
    print("Your own files stay where they are (ingesting them again would bring them back).")
    return 0
