"""contrastkit.export: encoders to ONNX (parity checked), int8 quantisation, the
preprocessing written beside the model, and a sentence-transformers folder for text."""
