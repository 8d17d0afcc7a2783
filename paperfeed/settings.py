"""Every setting paperfeed reads, declared once.

Precedence, later wins: defaults, `PAPERFEED_*` environment variables, explicit
overrides (CLI flags). The `Settings` object is passed down explicitly; nothing
reads the environment behind its back.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from .errors import ConfigError


@dataclass(frozen=True)
class Setting:
    name: str
    default: Any
    help: str


SETTINGS: tuple[Setting, ...] = (
    Setting("home", "./paperfeed-data", "Data directory: SQLite store and index files."),
    Setting("embedder", "static-minilm-384", "Embedding model for documents and queries."),
    Setting("load_demo", True, "Load the bundled demo corpus when the store is empty."),
    Setting("host", "127.0.0.1", "Address `paperfeed serve` listens on."),
    Setting("port", 8000, "Port `paperfeed serve` listens on."),
    Setting("web_threads", 4, "Threads per web process running page handlers; more "
            "only adds contention for Python's GIL."),
    Setting("page_size", 30, "Papers per page on the web site and default API limit."),
    Setting("max_limit", 100, "Largest `limit` a request may ask for."),
    Setting("new_hours", 24, "A paper first seen less than this many hours ago is marked new."),
    Setting("base_url", "", "Public URL of the site, for links in emails and feeds "
            "(default: http://HOST:PORT)."),
    Setting("secret_key", "", "Signs tokens in emailed links; default: a random key kept in "
            "HOME/secret_key."),
    Setting("trusted_hosts", "localhost,127.0.0.1,::1", "Host names the site answers to, "
            "comma-separated, besides the host of PAPERFEED_BASE_URL; '*' for any. Requests "
            "for other hosts get a 400."),
    Setting("cookie_secure", False, "Send session cookies over HTTPS only (set behind TLS)."),
    Setting("trending_half_life_hours", 24, "A paper's votes count half as much after this "
            "many hours."),
    Setting("arxiv_api_url", "https://export.arxiv.org/api/query",
            "arXiv query API, asked when a member submits a paper the store lacks."),
    Setting("smtp_host", "", "SMTP server for outgoing mail; empty disables email."),
    Setting("smtp_port", 587, "SMTP port (587 STARTTLS, 465 SSL, 25 plain)."),
    Setting("smtp_security", "starttls", "none, starttls or ssl."),
    Setting("smtp_username", "", "SMTP login; empty for no authentication."),
    Setting("smtp_password", "", "SMTP password."),
    Setting("smtp_timeout", 20, "Seconds before an SMTP connection or command gives up."),
    Setting("mail_from", "paperfeed <paperfeed@localhost>", "From: of every email."),
    Setting("mail_reply_to", "", "Reply-To: of every email; empty for none."),
    Setting("digest_size", 10, "Papers per digest section, at most."),
    Setting("digest_retry_base_s", 60.0, "First retry of a temporarily failed digest after "
            "this many seconds, doubling each time."),
    Setting("digest_max_attempts", 6, "Attempts before a digest is given up."),
    Setting("digest_pause_after", 3, "Hard delivery failures in a row that pause a "
            "subscription."),
    Setting("schedule_harvest", "0 5 * * *", "When `paperfeed worker` harvests arXiv (cron)."),
    Setting("schedule_daily_digest", "0 7 * * *", "When daily digests go out (cron, UTC)."),
    Setting("schedule_weekly_digest", "0 7 * * mon", "When weekly digests go out (cron, UTC)."),
    Setting("arxiv_oai_url", "https://oaipmh.arxiv.org/oai", "arXiv OAI-PMH endpoint the "
            "worker harvests."),
    Setting("harvest_set", "", "arXiv OAI set the worker harvests, e.g. cs; empty: no "
            "harvesting."),
)


# PAPERFEED_* variables that are not settings: read by one command, or by the tests.
NOT_SETTINGS = frozenset({"PAPERFEED_NEW_PASSWORD", "PAPERFEED_SHARED", "PAPERFEED_CHROMIUM"})


@dataclass(frozen=True)
class Settings:
    home: Path = Path("./paperfeed-data")
    embedder: str = "static-minilm-384"
    load_demo: bool = True
    host: str = "127.0.0.1"
    port: int = 8000
    web_threads: int = 4
    page_size: int = 30
    max_limit: int = 100
    new_hours: int = 24
    base_url: str = ""
    secret_key: str = ""
    trusted_hosts: str = "localhost,127.0.0.1,::1"
    cookie_secure: bool = False
    trending_half_life_hours: int = 24
    arxiv_api_url: str = "https://export.arxiv.org/api/query"
    smtp_host: str = ""
    smtp_port: int = 587
    smtp_security: str = "starttls"
    smtp_username: str = ""
    smtp_password: str = ""
    smtp_timeout: int = 20
    mail_from: str = "paperfeed <paperfeed@localhost>"
    mail_reply_to: str = ""
    digest_size: int = 10
    digest_retry_base_s: float = 60.0
    digest_max_attempts: int = 6
    digest_pause_after: int = 3
    schedule_harvest: str = "0 5 * * *"
    schedule_daily_digest: str = "0 7 * * *"
    schedule_weekly_digest: str = "0 7 * * mon"
    arxiv_oai_url: str = "https://oaipmh.arxiv.org/oai"
    harvest_set: str = ""

    @property
    def db_path(self) -> Path:
        return self.home / "paperfeed.sqlite"

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
        return replace(self, **{k: v for k, v in overrides.items() if v is not None})


def _coerce(name: str, raw: str, default: Any) -> Any:
    try:
        if isinstance(default, bool):
            if raw.lower() in ("1", "true", "yes", "on"):
                return True
            if raw.lower() in ("0", "false", "no", "off"):
                return False
            raise ValueError(raw)
        if isinstance(default, int):
            return int(raw)
        if isinstance(default, float):
            return float(raw)
    except ValueError:
        kind = type(default).__name__
        raise ConfigError(f"PAPERFEED_{name.upper()}={raw!r} is not a valid {kind}") from None
    return raw


def load_settings(environ: dict[str, str] | None = None, **overrides: Any) -> Settings:
    """Defaults, then PAPERFEED_* variables, then `overrides` (e.g. CLI flags)."""
    env = os.environ if environ is None else environ
    declared = {s.name: s for s in SETTINGS}
    assert declared.keys() == {f.name for f in fields(Settings)}, "SETTINGS and Settings drifted"
    values: dict[str, Any] = {}
    for key, raw in env.items():
        if not key.startswith("PAPERFEED_") or key in NOT_SETTINGS:
            continue
        name = key.removeprefix("PAPERFEED_").lower()
        if name not in declared:
            raise ConfigError(f"unknown setting {key}; known: "
                              + ", ".join(f"PAPERFEED_{n.upper()}" for n in declared))
        values[name] = _coerce(name, raw, declared[name].default)
    values.update({k: v for k, v in overrides.items() if v is not None})
    if "home" in values:
        values["home"] = Path(values["home"]).expanduser()
    return Settings(**values)
