"""Brochure knowledge: ingestion, retrieval and answers with page citations (see the modules)."""
