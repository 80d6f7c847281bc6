"""Lifelog: a local memory of your photos, videos and recordings that answers with evidence.

    import lifelog
    mem = lifelog.open()                  # or lifelog.open("~/memories", profile="full")
    mem.ingest(["~/Pictures"])
    print(mem.ask("where did I leave my keys?").text)
"""

from lifelog.memory import Memory, open
from lifelog.schema import Answer, Citation, Filters, Hit, ModelRow, Status, Step
from lifelog.settings import Settings, load_settings

__version__ = "0.1.0"
__all__ = ["Answer", "Citation", "Filters", "Hit", "Memory", "ModelRow", "Settings", "Status", "Step",
           "load_settings", "open"]
