"""The voice menu on the helpline number (issue 16): `menu` runs a call step by step, `calls` keeps its
records, `words` says and hears it."""
