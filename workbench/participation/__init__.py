"""Participation at a glance: a public page of charts per vision (issue 14, item 4), and the counts
per element on the vision page."""
