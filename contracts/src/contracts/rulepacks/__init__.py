"""Licensing boards' rules per credential track, as versioned data with their sources.

`model` is the shape of a pack (pure: the supervision and compliance domains read it); `packs/`
holds one YAML file per track with `sources.md` and `organization.yaml` beside them; `loader`
reads and validates them (I/O: only a service's composition root calls it).
"""
