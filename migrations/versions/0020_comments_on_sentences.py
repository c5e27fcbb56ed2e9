"""Comments on a sentence (issue 18, item 3): a reflection may name the element text it was
written on and the character range of the sentence's words in it.

`comments.sentence_text_id` (a foreign key to `element_texts`), `sentence_start`, `sentence_end`:
all three NULL for every existing comment, which stays as it was. As in 0016 and 0017, SQLite gets
the foreign key inline with the new column (a batch copy of the table would rebuild it).

Revision ID: 0020_comments_on_sentences
Revises: 0019_who_wrote_each_word
"""
import sqlalchemy as sa
from alembic import op

revision = "0020_comments_on_sentences"
down_revision = "0019_who_wrote_each_word"
branch_labels = None
depends_on = None

FOREIGN_KEY = "fk_comments_sentence_text_id_element_texts"


def upgrade():
    if op.get_bind().dialect.name == "sqlite":
        op.execute(
            f"ALTER TABLE comments ADD COLUMN sentence_text_id INTEGER "
            f"CONSTRAINT {FOREIGN_KEY} REFERENCES element_texts (id)"
        )
    else:
        op.add_column("comments", sa.Column("sentence_text_id", sa.Integer(), nullable=True))
        op.create_foreign_key(FOREIGN_KEY, "comments", "element_texts", ["sentence_text_id"], ["id"])
    op.add_column("comments", sa.Column("sentence_start", sa.Integer(), nullable=True))
    op.add_column("comments", sa.Column("sentence_end", sa.Integer(), nullable=True))


def downgrade():
    op.drop_column("comments", "sentence_end")
    op.drop_column("comments", "sentence_start")
    if op.get_bind().dialect.name != "sqlite":
        op.drop_constraint(FOREIGN_KEY, "comments", type_="foreignkey")
    op.drop_column("comments", "sentence_text_id")
