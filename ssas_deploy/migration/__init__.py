"""Tier migration: move a running school's data to another profile's hosts, verified."""
