"""contrastkit.report: the self-contained HTML page of a run."""
