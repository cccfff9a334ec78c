"""Retrieval eval of the knowledge search: labelled staff questions over the demo articles."""
