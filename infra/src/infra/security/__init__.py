"""Who is calling and what they may do: signed bearer tokens verified against an identity
provider's published keys, and one declarative policy of which roles may call which RPC."""
