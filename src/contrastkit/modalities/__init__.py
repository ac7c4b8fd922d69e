"""contrastkit.modalities: one package per modality (docs/architecture.md)."""
