"""Every setting paperfeed reads, declared once: the fields of `Settings`.

Each field carries its type (the annotation), default, help and whether it is
a secret; everything else is derived from them: parsing `PAPERFEED_*`
variables (type-checked; an unknown or obsolete name is an error, not silently
ignored), `PAPERFEED_<NAME>_FILE` for secrets (Docker/systemd credentials),
the `paperfeed settings` listing with secrets redacted, the CLI flags' help,
and the tests that keep docs/settings.md and the README's table complete.

Precedence, later wins: defaults, `PAPERFEED_*` environment variables, explicit
overrides (CLI flags). The `Settings` object is passed down explicitly; nothing
reads the environment behind its back.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, fields, replace
from functools import cache
from pathlib import Path
from typing import Any, NamedTuple, TypeVar, get_type_hints
from urllib.parse import urlsplit

from .errors import ConfigError

T = TypeVar("T")
PREFIX = "PAPERFEED_"
# PAPERFEED_* variables that are not settings: read by one command, or by the tests.
NOT_SETTINGS = frozenset({"PAPERFEED_NEW_PASSWORD", "PAPERFEED_SHARED", "PAPERFEED_CHROMIUM",
                          "PAPERFEED_SCREENSHOTS"})
# Settings that were removed or renamed -> what to do instead (an error names it).
OBSOLETE_SETTINGS: dict[str, str] = {}
REDACTED = "********"


def setting(default: T, help: str, *, secret: bool = False) -> T:
    """One declared setting: a dataclass field with its help and secrecy as metadata."""
    return field(default=default, repr=not secret, metadata={"help": help, "secret": secret})


@dataclass(frozen=True)
class Settings:
    home: Path = setting(Path("./paperfeed-data"), "Data directory: SQLite store and index "
                         "files.")
    database_url: str = setting("", "Where the store lives: postgresql://USER:PASSWORD@HOST/DB "
                                "for server mode (needs `pip install 'paperfeed[postgres]'`); "
                                "empty: the SQLite file paperfeed.sqlite in the data directory.",
                                secret=True)
    embedder: str = setting("static-arxiv-384", "Embedding model for documents and queries.")
    load_demo: bool = setting(True, "Load the bundled demo corpus when the store is empty.")
    host: str = setting("127.0.0.1", "Address `paperfeed serve` listens on.")
    port: int = setting(8000, "Port `paperfeed serve` listens on.")
    access_log: bool = setting(False, "Log every request `paperfeed serve` answers, one line "
                               "each on standard output.")
    web_threads: int = setting(4, "Threads per web process running page handlers; more only "
                               "adds contention for Python's GIL.")
    page_size: int = setting(30, "Papers per page on the web site.")
    max_limit: int = setting(100, "Largest `limit` an API request may ask for.")
    new_hours: int = setting(24, "A paper listed within this many hours of the newest "
                             "listing day is marked new (24: that day's papers).")
    base_url: str = setting("", "Public URL of the site, for links in emails and feeds "
                            "(default: http://HOST:PORT).")
    secret_key: str = setting("", "Signs tokens in emailed links; default: a random key kept "
                              "in HOME/secret_key.", secret=True)
    trusted_hosts: str = setting("localhost,127.0.0.1,::1", "Host names the site answers to, "
                                 "comma-separated, besides the host of PAPERFEED_BASE_URL; "
                                 "'*' for any. Requests for other hosts get a 400.")
    forwarded_allow_ips: str = setting("", "Addresses of the reverse proxies whose "
                                       "X-Forwarded-For/-Proto headers are believed, "
                                       "comma-separated ('*' for any); empty believes none.")
    cookie_secure: bool = setting(False, "Send session cookies over HTTPS only (set behind "
                                  "TLS).")
    trending_half_life_hours: int = setting(24, "A paper's votes count half as much after "
                                            "this many hours.")
    arxiv_api_url: str = setting("https://export.arxiv.org/api/query", "arXiv query API, "
                                 "asked when a member submits a paper the store lacks.")
    smtp_host: str = setting("", "SMTP server for outgoing mail; empty disables email.")
    smtp_port: int = setting(587, "SMTP port (587 STARTTLS, 465 SSL, 25 plain).")
    smtp_security: str = setting("starttls", "none, starttls or ssl.")
    smtp_username: str = setting("", "SMTP login; empty for no authentication.")
    smtp_password: str = setting("", "SMTP password.", secret=True)
    smtp_timeout: int = setting(20, "Seconds before an SMTP connection or command gives up.")
    mail_from: str = setting("paperfeed <paperfeed@localhost>", "From: of every email.")
    mail_reply_to: str = setting("", "Reply-To: of every email; empty for none.")
    digest_size: int = setting(10, "Papers per digest section, at most.")
    digest_retry_base_s: float = setting(60.0, "First retry of a temporarily failed digest "
                                         "after this many seconds, doubling each time.")
    digest_max_attempts: int = setting(6, "Attempts before a digest is given up.")
    digest_pause_after: int = setting(3, "Hard delivery failures in a row that pause a "
                                      "subscription.")
    digest_keep_days: int = setting(90, "Days a settled digest (sent, failed or empty) is "
                                    "kept in the outbox, with the record of its papers; at "
                                    "least 8, so no paper a digest can still offer is sent "
                                    "twice.")
    schedule_harvest: str = setting("0 5 * * *", "When `paperfeed worker` harvests arXiv "
                                    "(cron, UTC).")
    schedule_daily_digest: str = setting("0 7 * * *", "When daily digests go out (cron, UTC).")
    schedule_weekly_digest: str = setting("0 7 * * mon", "When weekly digests go out (cron, "
                                          "UTC).")
    arxiv_oai_url: str = setting("https://oaipmh.arxiv.org/oai", "arXiv OAI-PMH endpoint "
                                 "`paperfeed harvest arxiv` and the worker harvest.")
    harvest_set: str = setting("", "arXiv OAI set the worker harvests, e.g. cs; empty: no "
                               "harvesting.")

    @property
    def db_path(self) -> Path:
        return self.home / "paperfeed.sqlite"

    @property
    def store_url(self) -> str:
        """Where the store lives: PAPERFEED_DATABASE_URL, or the SQLite file in the data
        directory."""
        return self.database_url or f"sqlite:///{self.db_path.resolve()}"

    @property
    def index_dir(self) -> Path:
        return self.home / "index"

    @property
    def public_url(self) -> str:
        """Absolute site URL without a trailing slash, for emails and feeds."""
        return (self.base_url or f"http://{self.host}:{self.port}").rstrip("/")

    @property
    def allowed_hosts(self) -> frozenset[str]:
        """Host names (lower case, no port) the web app answers to; '*' means any."""
        listed = {h.strip().lower().strip("[]") for h in self.trusted_hosts.split(",")}
        own = {urlsplit(self.public_url).hostname or "", self.host.lower().strip("[]")}
        return frozenset((listed | own) - {"", "0.0.0.0", "::"})

    def with_overrides(self, **overrides: Any) -> Settings:
        given = {k: v for k, v in overrides.items() if v is not None}
        return replace(self, **{k: _as_declared(k, v) for k, v in given.items()})


class Declared(NamedTuple):
    """One row of the settings table, as docs, the CLI and `paperfeed settings` see it."""

    name: str
    type: type
    default: Any
    help: str
    secret: bool

    @property
    def env(self) -> str:
        return PREFIX + self.name.upper()


@cache
def declared() -> dict[str, Declared]:
    """The settings table, in declaration order, keyed by field name."""
    types = get_type_hints(Settings)
    return {f.name: Declared(f.name, types[f.name], f.default, f.metadata["help"],
                             f.metadata["secret"]) for f in fields(Settings)}


def _boolean(raw: str) -> bool:
    if raw.lower() in ("1", "true", "yes", "on"):
        return True
    if raw.lower() in ("0", "false", "no", "off"):
        return False
    raise ValueError(raw)


PARSERS: dict[type, Callable[[str], Any]] = {
    bool: _boolean, int: int, float: float, str: str, Path: lambda raw: Path(raw).expanduser()}


def _parse(row: Declared, variable: str, raw: str) -> Any:
    try:
        return PARSERS[row.type](raw)
    except ValueError:
        raise ConfigError(f"{variable}={raw!r} is not a valid {row.type.__name__}") from None


def _as_declared(name: str, value: Any) -> Any:
    """An override (a CLI flag, a test's keyword) as the declared type: paths expanded."""
    row = declared().get(name)
    if row is None:
        raise ConfigError(f"unknown setting {name!r}")
    return Path(value).expanduser() if row.type is Path else value


def _unknown(variable: str) -> ConfigError:
    name = variable.removeprefix(PREFIX).lower()
    if name in OBSOLETE_SETTINGS:
        return ConfigError(f"{variable} is no longer a setting: {OBSOLETE_SETTINGS[name]}")
    close = difflib.get_close_matches(name, declared(), n=1)
    hint = (f"did you mean {declared()[close[0]].env}?" if close
            else "known: " + ", ".join(row.env for row in declared().values()))
    return ConfigError(f"unknown setting {variable}; {hint}")


def _read_secret_file(variable: str, path: str) -> str:
    try:
        return Path(path).read_text().rstrip("\r\n")
    except OSError as exc:
        raise ConfigError(f"{variable}: cannot read {path}: {exc.strerror}") from None


def _from_environment(env: Mapping[str, str]) -> Iterator[tuple[str, Any]]:
    table = declared()
    for variable, raw in env.items():
        if not variable.startswith(PREFIX) or variable in NOT_SETTINGS:
            continue
        name = variable.removeprefix(PREFIX).lower()
        if name in table:
            if table[name].secret and variable + "_FILE" in env:
                raise ConfigError(f"set {variable} or {variable}_FILE, not both")
            yield name, _parse(table[name], variable, raw)
        elif name.endswith("_file") and name.removesuffix("_file") in table:
            row = table[name.removesuffix("_file")]
            if not row.secret:
                raise ConfigError(f"{variable}: only secrets are read from a file; set "
                                  f"{row.env} itself")
            yield row.name, _read_secret_file(variable, raw)
        else:
            raise _unknown(variable)


def load_settings(environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
    """Defaults, then PAPERFEED_* variables, then `overrides` (e.g. CLI flags)."""
    from_env = dict(_from_environment(os.environ if environ is None else environ))
    return Settings(**from_env).with_overrides(**overrides)


def redacted(settings: Settings) -> Iterator[tuple[Declared, str]]:
    """Each setting with its value as text, secrets hidden: for `paperfeed settings`."""
    for row in declared().values():
        value = getattr(settings, row.name)
        yield row, REDACTED if row.secret and value else str(value)
