"""Brochure knowledge: ingestion (PDF into facts, table rows and passages with pages)."""
