"""Encore's HTTP face: a JSON API over the catalog and models, and a page for listeners."""
