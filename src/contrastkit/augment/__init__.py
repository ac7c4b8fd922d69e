"""contrastkit.augment"""
