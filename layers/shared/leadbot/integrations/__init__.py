"""Adapters to services at the edge of the internet (OpenAI, Airtable) behind small interfaces.

Each adapter imports its SDK on first use, so a function that never calls one never pays for it.
"""
