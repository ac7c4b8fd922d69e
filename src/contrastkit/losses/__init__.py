"""contrastkit.losses"""
