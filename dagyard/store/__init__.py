"""Durable state: `metadata` (runs, tasks, artifacts, lineage... in a SQL database) and
`artifacts` (the bytes, through fsspec). The engine and the service layer use only the
interfaces in `records.py` and `metadata.py`; the SQL implementation lives in `sql/`."""
