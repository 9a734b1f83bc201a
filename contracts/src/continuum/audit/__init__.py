"""Generated from contracts/proto; do not edit."""
