"""Lifelog: a local memory of your photos, videos and recordings that answers with evidence.

    import lifelog
    mem = lifelog.open()                  # or lifelog.open("~/memories", profile="full")
    mem.ingest(["~/Pictures"])
    print(mem.ask("where did I leave my keys?").text)

Inside the package imports point one way, from the lowest layer up (`LAYERS`; tests/test_layout.py
holds every module to it). A module may import modules of lower layers, and of its own layer where
that makes no cycle:

1. sql (filter text), lock (the writer lock), timeparse (time phrases), settings, readers (values
   read in evidence text: totals, labelled values, numbers, offsets), lexicon (WordNet's broader
   classes), webserve (the guarded web server: Host, Origin and token checks)
2. schema: typed results, `Filters`, the agent's `Retriever` interface
3. question (what a question asks), db (connection, lock, every table's schema), assets (a file's
   pictures: a folder here, and rows in the database when it is remote), indexes (index
   policy), hits (rows -> `Hit`), wire (answers, hits and status as JSON, and back)
3b. client (the CLI's way to a running `lifelog serve`: nothing heavy is imported)
4. store: the media and episodes tables; vacuum (deleted rows purged from disk); vocab (the
   place names, tags and words episodes carry)
5. semantic.things, semantic.people, semantic.places, visual: the memories beside the episodes
6. semantic: consolidation over people, places and things
7. writer: one file's unit of work across every table; consolidation (days and photo sessions
   across files); budget (the storage budget); forget
   (files, spans and people taken out of every table, crash-safe); cluster (ingestion on a Ray
   cluster's workers, written here)
8. labels (how evidence is named), typed_text (answers read in text: amounts, values, names),
   typed (answers of the asked type: place, date, device, amount, ...), rounds (the retrieval
   rounds: adaptive, flat, the evidence cut-off, the line that answers), resolve (places, spellings and
   stays a question names, read against the library)
9. agent: answers, written against `Retriever`
10. memory: the facade that wires the parts (and implements `Retriever`)
11. evaluate, selftest (questions made from the library itself), cli_forget, cli_eval (the
    `forget`, `eval` and `selftest` commands), api (what other programs may ask, as JSON), jobs
    (ingestion in a background thread); then cli_query (`search`, `ask`, `status`, in-process or
    on a running service)
12. service (`lifelog serve`: the HTTP API), mcp_server (`lifelog mcp`: the same over MCP), then cli
"""

from typing import TYPE_CHECKING, Any

from lifelog.schema import Answer, Citation, Filters, Hit, ModelRow, Status, Step
from lifelog.settings import Settings, load_settings

if TYPE_CHECKING:
    from lifelog.memory import Memory, open


def __getattr__(name: str) -> Any:
    """`Memory` and `open` load the store and its libraries (LanceDB, Arrow) on first use only: the
    CLI's help, and a question sent to a running service, start without them."""
    if name in ("Memory", "open"):
        from lifelog import memory

        return getattr(memory, name)
    raise AttributeError(f"module 'lifelog' has no attribute {name!r}")

LAYERS: tuple[tuple[str, ...], ...] = (
    ("sql", "lock", "timeparse", "settings", "readers", "lexicon", "webserve"),
    ("schema",),
    ("question", "db", "assets", "indexes", "hits", "wire"),
    ("client",),
    ("store", "vacuum", "vocab"),
    ("semantic.things", "semantic.people", "semantic.voices", "semantic.places", "visual"),
    ("semantic",),
    ("writer", "budget", "forget", "consolidation", "cluster"),
    ("labels",),
    ("typed_text",),
    ("typed", "rounds", "resolve"),
    ("agent",),
    ("memory",),
    ("evaluate", "selftest", "cli_forget", "cli_eval", "api", "jobs"),
    ("cli_query",),
    ("service", "mcp_server"),
    ("cli",),
)

__version__ = "0.1.0"
__all__ = ["Answer", "Citation", "Filters", "Hit", "Memory", "ModelRow", "Settings", "Status", "Step",
           "load_settings", "open"]
