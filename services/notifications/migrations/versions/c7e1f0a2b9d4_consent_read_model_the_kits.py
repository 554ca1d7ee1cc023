"""the consent read model is the kit's (tovholder.consent_read_model), as in health and referrals

Notifications kept its own copy of plans' consents (table ``consent``, a text ``id``). It is now the
table every consuming service keeps: ``consent_record``, keyed by the UUID ``consent_id`` that plans'
events carry. The rows stay; only names and the key's type change.

Revision ID: c7e1f0a2b9d4
Revises: 5d2e8c0a7f41
Create Date: 2026-12-02 06:20:00

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = 'c7e1f0a2b9d4'
down_revision: Union[str, Sequence[str], None] = '5d2e8c0a7f41'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.rename_table('consent', 'consent_record')
    op.execute('ALTER INDEX ix_consent_citizen_id RENAME TO ix_consent_record_citizen_id')
    op.execute('ALTER TABLE consent_record RENAME CONSTRAINT pk_consent TO pk_consent_record')
    op.alter_column('consent_record', 'id', new_column_name='consent_id', type_=sa.UUID(),
                    existing_type=sa.String(length=100), postgresql_using='id::uuid')
    op.alter_column('consent_record', 'category', type_=sa.String(length=30), existing_type=sa.String(length=40))


def downgrade() -> None:
    op.alter_column('consent_record', 'category', type_=sa.String(length=40), existing_type=sa.String(length=30))
    op.alter_column('consent_record', 'consent_id', new_column_name='id', type_=sa.String(length=100),
                    existing_type=sa.UUID(), postgresql_using='consent_id::text')
    op.execute('ALTER TABLE consent_record RENAME CONSTRAINT pk_consent_record TO pk_consent')
    op.execute('ALTER INDEX ix_consent_record_citizen_id RENAME TO ix_consent_citizen_id')
    op.rename_table('consent_record', 'consent')
