-- Papers: one row per paper, whatever number of versions and sources it came from.
CREATE TABLE papers (
    rowid INTEGER PRIMARY KEY,            -- internal key, also the key in the index files
    id TEXT NOT NULL UNIQUE,              -- public id: arXiv id, or 'pf-<hash>' for papers without one
    arxiv_id TEXT UNIQUE,
    doi TEXT,
    title TEXT NOT NULL,
    title_key TEXT NOT NULL,              -- models.title_key(title): matching across sources
    abstract TEXT NOT NULL DEFAULT '',
    authors TEXT NOT NULL DEFAULT '[]',   -- JSON array of names
    categories TEXT NOT NULL DEFAULT '',  -- space separated, primary first
    published TEXT,                       -- YYYY-MM-DD, first version
    updated TEXT,                         -- YYYY-MM-DD, latest version seen
    version INTEGER,
    links TEXT NOT NULL DEFAULT '{}',     -- JSON object: abs, pdf, code, ...
    content_hash TEXT NOT NULL,           -- hash of the indexed fields: re-index only on change
    seq INTEGER NOT NULL,                 -- bumped on every insert/change; the indexer follows it
    added_at TEXT NOT NULL                -- ISO timestamp, first seen by this deployment
);
CREATE INDEX papers_title_key ON papers (title_key);
CREATE INDEX papers_doi ON papers (doi) WHERE doi IS NOT NULL;
CREATE INDEX papers_published ON papers (published, rowid);
CREATE INDEX papers_seq ON papers (seq);

-- Category membership, for filters (papers.categories keeps the display order).
CREATE TABLE paper_categories (
    category TEXT NOT NULL,
    paper_rowid INTEGER NOT NULL REFERENCES papers (rowid) ON DELETE CASCADE,
    PRIMARY KEY (category, paper_rowid)
) WITHOUT ROWID;
CREATE INDEX paper_categories_paper ON paper_categories (paper_rowid);

-- Where each paper was seen: provenance, and the rank on a ranked page capture.
CREATE TABLE paper_sources (
    paper_rowid INTEGER NOT NULL REFERENCES papers (rowid) ON DELETE CASCADE,
    source TEXT NOT NULL,
    ref TEXT NOT NULL,
    rank INTEGER,
    seen_at TEXT NOT NULL,
    PRIMARY KEY (paper_rowid, source, ref)
) WITHOUT ROWID;

-- Resumable harvests: the cursor of each (source, set) after its last completed page.
CREATE TABLE harvest_state (
    name TEXT PRIMARY KEY,
    resumption_token TEXT,
    from_date TEXT,
    pages INTEGER NOT NULL DEFAULT 0,
    records INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    updated_at TEXT NOT NULL
);
