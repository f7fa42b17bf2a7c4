"""The store's tables, as SQLAlchemy Core metadata.

The migration history in `migrations/` creates exactly these tables on every engine; a test
compares the two. Keys are natural keys or content hashes, never autoincrement integers
(DuckDB has no SERIAL).
"""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

#: Every file ever received, byte for byte, under its SHA-256 ("nothing lost").
raw_files = sa.Table(
    "raw_files",
    metadata,
    sa.Column("file_hash", sa.String(64), primary_key=True),
    sa.Column("file_name", sa.Text, nullable=False),
    sa.Column("size_bytes", sa.BigInteger, nullable=False),
    sa.Column("content", sa.LargeBinary, nullable=False),
    sa.Column("received_at", sa.DateTime, nullable=False),
    # How ``content`` is stored: NULL as received, ``lz4`` as an LZ4 frame of it (`raw_content`).
    sa.Column("content_codec", sa.Text, nullable=True),
)

#: One row per imported release or submission version. ``scope`` is what the submission
#: covers (``global`` for a GLOTIP release, a country's ISO3 for a national file); among the
#: submissions of one source and scope, the newest vintage is current.
submissions = sa.Table(
    "submissions",
    metadata,
    sa.Column("id", sa.String(40), primary_key=True),
    sa.Column("source", sa.Text, nullable=False),
    sa.Column("scope", sa.Text, nullable=False),
    sa.Column("vintage", sa.Date, nullable=False),
    sa.Column("file_hash", sa.String(64), nullable=False),
    sa.Column("format", sa.Text, nullable=False),
    sa.Column("imported_at", sa.DateTime, nullable=False),
    sa.Column("rows_read", sa.Integer, nullable=False),
    sa.Column("rows_stored", sa.Integer, nullable=False),
    sa.Column("report", sa.Text, nullable=False),  # the import report, as JSON
    sa.UniqueConstraint("source", "file_hash", name="uq_submissions_source_file"),
)

#: The tidy cube. One row per figure; breakdowns are ``total`` where not broken down.
observations = sa.Table(
    "observations",
    metadata,
    sa.Column("submission_id", sa.String(40), nullable=False),
    sa.Column("seq", sa.Integer, nullable=False),
    sa.Column("area", sa.Text, nullable=False),
    sa.Column("area_kind", sa.Text, nullable=False),
    sa.Column("year", sa.Integer, nullable=False),
    sa.Column("indicator", sa.Text, nullable=False),
    sa.Column("sex", sa.Text, nullable=False),
    sa.Column("age", sa.Text, nullable=False),
    sa.Column("form", sa.Text, nullable=False),
    sa.Column("citizenship", sa.Text, nullable=False),
    sa.Column("repatriated_to", sa.Text, nullable=False),
    sa.Column("label", sa.Text, nullable=False),  # the source's own category text, if any
    sa.Column("rank", sa.Integer, nullable=False),  # order among rows the source labels alike
    sa.Column("value", sa.Float, nullable=True),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("unit", sa.Text, nullable=False),
    sa.Column("legal_basis", sa.Text, nullable=True),
    sa.Column("sheet", sa.Text, nullable=False),
    sa.Column("line", sa.Integer, nullable=False),
    sa.PrimaryKeyConstraint("submission_id", "seq", name="pk_observations"),
)

#: Columns that identify one figure across releases: a revision is the same key with another
#: value or status in a newer vintage.
FIGURE_KEY = (
    "area",
    "year",
    "indicator",
    "sex",
    "age",
    "form",
    "citizenship",
    "repatriated_to",
    "label",
    "rank",
)

OBSERVATION_COLUMNS = tuple(c.name for c in observations.columns)

#: Value statuses. ``below_threshold`` is GLOTIP's ``<5``: a count from 1 to 4, never a number.
STATUSES = ("reported", "below_threshold", "computed", "estimated", "missing", "suppressed")


# --- Case-level microdata (the submission template; see reference/data/casefile/) ----------
# Every row keeps its submission and its line in the file; identifiers are the country's own
# pseudonymous references, never names. The keys of the data package (case_ref; person_ref and
# case_ref; …, within a submission) are enforced by the validation catalogue before anything is
# stored, not by database constraints: an index over millions of text keys would double the
# cost of storing a submission and check nothing the catalogue has not.

cases = sa.Table(
    "cases",
    metadata,
    sa.Column("submission_id", sa.String(40), nullable=False),
    sa.Column("case_ref", sa.Text, nullable=False),
    sa.Column("country", sa.String(3), nullable=False),
    sa.Column("opened_on", sa.Date, nullable=False),
    sa.Column("offence", sa.Text, nullable=True),
    sa.Column("form", sa.Text, nullable=True),
    sa.Column("cross_border", sa.Boolean, nullable=True),
    sa.Column("line", sa.Integer, nullable=False),
)

persons = sa.Table(
    "persons",
    metadata,
    sa.Column("submission_id", sa.String(40), nullable=False),
    sa.Column("person_ref", sa.Text, nullable=False),
    sa.Column("case_ref", sa.Text, nullable=False),
    sa.Column("role", sa.Text, nullable=False),
    sa.Column("sex", sa.Text, nullable=False),
    sa.Column("age", sa.Integer, nullable=True),
    sa.Column("age_group", sa.Text, nullable=False),  # given, or derived from age
    sa.Column("citizenship", sa.Text, nullable=False),
    sa.Column("line", sa.Integer, nullable=False),
)

proceedings = sa.Table(
    "proceedings",
    metadata,
    sa.Column("submission_id", sa.String(40), nullable=False),
    sa.Column("person_ref", sa.Text, nullable=False),
    sa.Column("case_ref", sa.Text, nullable=False),
    sa.Column("event", sa.Text, nullable=False),
    sa.Column("event_date", sa.Date, nullable=False),
    sa.Column("outcome", sa.Text, nullable=True),
    sa.Column("sentence_months", sa.Float, nullable=True),
    sa.Column("fine", sa.Float, nullable=True),
    sa.Column("assets_confiscated", sa.Float, nullable=True),
    sa.Column("line", sa.Integer, nullable=False),
)

services = sa.Table(
    "services",
    metadata,
    sa.Column("submission_id", sa.String(40), nullable=False),
    sa.Column("person_ref", sa.Text, nullable=False),
    sa.Column("case_ref", sa.Text, nullable=False),
    sa.Column("service", sa.Text, nullable=False),
    sa.Column("service_date", sa.Date, nullable=False),
    sa.Column("provider", sa.Text, nullable=True),
    sa.Column("amount", sa.Float, nullable=True),
    sa.Column("line", sa.Integer, nullable=False),
)

cooperation_requests = sa.Table(
    "cooperation_requests",
    metadata,
    sa.Column("submission_id", sa.String(40), nullable=False),
    sa.Column("request_ref", sa.Text, nullable=False),
    sa.Column("case_ref", sa.Text, nullable=True),
    sa.Column("type", sa.Text, nullable=False),
    sa.Column("requesting_country", sa.String(3), nullable=False),
    sa.Column("requested_country", sa.String(3), nullable=False),
    sa.Column("sent_on", sa.Date, nullable=False),
    sa.Column("received_on", sa.Date, nullable=True),
    sa.Column("executed_on", sa.Date, nullable=True),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("refusal_grounds", sa.Text, nullable=True),
    sa.Column("line", sa.Integer, nullable=False),
)

MICRODATA = (cases, persons, proceedings, services, cooperation_requests)


# --- Victim records and external assessments (real-world sources) --------------------------

#: One row per victim record of a victim-level source (CTDC's global dataset and the like): the
#: record as the source gives it, harmonised to tipwatch's codes. ``citizenship`` and
#: ``exploitation_country`` are ISO3, ``unknown`` when the source says it is not known (CTDC's
#: ``0``), NULL when the source has no value (CTDC's ``-99`` or an empty cell). ``age_broad`` is
#: the source's age band as written (CTDC's ``9--17``); ``age_group`` is child, adult or unknown.
#: The three exploitation flags are NULL when the source leaves them empty; ``forms`` lists the
#: tipwatch codes of every form the record names, separated by ``;``.
victim_records = sa.Table(
    "victim_records",
    metadata,
    sa.Column("submission_id", sa.String(40), nullable=False),
    sa.Column("record_ref", sa.Text, nullable=False),
    sa.Column("year", sa.Integer, nullable=True),
    sa.Column("sex", sa.Text, nullable=False),
    sa.Column("age_broad", sa.Text, nullable=True),
    sa.Column("age_group", sa.Text, nullable=False),
    sa.Column("citizenship", sa.Text, nullable=True),
    sa.Column("exploitation_country", sa.Text, nullable=True),
    sa.Column("forced_labour", sa.Boolean, nullable=True),
    sa.Column("sexual_exploitation", sa.Boolean, nullable=True),
    sa.Column("other_exploitation", sa.Boolean, nullable=True),
    sa.Column("forms", sa.Text, nullable=True),
    sa.Column("line", sa.Integer, nullable=False),
)

#: External assessments of a country, one row per series, country and year: the US TIP
#: Report's tier placements (series ``us_tip_tier``, year = report year, value ``1``, ``2``,
#: ``2WL``, ``3`` or ``special``, rank 1 / 2 / 2.5 / 3 for charts; a country the report did
#: not rank has no row). An assessment is not a figure of the cube: it is shown beside it.
assessments = sa.Table(
    "assessments",
    metadata,
    sa.Column("submission_id", sa.String(40), nullable=False),
    sa.Column("series", sa.Text, nullable=False),
    sa.Column("country", sa.String(3), nullable=False),
    sa.Column("year", sa.Integer, nullable=False),
    sa.Column("value", sa.Text, nullable=True),
    sa.Column("rank", sa.Float, nullable=True),
    sa.Column("note", sa.Text, nullable=True),
    sa.Column("line", sa.Integer, nullable=False),
)


# --- The web application (`tipwatch serve`): people, sessions, the submission workflow ------
# Identifiers are random (``secrets.token_hex``) or content hashes; the audit log is ordered by
# its time and then its id. Secrets (passwords, session and API tokens) are never stored as
# given: passwords as argon2 hashes, tokens as their SHA-256.

#: Roles: ``focal_point`` and ``approver`` (each for one ``country``), ``analyst``, ``admin``.
users = sa.Table(
    "users",
    metadata,
    sa.Column("username", sa.String(64), primary_key=True),
    sa.Column("password_hash", sa.Text, nullable=False),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("country", sa.String(3), nullable=True),
    sa.Column("active", sa.Boolean, nullable=False),
    sa.Column("created_at", sa.DateTime, nullable=False),
)

#: A signed-in browser: the SHA-256 of its cookie, and the CSRF token its forms must send back.
web_sessions = sa.Table(
    "web_sessions",
    metadata,
    sa.Column("token_hash", sa.String(64), primary_key=True),
    sa.Column("username", sa.String(64), nullable=False),
    sa.Column("csrf_token", sa.String(64), nullable=False),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("expires_at", sa.DateTime, nullable=False),
)

#: A token for machine submission (``Authorization: Bearer …``), shown once when created.
api_tokens = sa.Table(
    "api_tokens",
    metadata,
    sa.Column("token_hash", sa.String(64), primary_key=True),
    sa.Column("username", sa.String(64), nullable=False),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("revoked", sa.Boolean, nullable=False),
    sa.Column("expires_at", sa.DateTime, nullable=True),  # NULL: until revoked
)

#: Every file uploaded through the web application, valid or not, and where it stands:
#: ``invalid`` → (a corrected upload) … ``valid`` → ``submitted`` → ``approved`` → ``accepted``
#: (imported into the store; the country's years it covers are locked) → ``published``; or
#: ``returned`` by the approver or the analyst, ``superseded`` by a newer upload. The bytes are
#: in ``raw_files``; ``report`` is the validation report as JSON; ``submission_id`` the store's
#: submission once accepted; ``restates`` the accepted upload a restatement replaces.
uploads = sa.Table(
    "uploads",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("country", sa.String(3), nullable=False),
    sa.Column("file_hash", sa.String(64), nullable=False),
    sa.Column("file_name", sa.Text, nullable=False),
    sa.Column("format", sa.Text, nullable=True),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("problems", sa.Integer, nullable=False),
    sa.Column("report", sa.Text, nullable=False),
    sa.Column("uploaded_by", sa.String(64), nullable=False),
    sa.Column("uploaded_at", sa.DateTime, nullable=False),
    sa.Column("updated_at", sa.DateTime, nullable=False),
    sa.Column("submission_id", sa.String(40), nullable=True),
    sa.Column("restates", sa.String(32), nullable=True),
    sa.Column("note", sa.Text, nullable=True),
)

#: Logins, uploads, decisions, microdata views and exports: who, when, what, from where.
audit_log = sa.Table(
    "audit_log",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("logged_at", sa.DateTime, nullable=False),
    sa.Column("username", sa.String(64), nullable=True),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("action", sa.String(32), nullable=False),
    sa.Column("target", sa.Text, nullable=True),
    sa.Column("detail", sa.Text, nullable=True),
    sa.Column("client", sa.Text, nullable=True),
)

#: What the public sees: the dashboard's figures as the privacy layer released them for the
#: public at the moment of publication (``payload``, JSON), and the report built then.
publications = sa.Table(
    "publications",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("published_at", sa.DateTime, nullable=False),
    sa.Column("published_by", sa.String(64), nullable=False),
    sa.Column("region", sa.Text, nullable=False),
    sa.Column("first_year", sa.Integer, nullable=False),
    sa.Column("last_year", sa.Integer, nullable=False),
    sa.Column("payload", sa.Text, nullable=False),
    sa.Column("report_state", sa.String(16), nullable=False),  # building, ready, failed
    sa.Column("report_html", sa.LargeBinary, nullable=True),
    sa.Column("report_pdf", sa.LargeBinary, nullable=True),
)

WEB = (users, web_sessions, api_tokens, uploads, audit_log, publications)
