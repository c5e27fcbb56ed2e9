"""Search (issue 14, item 3): a vision's proposals, comments, reflections and aligned work, found by
their words with the database's own full-text engine, ranked, with the matches highlighted."""
