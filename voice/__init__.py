"""irondog.voice"""
