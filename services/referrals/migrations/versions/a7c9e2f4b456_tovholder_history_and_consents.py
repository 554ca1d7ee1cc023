"""the history of tovholder choices (EpisodeOfCare.careManager in force at the episode's end) and the
citizen's consents (who may read the Patient), both from events

Revision ID: a7c9e2f4b456
Revises: f5a8c6e1b345
Create Date: 2026-12-01 21:40:00

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = 'a7c9e2f4b456'
down_revision: Union[str, Sequence[str], None] = 'f5a8c6e1b345'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table('tovholder_choice',
    sa.Column('event_id', sa.String(length=100), nullable=False),
    sa.Column('citizen_id', sa.UUID(), nullable=False),
    sa.Column('nurse_consultant_sub', sa.String(length=200), nullable=False),
    sa.Column('nurse_consultant_name', sa.String(length=200), nullable=True),
    sa.Column('botilbud_id', sa.String(length=100), nullable=False),
    sa.Column('chosen_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('event_id', name=op.f('pk_tovholder_choice'))
    )
    op.create_index('ix_tovholder_choice_citizen_chosen_at', 'tovholder_choice', ['citizen_id', 'chosen_at'], unique=False)
    # The choices already kept (only the current one was): the start of each citizen's history.
    op.execute("INSERT INTO tovholder_choice (event_id, citizen_id, nurse_consultant_sub, nurse_consultant_name, "
               "botilbud_id, chosen_at) SELECT event_id, citizen_id, nurse_consultant_sub, nurse_consultant_name, "
               "botilbud_id, chosen_at FROM citizen_tovholder ON CONFLICT DO NOTHING")
    op.create_table('consent_record',
    sa.Column('consent_id', sa.UUID(), nullable=False),
    sa.Column('citizen_id', sa.UUID(), nullable=False),
    sa.Column('recipient_kind', sa.String(length=20), nullable=False),
    sa.Column('recipient_id', sa.String(length=200), nullable=False),
    sa.Column('category', sa.String(length=30), nullable=False),
    sa.Column('given_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('consent_id', name=op.f('pk_consent_record'))
    )
    op.create_index(op.f('ix_consent_record_citizen_id'), 'consent_record', ['citizen_id'], unique=False)
    op.create_index('ix_consent_record_recipient', 'consent_record', ['recipient_kind', 'recipient_id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_consent_record_recipient', table_name='consent_record')
    op.drop_index(op.f('ix_consent_record_citizen_id'), table_name='consent_record')
    op.drop_table('consent_record')
    op.drop_index('ix_tovholder_choice_citizen_chosen_at', table_name='tovholder_choice')
    op.drop_table('tovholder_choice')
