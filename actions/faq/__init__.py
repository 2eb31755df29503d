"""FAQ engine: semantic search over the FAQ knowledge base, with its own command line."""
