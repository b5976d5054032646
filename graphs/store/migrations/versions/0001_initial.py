"""The schema of release 0.1 (runs, personas, the event log, derived nodes/edges, annotations, prover cache).

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "run",
        sa.Column("id", sa.String(), primary_key=True),
        sa.Column("topic", sa.Text(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("protocol", sa.String(), nullable=False),
        sa.Column("config_json", sa.Text(), nullable=False),
        sa.Column("config_source", sa.String(), nullable=False),
        sa.Column("seed", sa.Integer(), nullable=False),
        sa.Column("model", sa.String(), nullable=False),
        sa.Column("created", sa.Float(), nullable=False),
        sa.Column("updated", sa.Float(), nullable=False),
        sa.Column("parent_run_id", sa.String(), nullable=True),
        sa.Column("fork_step", sa.Integer(), nullable=True),
        sa.Column("pid", sa.Integer(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("stats_json", sa.Text(), nullable=False),
    )
    op.create_index("ix_run_status", "run", ["status"])
    op.create_index("ix_run_created", "run", ["created"])
    op.create_index("ix_run_parent_run_id", "run", ["parent_run_id"])
    op.create_table(
        "persona",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("run_id", sa.String(), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("discipline", sa.String(), nullable=False),
        sa.Column("roles", sa.String(), nullable=False),
        sa.Column("card_json", sa.Text(), nullable=False),
        sa.UniqueConstraint("run_id", "name"),
    )
    op.create_index("ix_persona_run_id", "persona", ["run_id"])
    op.create_table(
        "event",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("run_id", sa.String(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("phase", sa.String(), nullable=False),
        sa.Column("persona", sa.String(), nullable=False),
        sa.Column("superstep", sa.Integer(), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("ts", sa.Float(), nullable=False),
        sa.UniqueConstraint("run_id", "key"),
    )
    op.create_index("ix_event_run_seq", "event", ["run_id", "seq"])
    op.create_table(
        "node",
        sa.Column("run_id", sa.String(), primary_key=True),
        sa.Column("id", sa.String(), primary_key=True),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("persona", sa.String(), nullable=False),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("data_json", sa.Text(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
    )
    op.create_index("ix_node_run_kind", "node", ["run_id", "kind"])
    op.create_table(
        "edge",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("run_id", sa.String(), nullable=False),
        sa.Column("src", sa.String(), nullable=False),
        sa.Column("dst", sa.String(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.UniqueConstraint("run_id", "src", "dst", "kind"),
    )
    op.create_index("ix_edge_run", "edge", ["run_id"])
    op.create_table(
        "annotation",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("run_id", sa.String(), nullable=False),
        sa.Column("node_id", sa.String(), nullable=False),
        sa.Column("author", sa.String(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("verdict", sa.String(), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created", sa.Float(), nullable=False),
    )
    op.create_index("ix_annotation_run_id", "annotation", ["run_id"])
    op.create_table(
        "proverresult",
        sa.Column("key", sa.String(), primary_key=True),
        sa.Column("prover", sa.String(), nullable=False),
        sa.Column("verdict", sa.String(), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("counterexample_json", sa.Text(), nullable=True),
        sa.Column("created", sa.Float(), nullable=False),
    )


def downgrade() -> None:
    for table in ("proverresult", "annotation", "edge", "node", "event", "persona", "run"):
        op.drop_table(table)
