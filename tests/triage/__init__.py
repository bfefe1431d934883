"""Tests of bot/triage/: understanding, safety screen, rules, dialogue, quality gates."""
