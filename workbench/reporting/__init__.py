"""The consultation report of each published version: "We asked, you said, we did"."""
