"""The language between Continuum's services: event schemas and topics.

The gRPC APIs are generated into the package `continuum` from contracts/proto.
"""
