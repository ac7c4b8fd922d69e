"""Images: the bundled digits, image folders, CIFAR, .npy/.npz arrays."""

from contrastkit.modalities.images.modality import ImageModality

__all__ = ["ImageModality"]
