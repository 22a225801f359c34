"""irondog.envs"""
