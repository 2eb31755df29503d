"""The venue as data: places, how they connect and the schedule (data/venue)."""
