"""The venue as data: places, how they connect, the kiosks' places and the schedule (data/venue)."""
