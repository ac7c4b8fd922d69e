"""contrastkit.encoders"""
