"""Coding responses (issue 14, item 2): a codebook of tags per vision, which facilitators create,
rename and merge, and put on proposals, comments and reflections to count and find them. Tags are
the facilitators' own working notes: they appear only on facilitators' pages and in the
facilitators' exports, never on a public page or in a public file, except the tags a facilitator
publishes as themes: their names and counts appear in the public consultation reports."""
