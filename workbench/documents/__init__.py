"""Word and PDF documents: each published version to read offline, and comparisons with tracked changes."""
