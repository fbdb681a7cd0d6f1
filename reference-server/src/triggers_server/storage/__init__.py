"""Persistence: the SQLite engine and one module of queries per aggregate."""
