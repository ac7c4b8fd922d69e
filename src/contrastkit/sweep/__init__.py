"""`contrastkit sweep`: one run per point of a grid of config values, resumable, with a
table, heat maps and the best point (docs/sweep.md)."""
