"""Watch: sources polled into the store, watch areas, and alerts delivered once (dashboard, webhook, e-mail).

`Watcher` runs the loop (`python -m geo watch`); `match_new_incidents` matches what changed in the store
against the areas and can be called after any write (an ingest, a correction); the tables live in the
store beside its own and are created on first use.
"""
from .alerts import Alert, mark_read, match_new_incidents, recent_alerts
from .areas import AreaError, WatchArea, box_area, circle_area, list_areas, polygon_area, region_area, remove_area, \
    save_area
from .channels import SmtpSettings
from .matching import AreaIndex
from .outbox import Deliverer, deliver_due, receivers
from .sources import SourceSpec, WatchError, read_sources_file, source_status, sync_sources
from .watcher import Watcher

__all__ = ["Alert", "AreaError", "AreaIndex", "Deliverer", "SmtpSettings", "SourceSpec", "WatchArea", "WatchError",
           "Watcher", "box_area", "circle_area", "deliver_due", "list_areas", "mark_read", "match_new_incidents",
           "polygon_area", "read_sources_file", "receivers", "recent_alerts", "region_area", "remove_area",
           "save_area", "source_status", "sync_sources"]
