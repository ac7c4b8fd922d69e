"""contrastkit.eval"""
