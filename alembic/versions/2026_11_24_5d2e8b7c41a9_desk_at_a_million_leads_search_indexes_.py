"""Desk at a million leads: search indexes, daily counts, and filter indexes in list order.

Search: a substring of a lead's name, email or reference is found by trigrams, an FTS5 table
(trigram tokenizer, content read from `leads`) on SQLite and pg_trgm GIN indexes on
PostgreSQL. Counts: `lead_counts` holds the leads per day by status, facilitator and country
(and by how long they waited for their first status change, in buckets 1% wide), kept by
triggers on `leads` (and `lead_events`) in the writing transaction (PostgreSQL: at its commit, so that
concurrent submits hold the day's counter rows only for an instant). Filters: each filter's
index ends with (created_at, id), the list's order; unrouted leads get a partial index.

Triggers and the FTS5 table are not in models.py (SQLAlchemy has no words for them): a later
batch migration on `leads` that copies the table on SQLite must create them again.

Revision ID: 5d2e8b7c41a9
Revises: f82e437c27c2
Create Date: 2026-11-24 19:20:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "5d2e8b7c41a9"
down_revision: str | None = "f82e437c27c2"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (old name, new name, columns): the filters' indexes, now ending in the list's order.
FILTER_INDEXES = (
    ("ix_leads_status_created_at", "ix_leads_status_created_at_id", "status"),
    (
        "ix_leads_facilitator_id_created_at",
        "ix_leads_facilitator_id_created_at_id",
        "facilitator_id",
    ),
    ("ix_leads_language_created_at", "ix_leads_language_created_at_id", "language"),
    ("ix_leads_treatment_created_at", "ix_leads_treatment_created_at_id", "treatment"),
)
SEARCHED = ("reference", "email", "full_name")

SQLITE_ADD = """
INSERT INTO lead_counts (day, dimension, value, count)
VALUES (date(new.created_at), '{dimension}', {value}, 1)
ON CONFLICT (dimension, day, value) DO UPDATE SET count = count + 1;"""
SQLITE_REMOVE = """
UPDATE lead_counts SET count = count - 1
WHERE day = date(old.created_at) AND dimension = '{dimension}' AND value = {value};"""

SQLITE_TRIGGERS = """
CREATE TRIGGER leads_ai AFTER INSERT ON leads BEGIN
  INSERT INTO leads_search (rowid, reference, email, full_name)
  VALUES (new.rowid, new.reference, new.email, new.full_name);
  {insert_counts}
END;
CREATE TRIGGER leads_ad AFTER DELETE ON leads BEGIN
  INSERT INTO leads_search (leads_search, rowid, reference, email, full_name)
  VALUES ('delete', old.rowid, old.reference, old.email, old.full_name);
  {delete_counts}
END;
CREATE TRIGGER leads_au_search AFTER UPDATE OF reference, email, full_name ON leads BEGIN
  INSERT INTO leads_search (leads_search, rowid, reference, email, full_name)
  VALUES ('delete', old.rowid, old.reference, old.email, old.full_name);
  INSERT INTO leads_search (rowid, reference, email, full_name)
  VALUES (new.rowid, new.reference, new.email, new.full_name);
END;
CREATE TRIGGER lead_events_first_change AFTER INSERT ON lead_events
WHEN new.kind = 'status_changed' AND NOT EXISTS (
  SELECT 1 FROM lead_events WHERE lead_id = new.lead_id AND kind = 'status_changed' AND id <> new.id
)
BEGIN
  INSERT INTO lead_counts (day, dimension, value, count)
  SELECT date(created_at), 'first_change', {bucket}, 1 FROM (
    SELECT created_at, (julianday(new.created_at) - julianday(created_at)) * 86400 AS wait
    FROM leads WHERE id = new.lead_id
  ) WHERE true
  ON CONFLICT (dimension, day, value) DO UPDATE SET count = count + 1;
END;
CREATE TRIGGER leads_au_counts AFTER UPDATE OF created_at, status, facilitator_id, country ON leads
BEGIN
  {delete_counts}
  {insert_counts}
END;
"""

# One statement, its rows in the primary key's order: two writers lock the counter rows they
# share in the same order, so they wait for one another, never deadlock.
POSTGRESQL_FUNCTION = """
CREATE FUNCTION lead_counts_keep() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN  -- no upsert: emptied first, the counts stay empty
    UPDATE lead_counts SET count = count - 1
    WHERE day = (OLD.created_at AT TIME ZONE 'UTC')::date
      AND (dimension, value) IN (('status', OLD.status),
                                 ('facilitator', coalesce(OLD.facilitator_id::text, '')),
                                 ('country', OLD.country));
    RETURN NULL;
  END IF;
  INSERT INTO lead_counts (day, dimension, value, count)
  SELECT day, dimension, value, sum(delta) FROM (
    SELECT (NEW.created_at AT TIME ZONE 'UTC')::date, 'status', NEW.status, 1
    UNION ALL SELECT (NEW.created_at AT TIME ZONE 'UTC')::date, 'facilitator',
                     coalesce(NEW.facilitator_id::text, ''), 1
    UNION ALL SELECT (NEW.created_at AT TIME ZONE 'UTC')::date, 'country', NEW.country, 1
    UNION ALL SELECT (OLD.created_at AT TIME ZONE 'UTC')::date, 'status', OLD.status, -1
      WHERE TG_OP = 'UPDATE'
    UNION ALL SELECT (OLD.created_at AT TIME ZONE 'UTC')::date, 'facilitator',
                     coalesce(OLD.facilitator_id::text, ''), -1 WHERE TG_OP = 'UPDATE'
    UNION ALL SELECT (OLD.created_at AT TIME ZONE 'UTC')::date, 'country', OLD.country, -1
      WHERE TG_OP = 'UPDATE'
  ) AS deltas (day, dimension, value, delta)
  GROUP BY dimension, day, value HAVING sum(delta) <> 0
  ORDER BY dimension, day, value
  ON CONFLICT (dimension, day, value) DO UPDATE SET count = lead_counts.count + excluded.count;
  RETURN NULL;
END $$;
"""
POSTGRESQL_FIRST_CHANGE = """
CREATE FUNCTION lead_first_change_count() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM lead_events WHERE lead_id = NEW.lead_id
                 AND kind = 'status_changed' AND id <> NEW.id) THEN
    INSERT INTO lead_counts (day, dimension, value, count)
    SELECT (created_at AT TIME ZONE 'UTC')::date, 'first_change', {bucket}, 1 FROM (
      SELECT created_at, extract(epoch FROM NEW.created_at - created_at) AS wait
      FROM leads WHERE id = NEW.lead_id
    ) AS lead
    ON CONFLICT (dimension, day, value) DO UPDATE SET count = lead_counts.count + 1;
  END IF;
  RETURN NULL;
END $$;
"""
POSTGRESQL_FIRST_CHANGE_TRIGGER = (
    "CREATE TRIGGER lead_events_first_change AFTER INSERT ON lead_events FOR EACH ROW "
    "WHEN (NEW.kind = 'status_changed') EXECUTE FUNCTION lead_first_change_count()"
)
# The wait until a lead's first status change, as the number of its bucket: buckets grow by 1%
# (so a median read from them is within 1% of the exact one); -1 holds waits under a second.
BUCKET = "CAST(CASE WHEN wait < 1 THEN -1 ELSE round(ln(wait) / ln(1.01)) END AS INTEGER)"
FILL_FIRST_CHANGES = """
INSERT INTO lead_counts (day, dimension, value, count)
SELECT day, 'first_change', CAST({bucket} AS TEXT), count(*) FROM (
  SELECT {day} AS day, {wait} AS wait
  FROM leads JOIN (
    SELECT lead_id, min(created_at) AS first FROM lead_events
    WHERE kind = 'status_changed' GROUP BY lead_id
  ) AS changes ON changes.lead_id = leads.id
) AS waits GROUP BY 1, 3
"""
# Deferred to the commit: the counter rows of the day are locked for an instant, not for the
# whole submit.
POSTGRESQL_TRIGGERS = (
    "CREATE CONSTRAINT TRIGGER leads_counts_insert_delete AFTER INSERT OR DELETE ON leads "
    "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION lead_counts_keep()",
    "CREATE CONSTRAINT TRIGGER leads_counts_update "
    "AFTER UPDATE OF created_at, status, facilitator_id, country ON leads "
    "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW "
    "WHEN (OLD.created_at IS DISTINCT FROM NEW.created_at OR OLD.status IS DISTINCT FROM "
    "NEW.status OR OLD.facilitator_id IS DISTINCT FROM NEW.facilitator_id OR "
    "OLD.country IS DISTINCT FROM NEW.country) EXECUTE FUNCTION lead_counts_keep()",
)
FILL_COUNTS = """
INSERT INTO lead_counts (day, dimension, value, count)
SELECT {day}, 'status', status, count(*) FROM leads GROUP BY 1, 3
UNION ALL
SELECT {day}, 'facilitator', coalesce({facilitator}, ''), count(*) FROM leads GROUP BY 1, 3
UNION ALL
SELECT {day}, 'country', country, count(*) FROM leads GROUP BY 1, 3
"""


def _sqlite_counts(row: str, statement: str) -> str:
    return "".join(
        statement.format(dimension=dimension, value=value)
        for dimension, value in (
            ("status", f"{row}.status"),
            ("facilitator", f"coalesce(CAST({row}.facilitator_id AS TEXT), '')"),
            ("country", f"{row}.country"),
        )
    )


def upgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    for old, new, column in FILTER_INDEXES:
        op.drop_index(old, table_name="leads")
        op.create_index(new, "leads", [column, "created_at", "id"])
    op.create_index(
        "ix_leads_unrouted_created_at_id",
        "leads",
        ["created_at", "id"],
        sqlite_where=sa.text("facilitator_id IS NULL"),
        postgresql_where=sa.text("facilitator_id IS NULL"),
    )

    op.create_table(
        "lead_counts",
        sa.Column("dimension", sa.String(length=16), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("value", sa.String(length=200), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("dimension", "day", "value", name=op.f("pk_lead_counts")),
    )
    if postgresql:
        op.execute(
            FILL_COUNTS.format(
                day="(created_at AT TIME ZONE 'UTC')::date", facilitator="facilitator_id::text"
            )
        )
        op.execute(
            FILL_FIRST_CHANGES.format(
                bucket=BUCKET,
                day="(leads.created_at AT TIME ZONE 'UTC')::date",
                wait="extract(epoch FROM changes.first - leads.created_at)",
            )
        )
        op.execute(POSTGRESQL_FUNCTION)
        op.execute(POSTGRESQL_FIRST_CHANGE.format(bucket=f"CAST({BUCKET} AS TEXT)"))
        op.execute(POSTGRESQL_FIRST_CHANGE_TRIGGER)
        for trigger in POSTGRESQL_TRIGGERS:
            op.execute(trigger)
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        for column in SEARCHED:
            op.execute(
                f"CREATE INDEX ix_leads_{column}_trigrams ON leads "
                f"USING gin (lower({column}) gin_trgm_ops)"
            )
        return
    op.execute(
        FILL_COUNTS.format(day="date(created_at)", facilitator="CAST(facilitator_id AS TEXT)")
    )
    op.execute(
        FILL_FIRST_CHANGES.format(
            bucket=BUCKET,
            day="date(leads.created_at)",
            wait="(julianday(changes.first) - julianday(leads.created_at)) * 86400",
        )
    )
    op.execute(
        "CREATE VIRTUAL TABLE leads_search USING fts5(reference, email, full_name, "
        "content='leads', tokenize='trigram')"
    )
    op.execute("INSERT INTO leads_search (leads_search) VALUES ('rebuild')")
    triggers = SQLITE_TRIGGERS.format(
        bucket=f"CAST({BUCKET} AS TEXT)",
        insert_counts=_sqlite_counts("new", SQLITE_ADD),
        delete_counts=_sqlite_counts("old", SQLITE_REMOVE),
    )
    for trigger in triggers.split("END;"):
        if trigger.strip():
            op.execute(trigger + "END;")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for column in SEARCHED:
            op.execute(f"DROP INDEX ix_leads_{column}_trigrams")
        for trigger in ("leads_counts_insert_delete", "leads_counts_update"):
            op.execute(f"DROP TRIGGER {trigger} ON leads")
        op.execute("DROP TRIGGER lead_events_first_change ON lead_events")
        op.execute("DROP FUNCTION lead_counts_keep()")
        op.execute("DROP FUNCTION lead_first_change_count()")
    else:
        for trigger in (
            "leads_ai",
            "leads_ad",
            "leads_au_search",
            "leads_au_counts",
            "lead_events_first_change",
        ):
            op.execute(f"DROP TRIGGER {trigger}")
        op.execute("DROP TABLE leads_search")
    op.drop_table("lead_counts")
    op.drop_index("ix_leads_unrouted_created_at_id", table_name="leads")
    for old, new, column in FILTER_INDEXES:
        op.drop_index(new, table_name="leads")
        op.create_index(old, "leads", [column, "created_at"])
