"""contrastkit.methods"""
