"""FIT on its real scales: ORS and SRS as four items of 0–10 (totals 0–40)

Until now a session stored one 1–10 score per instrument. The instruments are four visual-analogue
items of 0–10 each (totals 0–40), so a session now stores the totals, the four item marks (when
they were given), how the citizen answered (items, smileys or only the total) and the scale.

Existing rows: their scores stay exactly as recorded and are marked ``scale = '1-10'``. There is no
faithful conversion from one global 1–10 score to four 0–10 items (multiplying by four would invent
precision and move sessions across the clinical cut-offs), so the API shows them as sessions on the
old scale and leaves them out of the 0–40 trend and the cut-offs. New rows get ``scale = '0-40'``.

Revision ID: 3f0c2a7d9b14
Revises: 0b79f904dd67
Create Date: 2026-12-01 12:00:00

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql


revision: str = '3f0c2a7d9b14'
down_revision: Union[str, Sequence[str], None] = '0b79f904dd67'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    # Every row that exists now was scored on 1–10: the column is added with that default, which
    # fills them, and then gets the default for new rows.
    op.add_column('fit_session', sa.Column('scale', sa.String(length=10), nullable=False, server_default='1-10'))
    op.alter_column('fit_session', 'scale', server_default='0-40')
    op.add_column('fit_session', sa.Column('ors_items', postgresql.JSONB(astext_type=sa.Text()), nullable=True))
    op.add_column('fit_session', sa.Column('srs_items', postgresql.JSONB(astext_type=sa.Text()), nullable=True))
    op.add_column('fit_session', sa.Column('ors_answered_with', sa.String(length=10), nullable=True))
    op.add_column('fit_session', sa.Column('srs_answered_with', sa.String(length=10), nullable=True))
    op.execute("UPDATE fit_session SET ors_answered_with = 'total' WHERE ors IS NOT NULL")
    op.execute("UPDATE fit_session SET srs_answered_with = 'total' WHERE srs IS NOT NULL")


def downgrade() -> None:
    # Sessions on 0–40 do not fit the old 1–10 columns' meaning: refuse rather than mix scales.
    op.execute("DO $$ BEGIN IF EXISTS (SELECT 1 FROM fit_session WHERE scale <> '1-10') THEN "
               "RAISE EXCEPTION 'fit_session holds sessions on the 0-40 scales; a downgrade would mix scales'; "
               "END IF; END $$")
    op.drop_column('fit_session', 'srs_answered_with')
    op.drop_column('fit_session', 'ors_answered_with')
    op.drop_column('fit_session', 'srs_items')
    op.drop_column('fit_session', 'ors_items')
    op.drop_column('fit_session', 'scale')
