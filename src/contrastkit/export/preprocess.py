"""The preprocessing records of an exported model (`preprocess.json`).

Defined in `contrastkit.data.preprocess` (a building block, so that each modality can say
how its inputs are prepared, `Modality.export_spec`); re-exported here for the
application's export code.
"""

from contrastkit.data.preprocess import (
    FORMAT,
    KINDS,
    PREPROCESS_FILE,
    AudioPreprocess,
    CategoricalColumn,
    CharPreprocess,
    ImagePreprocess,
    NumericColumn,
    Preprocess,
    TablePreprocess,
    TokenizerPreprocess,
    fit_table_preprocess,
    from_json,
    read_preprocess,
    to_json,
    write_preprocess,
)

__all__ = [
    "FORMAT",
    "KINDS",
    "PREPROCESS_FILE",
    "AudioPreprocess",
    "CategoricalColumn",
    "CharPreprocess",
    "ImagePreprocess",
    "NumericColumn",
    "Preprocess",
    "TablePreprocess",
    "TokenizerPreprocess",
    "fit_table_preprocess",
    "from_json",
    "read_preprocess",
    "to_json",
    "write_preprocess",
]
