"""receipts keyed by sender organisation and message_id

A message_id is unique per sender organisation (the contract's "Receipts"): the primary key of
inbound_message becomes (sender_org, message_id), so another organisation's message with the same
id neither finds nor collides with this one. Autogenerate does not see primary-key changes; the
key change below is written by hand. Rows without a sender (none are written; partner tokens always
name an organisation) get the empty organisation so the column can be part of the key.

Revision ID: 7a46b9e89848
Revises: 4ecaef097f2b
Create Date: 2026-12-01 08:39:25.118201

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '7a46b9e89848'
down_revision: Union[str, Sequence[str], None] = '4ecaef097f2b'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.execute("UPDATE inbound_message SET sender_org = '' WHERE sender_org IS NULL")
    op.alter_column('inbound_message', 'sender_org',
               existing_type=sa.VARCHAR(length=200),
               nullable=False)
    op.drop_constraint('pk_inbound_message', 'inbound_message', type_='primary')
    op.create_primary_key('pk_inbound_message', 'inbound_message', ['sender_org', 'message_id'])


def downgrade() -> None:
    # Fails if two organisations have used the same message_id since the upgrade (as it should:
    # the old key cannot hold both receipts).
    op.drop_constraint('pk_inbound_message', 'inbound_message', type_='primary')
    op.create_primary_key('pk_inbound_message', 'inbound_message', ['message_id'])
    op.alter_column('inbound_message', 'sender_org',
               existing_type=sa.VARCHAR(length=200),
               nullable=True)
