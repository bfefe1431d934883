"""One file per revision; Alembic skips this one."""
