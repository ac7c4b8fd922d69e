"""contrastkit.serve: building blocks of the REST service (limits, uploads, ids)."""
