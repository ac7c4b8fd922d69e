"""contrastkit.viz: matplotlib figures (object API, no pyplot, no global backend)."""
