"""contrastkit.heads"""
