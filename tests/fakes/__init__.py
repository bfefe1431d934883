"""Fake external servers for tests (real HTTP on 127.0.0.1)."""

# serve_forever() checks for shutdown every poll interval (0.5 s by default), and shutdown() waits for that
# check: with hundreds of fake servers stopped in the unit run, the default cost half a second each.
POLL_SECONDS = 0.02
