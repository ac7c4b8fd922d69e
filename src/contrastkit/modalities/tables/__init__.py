"""Tables: scikit-learn's bundled tables, your CSV or Parquet file."""

from contrastkit.modalities.tables.modality import TableModality

__all__ = ["TableModality"]
