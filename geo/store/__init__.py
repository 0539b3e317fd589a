"""The store: incidents kept in a GeoPackage file or PostGIS, their articles, corrections and users,
and what is read and exported from them. `geo.store.Store` is the one entry point."""
from .core import (SCHEMA_VERSION, EditConflict, Filters, IngestSummary, Store, StoreError, article_key,
                   articles, corrections, incident_sources, incidents, resolve_url, _now)

__all__ = ["SCHEMA_VERSION", "EditConflict", "Filters", "IngestSummary", "Store", "StoreError", "article_key",
           "articles", "corrections", "incident_sources", "incidents", "resolve_url"]
