"""Domain records and enums: plain values every server layer may use, by noun."""
