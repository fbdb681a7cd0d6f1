"""Storage ports: what the domain needs from a backend, one module per area, backend-neutral.

Each port is a Protocol of async methods, one method per transaction the domain needs (so a backend can run
it as one SQLite group-commit job or one PostgreSQL transaction), returning frozen records defined next to
it. Nothing here names a backend; `storage/sqlite/` implements every port, and `stores.Stores` bundles them."""
