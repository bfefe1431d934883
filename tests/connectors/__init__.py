"""Tests of connectors/: the channels over HTTP, rate limits, the staff pages' templates."""
