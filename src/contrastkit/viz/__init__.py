"""contrastkit.viz"""
