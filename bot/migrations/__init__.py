"""Alembic's scripts for our tables: env.py, the revision template and versions/ (see README, "Schema changes")."""
