"""Making deleted rows unrecoverable from disk: what forgetting and the storage budget need.

A LanceDB delete only marks rows deleted: their bytes stay in the data file (until a compaction
rewrites that fragment, which `optimize()` does only past 10% of it deleted), in every older
version, and in the indexes built before. `purge(table)` removes them for good:

1. `optimize(cleanup_older_than=0, delete_unverified=True)`: compacts small fragments and removes
   every older version and any file a killed writer left behind;
2. every fragment that still carries a deletion file (`_deletions/<fragment>-<version>-<id>.*`, as
   the Lance format names them) is rewritten: an update of all its rows (`_rowaddr` in the
   fragment's range) writes them anew, and the emptied fragment leaves the manifest;
3. the table's indexes are rebuilt from the live rows (full-text, scalar and vector: an index
   keeps the tokens, values and codes of rows deleted after it was built);
4. step 1 again, which deletes the old data, deletion and index files.

Only under the library's writer lock: `cleanup_older_than=0` and `delete_unverified` remove files
that a concurrent writer of this table would still need. A reader that is half-way through a query
on an older version may see that query fail once (it reads the new version on its next call).
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from lancedb.index import FTS, Bitmap, BTree, LabelList

from lifelog import indexes

log = logging.getLogger(__name__)

# FTS options as `list_indices()` reports them -> the `FTS` config field
_FTS_FIELDS = {"with_position": "with_position", "base_tokenizer": "base_tokenizer", "language": "language",
               "max_token_length": "max_token_length", "lower_case": "lower_case", "stem": "stem",
               "remove_stop_words": "remove_stop_words", "ascii_folding": "ascii_folding",
               "min_ngram_length": "ngram_min_length", "max_ngram_length": "ngram_max_length",
               "prefix_only": "prefix_only", "custom_stop_words": "custom_stop_words"}


@dataclass
class PurgeStats:
    fragments_rewritten: int = 0
    indexes_rebuilt: int = 0


def cleanup(table: Any) -> None:
    """Compact, and remove every version but the latest (and files of failed writes)."""
    with warnings.catch_warnings():  # its warning is about concurrent users: the caller holds the lock
        warnings.simplefilter("ignore", UserWarning)
        table.optimize(cleanup_older_than=timedelta(0), delete_unverified=True)


def fragments_with_deletions(folder: Path | None) -> list[int] | None:
    """Fragment ids that carry deletion files in a table folder (after `cleanup`, only the live
    version's); None when the folder cannot be read, or is in object storage (then every fragment
    is rewritten)."""
    if folder is None:
        return None
    deletions = folder / "_deletions"
    if not folder.is_dir():
        return None
    if not deletions.is_dir():
        return []
    out: set[int] = set()
    for f in deletions.iterdir():
        head = f.name.split("-", 1)[0]
        if not head.isdigit():
            return None
        out.add(int(head))
    return sorted(out)


def _index_config(cfg: Any, table: Any) -> Any | None:
    kind = cfg.index_type
    if kind == "BTree":
        return BTree()
    if kind == "Bitmap":
        return Bitmap()
    if kind == "LabelList":
        return LabelList()
    if kind == "FTS":
        details = dict(getattr(cfg, "index_details", None) or {})
        return FTS(**{field: details[key] for key, field in _FTS_FIELDS.items() if details.get(key) is not None})
    if kind in ("IvfPq", "IvfHnswSq"):
        name = "IVF_PQ" if kind == "IvfPq" else "IVF_HNSW_SQ"
        dim = table.schema.field(cfg.columns[0]).type.list_size
        return indexes.vector_index_config(name, table.count_rows(), dim)  # type: ignore[arg-type]
    return None


def rebuild_indexes(table: Any) -> int:
    """Build every index of a table again from its live rows. Returns the indexes rebuilt."""
    n = 0
    for cfg in table.list_indices():
        config = _index_config(cfg, table)
        if config is None or len(cfg.columns) != 1:
            log.warning("index %s (%s) of %s is kept as it is: no rebuild for its kind", cfg.name, cfg.index_type,
                        table.name)
            continue
        try:
            table.create_index(cfg.columns[0], config=config, replace=True)
        except Exception:  # a vector index over too few rows: exact search needs none
            if cfg.index_type not in ("IvfPq", "IvfHnswSq"):
                raise
            log.warning("vector index %s of %s could not be rebuilt; dropped (search is exact)", cfg.name, table.name)
            table.drop_index(cfg.name)
        n += 1
    return n


def purge(table: Any, folder: Path | None, *, rebuild: bool = True) -> PurgeStats:
    """Remove deleted rows' bytes from a table's files (module docstring). `folder`: the table's
    `<name>.lance` directory. rebuild=False: no rows of it were deleted since its indexes were
    built, so they are kept."""
    stats = PurgeStats()
    cleanup(table)
    fragments = fragments_with_deletions(folder)
    first = table.schema.names[0]
    if fragments is None:
        (log.warning if folder is not None else log.info)("%s: cannot read its deletion files; rewriting every row",
                                                          folder or table.name)
        table.update(where="true", values_sql={first: f"`{first}`"})
        stats.fragments_rewritten = -1
    for fragment in fragments or []:
        lo, hi = fragment << 32, (fragment + 1) << 32
        table.update(where=f"_rowaddr >= {lo} AND _rowaddr < {hi}", values_sql={first: f"`{first}`"})
        stats.fragments_rewritten += 1
    if rebuild or stats.fragments_rewritten:
        stats.indexes_rebuilt = rebuild_indexes(table)
    cleanup(table)
    return stats
