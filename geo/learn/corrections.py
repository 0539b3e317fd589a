"""People's corrections as labelled examples for the next training run.

When an editor fixes a toll, a type or a place in the dashboard, the store keeps who changed what from
what to what (`corrections`). Each correction, with the sentence the incident cites as evidence, is an
example the models can learn from: `python -m geo export --corrections -o FILE` writes them as JSON
lines, the toll corrections in the shape `geo.learn.tolls.read_labelled` reads (`data/training/tolls.jsonl`).
"""
from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from ..store import Store


def labelled_examples(store: Store) -> Iterator[dict[str, Any]]:
    """One example per correction, in the order they were made, with where its text came from."""
    fixes = store.corrections()
    if fixes.empty:
        return
    ids = sorted(set(fixes["incident_id"]))
    sources = store.sources(ids)
    first_source = {row.incident_id: row for row in sources.itertuples() if row.evidence}
    for row in fixes.itertuples():
        src = first_source.get(row.incident_id)
        after = json.loads(row.after) if row.after is not None else None
        example = {"id": f"correction-{row.fid}", "incident_id": row.incident_id, "field": row.field,
                   "before": json.loads(row.before) if row.before is not None else None, "after": after,
                   "text": src.evidence if src is not None else None,
                   "source": f"correction by {row.who} at {row.at}" + (
                       f" of {src.url or src.external_id or src.article_key}" if src is not None else ""),
                   "note": row.note}
        if row.field in ("killed", "wounded"):
            example[row.field] = after  # what `read_labelled` trains the toll reader on
            example.setdefault("killed" if row.field == "wounded" else "wounded", None)
        yield example
