"""contrastkit.train"""
