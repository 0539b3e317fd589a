"""The store: incidents kept in a GeoPackage file or PostGIS, their articles, corrections and users,
and what is read and exported from them. `geo.store.Store` is the one entry point.

One module per concern: `core` (the Store: opening, transactions), `schema` (tables, migrations),
`engines` (what differs between GeoPackage and PostGIS), `writing` (articles, merging), `queries`
(filters, reads), `audit` (corrections, deletions, undo, roles), `auth` (users, sign-in), `frame` (the
GeoDataFrame), `merge` (the same event), `export`, `dataset` (GeoParquet, read-only), `gpkg`.
"""
from .audit import EditConflict
from .core import Store
from .engines import resolve_url
from .errors import ArticleRefused, StoreError
from .queries import BadFilter, Filters
from .rows import now as _now
from .schema import SCHEMA_VERSION, articles, corrections, incident_sources, incidents
from .writing import IngestSummary, article_key

__all__ = ["SCHEMA_VERSION", "ArticleRefused", "BadFilter", "EditConflict", "Filters", "IngestSummary", "Store", "StoreError", "article_key",
           "articles", "corrections", "incident_sources", "incidents", "resolve_url"]
