"""The `paperfeed` command: serve, ingest, harvest, index, search, similar."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click
from tqdm import tqdm

from ..catalog import Catalog
from ..discover.search import MODES
from ..errors import PaperfeedError
from ..settings import declared, load_settings, redacted
from .backup import backup, restore
from .context import Context, pass_context
from .db import db
from .users import user

if TYPE_CHECKING:
    from ..api.shapes import RankedItem
    from ..catalog import IngestReport
    from ..sources.arxiv_oai import HarvestPage
    from ..sources.http import Retry


F = TypeVar("F", bound=Callable[..., Any])


def setting_option(*flags: str, name: str) -> Callable[[F], F]:
    """A flag that overrides setting `name`; its help and default come from the table."""
    row = declared()[name]
    kind: Any = click.Path(file_okay=False, path_type=Path) if row.type is Path else row.type
    shown = row.default or "empty"
    return click.option(*flags, name, type=kind, default=None,
                        help=f"{row.help}  [default: ${row.env}, else {shown}]")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@setting_option("--data-dir", name="home")
@setting_option("--embedder", name="embedder")
@click.option("--debug", is_flag=True, help="Show tracebacks.")
@click.version_option(package_name="paperfeed")
@click.pass_context
def cli(ctx: click.Context, home: Path | None, embedder: str | None, debug: bool) -> None:
    """Self-hosted research-paper discovery."""
    ctx.obj = Context(load_settings(home=home, embedder=embedder), debug)


@cli.command()
@setting_option("--host", name="host")
@setting_option("--port", name="port")
@click.option("--workers", type=click.IntRange(1, 256), default=1, show_default=True,
              help="Web processes (they share the data directory).")
@pass_context
def serve(ctx: Context, host: str | None, port: int | None, workers: int) -> None:
    """Serve the web site and JSON API."""
    from ..web.serving import listen, serve_one
    from ..web.workers import claim, serve_workers

    settings = ctx.settings.with_overrides(host=host, port=port)
    # The address first: a taken port is an error now, not after the model has loaded.
    sock = listen(settings.host, settings.port) if workers == 1 else None
    if sock is None:
        claim(settings)
    started = time.perf_counter()
    catalog = Catalog(settings)  # loads the demo corpus into an empty store, indexes it
    for tier in (catalog.indexes.semantic, catalog.indexes.transformer):
        if tier is not None:  # load the models now, not on the first search
            tier.embed_query("warm up")

    def ready() -> None:
        click.echo(f"paperfeed: {catalog.store.papers.count()} papers in {settings.home} "
                   f"(ready in {time.perf_counter() - started:.1f}s) — "
                   f"http://{settings.host}:{settings.port}/", err=True)

    if sock is None:
        from ..jobs.follower import IndexFollower

        # The workers open the index read-only: this process keeps it following the store.
        IndexFollower(catalog).start()
        serve_workers(settings, workers, on_ready=ready)
        return
    from ..web import create_app

    serve_one(create_app(settings, catalog), sock, settings, on_ready=ready)


@cli.command()
@click.argument("paths", nargs=-1, required=True,
                type=click.Path(exists=True, dir_okay=True, path_type=Path))
@click.option("--format", "fmt", help="Force the input format instead of detecting it.")
@click.option("--no-index", is_flag=True, help="Only store; run `paperfeed index` later.")
@pass_context
def ingest(ctx: Context, paths: tuple[Path, ...], fmt: str | None, no_index: bool) -> None:
    """Ingest files: page captures, arXiv JSON lines (.jsonl[.xz|.gz]), BibTeX.

    A folder's files are ingested one by one; a file of unknown format, or one that
    cannot be read, is skipped with a warning. Exit status 0: everything was stored;
    2: files or records were skipped (each named on standard error).
    """
    from ..errors import SourceError
    from ..sources import format_name, read_source

    if fmt:
        format_name(fmt)  # a wrong --format is a usage error, not one per file
    catalog = ctx.catalog(load_demo=False)
    files = [p for path in paths for p in (sorted(path.iterdir()) if path.is_dir() else [path])
             if p.is_file()]
    started = time.perf_counter()
    skipped = 0
    for path in files:
        try:
            records = read_source(path, fmt)
            with tqdm(desc=path.name, unit="paper", disable=None, file=sys.stderr) as bar:
                report = catalog.ingest(records, on_batch=bar.update)
        except SourceError as exc:  # what was stored before a read error stays stored
            click.echo(f"skipped {path}: {exc}", err=True)
            skipped += 1
            continue
        _echo_records(report)
        skipped += len(report.skipped)
        s = report.stats
        click.echo(f"{path}: {s.inserted} new, {s.updated} updated, {s.unchanged} unchanged, "
                   f"{len(report.skipped)} skipped")
    click.echo(f"stored in {time.perf_counter() - started:.1f}s; "
               f"{catalog.store.papers.count()} papers in the store")
    if not no_index:
        _index(catalog)
    if skipped:
        sys.exit(2)


def _echo_records(report: IngestReport, shown: int = 20) -> None:
    """The skipped and amended records of one ingest, each with its file:line."""
    for verb, records in (("skipped", report.skipped), ("amended", report.amended)):
        for record in records[:shown]:
            click.echo(f"{verb} {record.source_ref}: {record.reason}", err=True)
        if len(records) > shown:
            click.echo(f"... and {len(records) - shown} more {verb}", err=True)


def _index(catalog: Catalog, *, map_too: bool = False) -> None:
    report = catalog.reindex(progress=True)
    if report.indexed:
        click.echo(f"indexed {report.indexed} papers in {report.seconds:.1f}s "
                   f"({report.embedded} embedded in {report.embed_seconds:.1f}s, "
                   f"{report.from_cache} from cache)")
    if not catalog.indexes.map.building:
        return
    if not map_too:  # an ingest or harvest: the map is a long fit at scale (docs/map.md)
        click.echo("the map of the corpus is due: a running server fits it in the "
                   "background, or run `paperfeed index`", err=True)
        return
    built = catalog.indexes.build_map(catalog.store.papers)
    click.echo(f"laid out the map of {built.indexed} papers in {built.seconds:.1f}s")


@cli.group(invoke_without_command=True)
@click.option("--wait", is_flag=True,
              help="Also run the transformer backfill to completion (newest papers first).")
@click.pass_context
def index(click_ctx: click.Context, wait: bool) -> None:
    """Bring the keyword and vector indexes and the map up to date (resumable)."""
    if click_ctx.invoked_subcommand is not None:
        return
    catalog = click_ctx.ensure_object(Context).catalog()
    _index(catalog, map_too=True)
    if wait:
        report = catalog.indexes.backfill(catalog.store.papers, progress=True)
        if report.indexed:
            click.echo(f"backfilled {report.indexed} papers in {report.seconds:.1f}s "
                       f"({report.embedded} embedded, {report.from_cache} from cache)")
    for tier in (catalog.indexes.semantic, catalog.indexes.transformer):
        if tier is not None:
            click.echo(f"{tier.stamp.count} papers indexed with {tier.stamp.model}")


@index.command("status")
@pass_context
def index_status(ctx: Context) -> None:
    """Each index's progress: papers done of the store's, backfill rate and ETA."""
    from ..index.backfill import progress
    from ..store import Store

    store = Store(ctx.settings.store_url)
    click.echo(f"{'index':<20} {'model':<20} {'done':>17} {'rate':>10} {'ETA':>9}")
    for tier in progress(ctx.settings.index_dir, store.papers):
        share = f"{tier.done}/{tier.total} {tier.percent:>4}".rstrip()
        rate = f"{tier.rate:.1f}/s" if tier.rate else "-"
        click.echo(f"{tier.name:<20} {tier.model or '(bm25)':<20} {share:>17} {rate:>10} "
                   f"{tier.eta:>9}")
    store.close()


@cli.group()
def harvest() -> None:
    """Harvest papers from remote servers."""


@harvest.command("arxiv")
@click.option("--set", "set_spec", default="cs", show_default=True, help="OAI set, e.g. cs, math.")
@click.option("--from", "from_date", help="First datestamp (YYYY-MM-DD).")
@click.option("--until", "until", help="Last datestamp (YYYY-MM-DD).")
@setting_option("--url", name="arxiv_oai_url")
@click.option("--delay", type=float, default=3.0, show_default=True,
              help="Seconds between requests (arXiv asks for 3).")
@click.option("--max-retries", type=click.IntRange(0, 20), default=5, show_default=True,
              help="Retries of a failed request (with backoff) before giving up.")
@click.option("--restart", is_flag=True, help="Ignore a saved resumption token.")
@click.option("--no-index", is_flag=True, help="Only store; run `paperfeed index` later.")
@pass_context
def harvest_arxiv(ctx: Context, set_spec: str, from_date: str | None, until: str | None,
                  arxiv_oai_url: str | None, delay: float, max_retries: int, restart: bool,
                  no_index: bool) -> None:
    """Harvest arXiv metadata by OAI-PMH; resumes an interrupted harvest."""
    from ..jobs.harvest import harvest_arxiv

    catalog = ctx.catalog(load_demo=False, arxiv_oai_url=arxiv_oai_url)
    name = f"arxiv-oai:{set_spec}:{from_date or ''}:{until or ''}"
    cursor = None if restart else catalog.store.harvests.cursor(name)
    if cursor and cursor.resumption_token:
        click.echo(f"resuming after page {cursor.pages} ({cursor.records} records so far)",
                   err=True)
    with tqdm(desc=f"arXiv {set_spec}", unit="paper", disable=None, file=sys.stderr) as bar:
        def on_page(page: HarvestPage, report: IngestReport) -> None:
            if page.complete_list_size and bar.total is None:
                bar.total = page.complete_list_size
            for record in page.skipped:
                click.echo(f"skipped {record.source_ref}: {record.reason}", err=True)
            _echo_records(report)
            bar.update(report.seen)

        def on_retry(retry: Retry) -> None:
            tqdm.write(f"retrying: {retry}", file=sys.stderr)

        result = harvest_arxiv(catalog, url=catalog.settings.arxiv_oai_url, set_spec=set_spec,
                               from_date=from_date, until=until, delay_s=delay,
                               max_retries=max_retries, restart=restart, on_page=on_page,
                               on_retry=on_retry)
    click.echo(f"harvested {result.records} records in {result.pages} pages")
    if not no_index:
        _index(catalog)


def _print_ranked(items: list[RankedItem], as_json: bool) -> None:
    """As JSON: the API's item shape (api/shapes.py), so one parser reads both."""
    if as_json:
        click.echo(json.dumps([item.model_dump(mode="json") for item in items],
                              ensure_ascii=False, indent=2))
        return
    if not items:
        click.echo("no results")
    for rank, item in enumerate(items, start=1):
        published = (item.paper.publishedAt or "")[:10]
        click.echo(f"{rank:>3}. {item.title}")
        click.echo(f"     {item.id}  {published}  score {item.score:.4f}")


@cli.command()
@click.argument("query")
@click.option("--limit", type=click.IntRange(1, 1000), default=10, show_default=True)
@click.option("--mode", type=click.Choice(MODES), default="hybrid", show_default=True)
@click.option("--from", "date_from", help="Published on or after (YYYY-MM-DD).")
@click.option("--to", "date_to", help="Published on or before (YYYY-MM-DD).")
@click.option("--category", help="Category, e.g. cs.LG (comma-separated for several).")
@click.option("--json", "as_json", is_flag=True, help="A JSON array, in rank order.")
@pass_context
def search(ctx: Context, query: str, limit: int, mode: str, date_from: str | None,
           date_to: str | None, category: str | None, as_json: bool) -> None:
    """Search papers by meaning and by words. Exits 1 when nothing is a close match."""
    from ..api.shapes import search_items
    from ..discover.relevance import floored_page
    from ..discover.search import parse_filters, required_query
    from ..discover.search import search as run_search

    catalog, query = ctx.catalog(), required_query(query, "QUERY")
    hits = floored_page(catalog, query, run_search(
        catalog, query, limit=limit, mode=mode,
        filters=parse_filters(date_from, date_to, category)), mode=mode)
    if hits or as_json:
        _print_ranked(search_items(catalog, hits), as_json)
    if not hits:
        click.echo(f"no close matches for {query!r}", err=True)
        sys.exit(1)


@cli.command()
@click.argument("paper_id")
@click.option("--limit", type=click.IntRange(1, 1000), default=10, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="A JSON array, in rank order.")
@pass_context
def similar(ctx: Context, paper_id: str, limit: int, as_json: bool) -> None:
    """Papers similar to PAPER_ID (paperfeed or arXiv id)."""
    from ..api.shapes import similar_items
    from ..discover.similar import similar as find_similar
    from ..discover.visibility import lookup

    catalog = ctx.catalog()
    paper = lookup(catalog, paper_id)  # what visitors see: a hidden paper is not found
    _print_ranked(similar_items(catalog, paper, find_similar(catalog, paper, limit)), as_json)


@cli.command("settings")
@pass_context
def show_settings(ctx: Context) -> None:
    """Print the settings in force (secrets masked)."""
    for row, value in redacted(ctx.settings):
        click.echo(f"{row.name:<24} = {value:<32} # {row.help}")


@cli.group()
def digest() -> None:
    """Email digests: send them, see the outbox."""


@digest.command("send")
@click.option("--period", type=click.Choice(["daily", "weekly"]), default="daily",
              show_default=True, help="Which subscriptions are due.")
@click.option("--dry-run", is_flag=True, help="Count what would be sent; send and record nothing.")
@click.option("--max-wait", type=float, default=600, show_default=True,
              help="Keep retrying temporary failures for up to this many seconds.")
@pass_context
def digest_send(ctx: Context, period: str, dry_run: bool, max_wait: float) -> None:
    """Plan and send this period's digests. Safe to rerun: nothing is sent twice."""
    from ..digests import DigestSender

    sender = DigestSender(ctx.catalog(), ctx.settings)
    due = len(sender.subscriptions.stored.due(period))
    if dry_run:
        report = sender.plan(period, dry_run=True)
        click.echo(f"dry run, {period}: {due} active subscriptions; {report.planned} would get "
                   f"a digest, {report.empty} have nothing new, {report.already_planned} were "
                   "sent this period already")
        return
    with tqdm(total=due, desc="planning", unit="sub", disable=None, file=sys.stderr) as plan_bar, \
            tqdm(desc="sending", unit="mail", disable=None, file=sys.stderr) as send_bar:
        report = sender.send(period, max_wait_s=max_wait, plan_progress=plan_bar.update,
                             send_progress=send_bar.update)
    click.echo(f"{period} digests: {report.summary()}")
    timings = ", ".join(f"{k} {v:.1f}s" for k, v in report.seconds.items())
    if timings:
        click.echo(f"time: {timings}", err=True)
    if report.failed:
        sys.exit(2)


@digest.command("status")
@pass_context
def digest_status(ctx: Context) -> None:
    """Outbox counts by status."""
    counts = ctx.catalog().store.outbox.counts()
    click.echo(", ".join(f"{n} {status}" for status, n in sorted(counts.items())) or "empty")


@cli.command()
@pass_context
def worker(ctx: Context) -> None:
    """Run harvesting and digests on their schedules (PAPERFEED_SCHEDULE_*).

    SIGTERM (systemd, docker stop) and SIGINT (Ctrl-C) stop it after the jobs running then
    finish; both are handled here, so a worker started with SIGINT ignored (`nohup ... &`)
    still stops on it."""
    import logging
    import signal

    from ..jobs.scheduler import Worker

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    running = Worker(ctx.settings)
    scheduler = running.scheduler()
    stopped = False

    def stop(signum: int, _frame: object) -> None:
        nonlocal stopped
        stopped = True
        click.echo(f"paperfeed worker: {signal.Signals(signum).name}, stopping once the "
                   "running jobs finish", err=True)
        if scheduler.running:
            scheduler.shutdown(wait=False)  # start() returns; job threads are joined at exit

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    for job in scheduler.get_jobs():  # printed once the signals are handled
        click.echo(f"{job.id:<14} {job.trigger}", err=True)
    if not stopped:
        scheduler.start()


cli.add_command(user)
cli.add_command(db)
cli.add_command(backup)
cli.add_command(restore)


def main() -> None:
    debug = "--debug" in sys.argv
    try:
        cli.main(standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except PaperfeedError as exc:
        if debug:
            raise
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
    except KeyboardInterrupt:
        click.echo("interrupted: rerun the same command to resume", err=True)
        sys.exit(130)
