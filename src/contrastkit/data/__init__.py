"""contrastkit.data"""
