"""irondog.agents"""
