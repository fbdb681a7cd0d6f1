"""The PostgreSQL backend (asyncpg): every storage port over one pool; `backend.PgBackend` bundles them."""
