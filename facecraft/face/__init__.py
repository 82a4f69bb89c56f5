"""Face analysis building blocks: detection, mesh, alignment, identity, quality, tracking."""
