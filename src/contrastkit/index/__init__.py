"""contrastkit.index: nearest-neighbour search over saved embeddings."""
