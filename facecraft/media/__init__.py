"""Reading and writing photos and videos (streamed, never whole in memory)."""
