"""Xet: the CAS that the official client uploads to and downloads from (see `hubstead.xet`)."""
