"""Data for analysts: a vision's proposals, comments, votes and participants as files (issue 14).

`fields` (the one list of tables and fields, and the data packages made from it), `exports` (the
rows of each file, per scope), `views` (the pages, the files, and `flask analysis export`).
"""
