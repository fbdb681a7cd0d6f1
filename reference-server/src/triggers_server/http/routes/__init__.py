"""HTTP routes, one module per resource; each exposes `router` (paths without the `/v1` prefix)."""
