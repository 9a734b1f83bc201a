"""Licensing boards' rules per credential track, as versioned data with their sources.

`model` is the shape of a pack (pure: the supervision and compliance domains read it).
"""
