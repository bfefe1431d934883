"""Tests of bot/console/: the mediators' service and the login throttle."""
